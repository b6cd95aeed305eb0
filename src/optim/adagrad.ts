/** Adagrad (torch.optim.Adagrad), composed from in-place tensor ops. */
import { checkOptions } from '../options.js';
import type { Tensor } from '../tensor.js';
import { type BaseOptions, type Closure, Optimizer, type ParamGroupInput } from './optimizer.js';

export interface AdagradOptions extends BaseOptions {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Tensor[] | ParamGroupInput<AdagradOptions>[], options: Partial<AdagradOptions> = {}) {
    checkOptions(options, ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'], 'Adagrad');
    super(params, { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...options });
    this.paramShapedState = ['sum'];
  }

  step(closure?: Closure): Tensor | number | undefined {
    const loss = closure ? closure() : undefined;
    this.update(() => {
      for (const group of this.paramGroups) {
        const { lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize } = group;
        for (const p of group.params) {
          let g = this.gradOf(p);
          if (g === null) continue;
          const s = this.stateOf(p);
          if (s.step === undefined) {
            s.step = 0;
            s.sum = this.stateLike(p, initialAccumulatorValue);
          }
          const step = (s.step = (s.step as number) + 1);
          if (maximize) g = g.neg();
          if (weightDecay !== 0) g = g.add(p.mul(weightDecay));
          const clr = lr / (1 + (step - 1) * lrDecay);
          const sum = s.sum as Tensor;
          sum.add_(g.square());
          const std = sum.sqrt().add_(eps);
          p.add_(g.div(std).mul_(-clr));
        }
      }
    });
    return loss;
  }
}
