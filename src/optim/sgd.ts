/** SGD with momentum, dampening, Nesterov, weight decay and maximize (torch.optim.SGD), one fused kernel per parameter. */
import { checkOptions } from '../options.js';
import { check } from '../errors.js';
import { native } from '../native.js';
import { bumpVersion } from '../ops/inplace.js';
import type { Tensor } from '../tensor.js';
import { type BaseOptions, type Closure, Optimizer, type ParamGroup, type ParamGroupInput } from './optimizer.js';

export interface SGDOptions extends BaseOptions {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Tensor[] | ParamGroupInput<SGDOptions>[], options: Partial<SGDOptions> = {}) {
    checkOptions(options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'maximize'], 'SGD');
    check(options.lr !== undefined || !Array.isArray(params) || params.every((g) => 'params' in g && 'lr' in g),
      'lr: SGD needs a learning rate (options.lr or in every parameter group)');
    super(params, { lr: NaN, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, maximize: false, ...options });
    this.paramShapedState = ['momentumBuffer'];
  }

  protected override validateGroup(group: ParamGroup<SGDOptions>): void {
    super.validateGroup(group);
    check(!group.nesterov || (group.momentum > 0 && group.dampening === 0),
      'nesterov: needs momentum > 0 and dampening = 0');
  }

  step(closure?: Closure): Tensor | number | undefined {
    const loss = closure ? closure() : undefined;
    this.update(() => {
      for (const group of this.paramGroups) {
        const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
        for (const p of group.params) {
          const g = this.gradOf(p);
          if (g === null) continue;
          let buf: Tensor | null = null;
          let first = false;
          if (momentum !== 0) {
            const s = this.stateOf(p);
            if (!s.momentumBuffer) {
              s.momentumBuffer = this.stateLike(p);
              first = true;
            }
            buf = s.momentumBuffer as Tensor;
          }
          this.stepFloat32(p, g, (p, g) => native.sgdStep(p.storage.handle, p.offset, g.storage.handle, g.offset,
            buf ? buf.storage.handle : null, buf ? buf.offset : 0, p.numel, lr, momentum, dampening, weightDecay, nesterov, first, maximize));
          bumpVersion(p);
        }
      }
    });
    return loss;
  }
}
