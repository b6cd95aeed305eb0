/**
 * Distribution: the base class of kiln.distributions (torch.distributions semantics).
 * batchShape is the shape of independent parameter sets, eventShape the shape of one draw;
 * sample(sampleShape) returns [...sampleShape, ...batchShape, ...eventShape].
 * Every method composes Kiln ops, so autograd flows through logProb, entropy, rsample and KL.
 */
import { noGrad } from '../autograd/engine.js';
import { KilnError } from '../errors.js';
import type { Tensor } from '../tensor.js';

export interface DistributionOptions {
  /** Check parameters (and values given to logProb) on construction; one host read each. Default true. */
  validateArgs?: boolean;
}

export abstract class Distribution {
  abstract readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  /** True when rsample() is implemented (reparameterised, differentiable draws). */
  readonly hasRsample: boolean = false;

  /** A draw without gradient history. */
  sample(sampleShape: readonly number[] = []): Tensor {
    return noGrad(() => this.rsample(sampleShape));
  }

  /** A reparameterised draw whose gradient flows to the parameters. */
  rsample(_sampleShape: readonly number[] = []): Tensor {
    throw new KilnError(`rsample: ${this.constructor.name} has no reparameterised sampler (use sample())`);
  }

  abstract logProb(value: Tensor): Tensor;
  abstract entropy(): Tensor;
  abstract get mean(): Tensor;
  abstract get variance(): Tensor;
  get stddev(): Tensor {
    return this.variance.sqrt();
  }

  /** [...sampleShape, ...batchShape, ...eventShape] */
  protected extendedShape(sampleShape: readonly number[]): number[] {
    return [...sampleShape, ...this.batchShape, ...this.eventShape];
  }
}
