/** Normal(loc, scale): Gaussian with a reparameterised sampler (loc + scale * eps). */
import { randn } from '../creation.js';
import { check } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { asParam, broadcast, checkAll, checkSampleShape, expandTo } from './util.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export class Normal extends Distribution {
  readonly loc: Tensor;
  readonly scale: Tensor;
  readonly batchShape: readonly number[];
  override readonly hasRsample = true;

  constructor(loc: Tensor | number, scale: Tensor | number, { validateArgs = true }: DistributionOptions = {}) {
    super();
    const l = asParam(loc, 'loc');
    const s = asParam(scale, 'scale');
    this.batchShape = broadcast(l.shape, s.shape, 'Normal(loc, scale)');
    check(typeof scale !== 'number' || scale > 0, () => `scale: expected a positive number, got ${scale}`);
    if (validateArgs && typeof scale !== 'number') checkAll(s.le(0), 'scale: expected every element to be positive');
    this.loc = expandTo(l, this.batchShape);
    this.scale = expandTo(s, this.batchShape);
  }

  override rsample(sampleShape: readonly number[] = []): Tensor {
    const eps = randn(this.extendedShape(checkSampleShape(sampleShape)));
    return this.loc.add(eps.mul(this.scale));
  }

  /** -(x - loc)^2 / (2 scale^2) - log(scale) - log(2 pi) / 2 */
  logProb(value: Tensor): Tensor {
    const z = value.sub(this.loc).div(this.scale);
    return z.square().mul(-0.5).sub(this.scale.log()).sub(HALF_LOG_2PI);
  }

  /** 1/2 + log(2 pi)/2 + log(scale) */
  entropy(): Tensor {
    return this.scale.log().add(0.5 + HALF_LOG_2PI);
  }

  get mean(): Tensor {
    return this.loc;
  }
  override get stddev(): Tensor {
    return this.scale;
  }
  get variance(): Tensor {
    return this.scale.square();
  }
}
