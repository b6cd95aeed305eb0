/** Bernoulli(probs | logits) over {0, 1}; samples are float32 0/1 as in PyTorch. */
import { rand } from '../creation.js';
import { check } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { asParam, checkAll, checkSampleShape, softplus } from './util.js';

export interface BernoulliParams extends DistributionOptions {
  probs?: Tensor | number;
  logits?: Tensor | number;
}

export class Bernoulli extends Distribution {
  /** P(X = 1) */
  readonly probs: Tensor;
  /** log(p / (1 - p)) */
  readonly logits: Tensor;
  readonly batchShape: readonly number[];

  constructor({ probs, logits, validateArgs = true }: BernoulliParams) {
    super();
    check((probs === undefined) !== (logits === undefined), 'Bernoulli: expected exactly one of probs or logits');
    if (probs !== undefined) {
      this.probs = asParam(probs, 'probs');
      check(typeof probs !== 'number' || (probs >= 0 && probs <= 1), () => `probs: expected a number in [0, 1], got ${probs}`);
      if (validateArgs && typeof probs !== 'number') {
        checkAll(this.probs.lt(0).add(this.probs.gt(1)), 'probs: expected every element in [0, 1]');
      }
      // clamped as PyTorch's probs_to_logits, so p = 0 or 1 gives finite logits
      const p = this.probs.clamp(1.1920929e-7, 1 - 1.1920929e-7);
      this.logits = p.log().sub(p.rsub(1).log());
    } else {
      this.logits = asParam(logits!, 'logits');
      this.probs = this.logits.sigmoid();
    }
    this.batchShape = [...this.probs.shape];
  }

  /** u < p with u uniform on [0, 1): a float32 0/1 tensor (no gradient). */
  override sample(sampleShape: readonly number[] = []): Tensor {
    const u = rand(this.extendedShape(checkSampleShape(sampleShape)));
    const out = u.lt(this.probs.detach());
    u.dispose();
    return out;
  }

  /** v log p + (1 - v) log(1 - p) = -(max(l, 0) - l v + log(1 + exp(-|l|))) */
  logProb(value: Tensor): Tensor {
    const l = this.logits;
    return l.mul(value).sub(softplus(l));
  }

  /** -(p log p + (1 - p) log(1 - p)) = softplus(l) - l p */
  entropy(): Tensor {
    return softplus(this.logits).sub(this.logits.mul(this.probs));
  }

  get mean(): Tensor {
    return this.probs;
  }
  get variance(): Tensor {
    return this.probs.mul(this.probs.rsub(1));
  }
}
