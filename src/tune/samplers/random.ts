/** RandomSampler: every parameter drawn independently and uniformly (log-uniformly when log). */
import { check } from '../../errors.js';
import type { Distribution, ParamValue } from '../distributions.js';
import { Rng } from '../rng.js';
import type { FrozenTrial } from '../types.js';
import type { Sampler, SamplerSpec, StudyView } from './sampler.js';

export interface SeedOptions {
  /** Seed of the sampler's generator: the same seed draws the same parameters. */
  seed?: number;
}

export function checkSeed(seed: unknown, name: string): void {
  check(seed === undefined || (Number.isInteger(seed) && (seed as number) >= 0),
    () => `${name}: seed must be a non-negative integer, got ${String(seed)}`);
}

/** A uniform draw from a distribution, as its external value. */
export function sampleUniform(rng: Rng, d: Distribution): ParamValue {
  if (d.kind === 'categorical') return d.choices[rng.int(d.choices.length)];
  if (d.kind === 'float' && d.step === null) {
    if (!d.log) return rng.uniform(d.low, d.high);
    return Math.min(d.high, Math.max(d.low, Math.exp(rng.uniform(Math.log(d.low), Math.log(d.high)))));
  }
  if (d.kind === 'int' && d.log) {
    // log-uniform over [low - 0.5, high + 0.5], rounded: each integer gets its share of log space
    const v = Math.round(Math.exp(rng.uniform(Math.log(d.low - 0.5), Math.log(d.high + 0.5))));
    return Math.min(d.high, Math.max(d.low, v));
  }
  const step = d.step!;
  const k = rng.int(Math.round((d.high - d.low) / step) + 1);
  return d.kind === 'int' ? d.low + k * step : Math.min(d.high, d.low + k * step);
}

export class RandomSampler implements Sampler {
  private readonly seed: number | undefined;
  readonly rng: Rng;

  constructor(opts: SeedOptions = {}) {
    checkSeed(opts.seed, 'RandomSampler');
    this.seed = opts.seed;
    this.rng = new Rng(opts.seed);
  }
  inferRelativeSearchSpace(): Record<string, Distribution> { return {}; }
  sampleRelative(): Record<string, ParamValue> { return {}; }
  sampleIndependent(_s: StudyView, _t: FrozenTrial, _name: string, d: Distribution): ParamValue {
    return sampleUniform(this.rng, d);
  }
  spec(): SamplerSpec { return { kind: 'RandomSampler', options: { seed: this.seed } }; }
}
