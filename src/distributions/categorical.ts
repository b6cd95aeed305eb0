/**
 * Categorical(probs | logits) over {0, ..., K-1} along the last dim; samples are int32 indices.
 *
 * Sampling has two paths, chosen by size (bench/rl/categorical-sample.mjs measured them): a small
 * CPU batch reads the probabilities to the host and inverts the CDF in float64 against Kiln's
 * seeded uniforms (one rand, two reads); a large batch, or one on a GPU, takes the Gumbel-max
 * trick (argmax of logits - log(-log u)), six device ops and no read. Both draw from Kiln's
 * Philox generator, so kiln.manualSeed fixes the samples.
 */
import { full, rand, tensor } from '../creation.js';
import { check, shapeStr } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Distribution, type DistributionOptions } from './distribution.js';
import { asParam, broadcast, checkAll, checkSampleShape, expandTo } from './util.js';

export interface CategoricalParams extends DistributionOptions {
  probs?: Tensor;
  logits?: Tensor;
}

/** Below this many probabilities (on the CPU) a sample takes the host inverse-CDF path. */
export const HOST_SAMPLE_LIMIT = 4096;

export class Categorical extends Distribution {
  /** Normalised probabilities [..., K]. */
  readonly probs: Tensor;
  /** Normalised log-probabilities [..., K] (logits - logsumexp(logits)). */
  readonly logits: Tensor;
  readonly batchShape: readonly number[];
  readonly numEvents: number;

  constructor({ probs, logits, validateArgs = true }: CategoricalParams) {
    super();
    check((probs === undefined) !== (logits === undefined), 'Categorical: expected exactly one of probs or logits');
    const given = probs !== undefined ? asParam(probs, 'probs') : asParam(logits!, 'logits');
    const name = probs !== undefined ? 'probs' : 'logits';
    check(given.ndim >= 1 && given.shape[given.ndim - 1] > 0,
      () => `${name}: expected a tensor [..., K] with K >= 1 categories, got ${shapeStr(given.shape)}`);
    if (probs !== undefined) {
      if (validateArgs) checkAll(given.lt(0), 'probs: expected non-negative values');
      this.probs = given.div(given.sum(-1, true));
      this.logits = this.probs.clamp(1.1920929e-7, 1).log();
    } else {
      this.logits = given.sub(given.logsumexp(-1, true));
      this.probs = this.logits.exp();
    }
    this.numEvents = given.shape[given.ndim - 1];
    this.batchShape = given.shape.slice(0, -1);
  }

  override sample(sampleShape: readonly number[] = []): Tensor {
    const shape = [...checkSampleShape(sampleShape), ...this.batchShape];
    const n = shape.reduce((a, b) => a * b, 1);
    if (this.probs.device === 'cpu' && n * this.numEvents <= HOST_SAMPLE_LIMIT) return this.sampleHost(shape, n);
    return this.sampleGumbel(shape);
  }

  private sampleHost(shape: number[], n: number): Tensor {
    const K = this.numEvents;
    const p = this.probs.toTypedArray();
    const rows = p.length / K;
    const uT = rand([n]);
    const u = uT.toTypedArray();
    uT.dispose();
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const base = (i % rows) * K; // sample dims lead, so draw i reads batch row i mod rows
      let total = 0;
      for (let k = 0; k < K; k++) total += p[base + k];
      const target = u[i] * total;
      let acc = 0;
      let k = 0;
      for (; k < K - 1; k++) {
        acc += p[base + k];
        if (target < acc) break;
      }
      while (k > 0 && p[base + k] === 0) k--; // float rounding never picks an impossible class
      out[i] = k;
    }
    return tensor(out, { shape, dtype: 'int32' });
  }

  private sampleGumbel(shape: number[]): Tensor {
    const K = this.numEvents;
    const u = rand([...shape, K]).clamp(1e-20, 1);
    const g = u.log().neg().log();
    const out = this.logits.detach().sub(g).argmax(-1);
    return out;
  }

  /** log p[value], broadcasting value (int32 indices) against batchShape. */
  logProb(value: Tensor): Tensor {
    check(value.dtype === 'int32', () => `value: expected int32 category indices, got ${value.dtype}`);
    const shape = broadcast(value.shape, this.batchShape, 'logProb(value)');
    const logits = expandTo(this.logits, [...shape, this.numEvents]);
    const idx = expandTo(value, shape).reshape([...shape, 1]);
    return logits.gather(-1, idx).reshape(shape);
  }

  /** -sum_k p_k log p_k */
  entropy(): Tensor {
    return this.probs.mul(this.logits).sum(-1).neg();
  }

  /** The most likely category (argmax of the logits), int32. */
  get mode(): Tensor {
    return this.logits.argmax(-1);
  }
  /** Categorical has no mean in index space; as PyTorch, NaN of batchShape. */
  get mean(): Tensor {
    return full([...this.batchShape], NaN);
  }
  get variance(): Tensor {
    return this.mean;
  }
}
