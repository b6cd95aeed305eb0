/** Running metrics over an epoch: the sample-weighted mean loss and classification accuracy. */
import { noGrad } from '../autograd/engine.js';
import type { Tensor } from '../tensor.js';

export type MetricName = 'accuracy';

/**
 * Correct predictions in a batch: argmax over the last dim of the output against int32 class
 * indices with the output's leading shape. undefined for other targets (regression, soft labels).
 */
export function countCorrect(output: Tensor, target: Tensor): number | undefined {
  if (target.dtype !== 'int32' || output.ndim !== target.ndim + 1) return undefined;
  return noGrad(() => {
    const pred = output.argmax(-1);
    const hits = pred.eq(target);
    const total = hits.sum();
    const n = total.item();
    for (const t of [pred, hits, total]) t.dispose();
    return n;
  });
}

export class EpochMeter {
  private lossSum = 0;
  private correct = 0;
  private counted = 0;
  samples = 0;

  add(loss: number, batchSize: number, correct?: number): void {
    this.lossSum += loss * batchSize;
    this.samples += batchSize;
    if (correct !== undefined) {
      this.correct += correct;
      this.counted += batchSize;
    }
  }

  /** Mean of the batch losses weighted by batch size (= the loss over the epoch's samples for mean-reduced losses). */
  get loss(): number {
    return this.samples > 0 ? this.lossSum / this.samples : NaN;
  }

  get accuracy(): number | undefined {
    return this.counted > 0 ? this.correct / this.counted : undefined;
  }

  /** [lossSum, samples, correct, counted]: what the ranks of a distributed run add up. */
  totals(): number[] {
    return [this.lossSum, this.samples, this.correct, this.counted];
  }

  static fromTotals(t: ArrayLike<number>): EpochMeter {
    const m = new EpochMeter();
    Object.assign(m, { lossSum: t[0], samples: t[1], correct: t[2], counted: t[3] });
    return m;
  }
}
