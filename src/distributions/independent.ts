/**
 * Independent(base, n): reinterprets the last n batch dims of base as event dims, so logProb and
 * entropy sum over them (a diagonal Gaussian is Independent(Normal(mu, sigma), 1)).
 */
import { check } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Distribution } from './distribution.js';

export class Independent extends Distribution {
  readonly batchShape: readonly number[];
  override readonly eventShape: readonly number[];
  override readonly hasRsample: boolean;

  constructor(readonly baseDist: Distribution, readonly reinterpretedBatchNdims: number) {
    super();
    check(baseDist instanceof Distribution, 'baseDist: expected a kiln.distributions Distribution');
    const nb = baseDist.batchShape.length;
    check(Number.isInteger(reinterpretedBatchNdims) && reinterpretedBatchNdims >= 0 && reinterpretedBatchNdims <= nb,
      () => `reinterpretedBatchNdims: expected an integer in [0, ${nb}] (the base's batch dims), got ${reinterpretedBatchNdims}`);
    this.batchShape = baseDist.batchShape.slice(0, nb - reinterpretedBatchNdims);
    this.eventShape = [...baseDist.batchShape.slice(nb - reinterpretedBatchNdims), ...baseDist.eventShape];
    this.hasRsample = baseDist.hasRsample;
  }

  /** Sums t over its last reinterpretedBatchNdims dims. */
  sumRightmost(t: Tensor): Tensor {
    const n = this.reinterpretedBatchNdims;
    if (n === 0) return t;
    return t.sum(Array.from({ length: n }, (_, i) => t.ndim - 1 - i));
  }

  override sample(sampleShape: readonly number[] = []): Tensor {
    return this.baseDist.sample(sampleShape);
  }
  override rsample(sampleShape: readonly number[] = []): Tensor {
    return this.baseDist.rsample(sampleShape);
  }
  logProb(value: Tensor): Tensor {
    return this.sumRightmost(this.baseDist.logProb(value));
  }
  entropy(): Tensor {
    return this.sumRightmost(this.baseDist.entropy());
  }
  get mean(): Tensor {
    return this.baseDist.mean;
  }
  override get stddev(): Tensor {
    return this.baseDist.stddev;
  }
  get variance(): Tensor {
    return this.baseDist.variance;
  }
}
