/** RMSprop, plain, centered and with momentum (torch.optim.RMSprop), composed from in-place tensor ops. */
import { checkOptions } from '../options.js';
import type { Tensor } from '../tensor.js';
import { type BaseOptions, type Closure, Optimizer, type ParamGroupInput } from './optimizer.js';

export interface RMSpropOptions extends BaseOptions {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Tensor[] | ParamGroupInput<RMSpropOptions>[], options: Partial<RMSpropOptions> = {}) {
    checkOptions(options, ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'], 'RMSprop');
    super(params, { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...options });
    this.paramShapedState = ['squareAvg', 'momentumBuffer', 'gradAvg'];
  }

  step(closure?: Closure): Tensor | number | undefined {
    const loss = closure ? closure() : undefined;
    this.update(() => {
      for (const group of this.paramGroups) {
        const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
        for (const p of group.params) {
          let g = this.gradOf(p);
          if (g === null) continue;
          const s = this.stateOf(p);
          if (s.step === undefined) {
            s.step = 0;
            s.squareAvg = this.stateLike(p);
          }
          if (momentum > 0 && !s.momentumBuffer) s.momentumBuffer = this.stateLike(p);
          if (centered && !s.gradAvg) s.gradAvg = this.stateLike(p);
          s.step = (s.step as number) + 1;
          if (maximize) g = g.neg();
          if (weightDecay !== 0) g = g.add(p.mul(weightDecay));
          const squareAvg = s.squareAvg as Tensor;
          squareAvg.mul_(alpha).add_(g.square().mul_(1 - alpha));
          let avg: Tensor;
          if (centered) {
            const gradAvg = s.gradAvg as Tensor;
            gradAvg.mul_(alpha).add_(g.mul(1 - alpha));
            avg = squareAvg.sub(gradAvg.square()).sqrt();
          } else {
            avg = squareAvg.sqrt();
          }
          avg.add_(eps);
          if (momentum > 0) {
            const buf = s.momentumBuffer as Tensor;
            buf.mul_(momentum).add_(g.div(avg));
            p.add_(buf.mul(-lr));
          } else {
            p.add_(g.div(avg).mul_(-lr));
          }
        }
      }
    });
    return loss;
  }
}
