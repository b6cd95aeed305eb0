/** Running metrics over an epoch: mean loss and classification accuracy. */
import { noGrad } from '../autograd/engine.js';
import type { Tensor } from '../tensor.js';

export type MetricName = 'accuracy';

/** Correct predictions in a batch: argmax over the last dim of the output against int32 targets. */
export function countCorrect(output: Tensor, target: Tensor): number {
  return noGrad(() => {
    if (target.dtype !== 'int32' || output.ndim < 2) return NaN;
    const pred = output.argmax(-1);
    const hits = pred.eq(target);
    const n = hits.sum().item();
    pred.dispose();
    hits.dispose();
    return n;
  });
}

export class EpochMeter {
  private lossSum = 0;
  private correct = 0;
  samples = 0;

  add(loss: number, batchSize: number, correct?: number): void {
    this.lossSum += loss * batchSize;
    this.samples += batchSize;
    if (correct !== undefined) this.correct += correct;
  }
  get loss(): number {
    return this.samples > 0 ? this.lossSum / this.samples : NaN;
  }
  get accuracy(): number {
    return this.samples > 0 ? this.correct / this.samples : NaN;
  }
}
