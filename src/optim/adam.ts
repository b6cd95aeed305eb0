/** Adam and AdamW (torch.optim.Adam / AdamW), one fused kernel per parameter; step counted per parameter. */
import { checkOptions } from '../options.js';
import { check } from '../errors.js';
import { native } from '../native.js';
import { bumpVersion } from '../ops/inplace.js';
import type { Tensor } from '../tensor.js';
import { type BaseOptions, type Closure, Optimizer, type ParamGroupInput } from './optimizer.js';

export interface AdamOptions extends BaseOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

const ADAM_KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'];
const adamDefaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };

class AdamBase extends Optimizer<AdamOptions> {
  /** AdamW decays the weights directly instead of adding weightDecay * p to the gradient. */
  private readonly decoupled: boolean;

  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], defaults: AdamOptions, decoupled: boolean) {
    super(params, defaults);
    this.decoupled = decoupled;
    this.paramShapedState = ['expAvg', 'expAvgSq', 'maxExpAvgSq'];
  }

  step(closure?: Closure): Tensor | number | undefined {
    const loss = closure ? closure() : undefined;
    this.update(() => {
      for (const group of this.paramGroups) {
        const { lr, betas, eps, weightDecay, amsgrad, maximize } = group;
        for (const p of group.params) {
          const g = this.gradOf(p);
          if (g === null) continue;
          const s = this.stateOf(p);
          if (s.step === undefined) {
            s.step = 0;
            s.expAvg = this.stateLike(p);
            s.expAvgSq = this.stateLike(p);
          }
          if (amsgrad && !s.maxExpAvgSq) s.maxExpAvgSq = this.stateLike(p);
          s.step = (s.step as number) + 1;
          const m = s.expAvg as Tensor, v = s.expAvgSq as Tensor, vMax = amsgrad ? (s.maxExpAvgSq as Tensor) : null;
          this.stepFloat32(p, g, (p, g) => native.adamStep(p.storage.handle, p.offset, g.storage.handle, g.offset,
            m.storage.handle, m.offset, v.storage.handle, v.offset, vMax ? vMax.storage.handle : null, vMax ? vMax.offset : 0,
            p.numel, lr, betas[0], betas[1], eps, weightDecay, s.step as number, this.decoupled, amsgrad, maximize));
          bumpVersion(p);
        }
      }
    });
    return loss;
  }
}

export class Adam extends AdamBase {
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    check(options !== null && typeof options === 'object', 'options: expected an object');
    checkOptions(options, ADAM_KEYS, 'Adam');
    super(params, { ...adamDefaults, ...options }, false);
  }
}

export class AdamW extends AdamBase {
  constructor(params: Tensor[] | ParamGroupInput<AdamOptions>[], options: Partial<AdamOptions> = {}) {
    check(options !== null && typeof options === 'object', 'options: expected an object');
    checkOptions(options, ADAM_KEYS, 'AdamW');
    super(params, { ...adamDefaults, weightDecay: 1e-2, ...options }, true);
  }
}
