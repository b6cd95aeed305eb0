/**
 * GPSampler: Bayesian optimisation with a Gaussian process (gp.ts) and log expected improvement
 * (acquisition.ts). After nStartupTrials random trials, each trial fits the GP to the complete
 * trials over their shared parameters (inputs warped to the unit cube, outputs standardised),
 * then takes the point of highest log EI. Parameters outside the shared space are drawn at random.
 */
import { KilnError, check } from '../../../errors.js';
import type { Distribution, ParamValue } from '../../distributions.js';
import { Rng } from '../../rng.js';
import type { FrozenTrial } from '../../types.js';
import { checkSeed, sampleUniform } from '../random.js';
import { type Sampler, type SamplerSpec, type StudyView, intersectionSearchSpace, signOf } from '../sampler.js';
import { maximizeLogEi } from './acquisition.js';
import { UnitCube } from './encode.js';
import { powerWarp } from './warp.js';
import { GaussianProcess, MIN_NOISE, fitKernelParams, paramsFromRaw } from './gp.js';

export interface GPSamplerOptions {
  seed?: number;
  /** Random trials before the GP is used. Default max(10, 3d + 2) for d shared parameters: on
   *  Hartmann-6, 10 random starts left half the seeds in its -3.20 local minimum, 20 about a quarter. */
  nStartupTrials?: number;
  /** The objective returns the same value for the same parameters: the noise is fixed at a
   *  floor (1e-6 of the standardised variance) instead of fitted. Default false. */
  deterministicObjective?: boolean;
  /** Random candidates scored before the local searches. Default 2048. */
  nCandidates?: number;
  /** Local searches (L-BFGS) from the best candidates. Default 10. */
  nLocalSearch?: number;
  /** Power-transform the objective values before the fit (warp.ts). Default true. */
  warpOutputs?: boolean;
}

export class GPSampler implements Sampler {
  private readonly opts: GPSamplerOptions;
  private readonly rng: Rng;
  private readonly nStartup: number | null;
  private readonly nCandidates: number;
  private readonly nLocal: number;
  private readonly fixedNoise: number | null;
  private readonly warp: boolean;
  /** Last fitted raw kernel parameters per search space: the next fit starts there. */
  private cache: { key: string; raw: Float64Array } | null = null;

  constructor(opts: GPSamplerOptions = {}) {
    checkSeed(opts.seed, 'GPSampler');
    const int = (v: unknown, def: number, min: number, name: string) => {
      const x = v ?? def;
      check(Number.isInteger(x) && (x as number) >= min, () => `GPSampler: ${name} must be an integer >= ${min}, got ${String(v)}`);
      return x as number;
    };
    this.nStartup = opts.nStartupTrials === undefined ? null : int(opts.nStartupTrials, 10, 0, 'nStartupTrials');
    this.nCandidates = int(opts.nCandidates, 2048, 1, 'nCandidates');
    this.nLocal = int(opts.nLocalSearch, 10, 0, 'nLocalSearch');
    check(opts.deterministicObjective === undefined || typeof opts.deterministicObjective === 'boolean',
      () => `GPSampler: deterministicObjective must be a boolean, got ${String(opts.deterministicObjective)}`);
    this.fixedNoise = opts.deterministicObjective ? MIN_NOISE : null;
    check(opts.warpOutputs === undefined || typeof opts.warpOutputs === 'boolean', () => `GPSampler: warpOutputs must be a boolean, got ${String(opts.warpOutputs)}`);
    this.warp = opts.warpOutputs ?? true;
    this.opts = { ...opts };
    this.rng = new Rng(opts.seed);
  }

  inferRelativeSearchSpace(study: StudyView): Record<string, Distribution> {
    return intersectionSearchSpace(study.getTrials(['COMPLETE']));
  }

  sampleRelative(study: StudyView, _t: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue> {
    const names = Object.keys(space);
    if (names.length === 0) return {};
    if (study.directions.length > 1) throw new KilnError('GPSampler: multi-objective studies are not supported; use TPESampler, RandomSampler or GridSampler');
    const trials = study.getTrials(['COMPLETE']).filter((t) => t.value !== undefined && !Number.isNaN(t.value));
    const nStartup = this.nStartup ?? Math.max(10, 3 * names.length + 2);
    if (trials.length < nStartup || trials.length === 0) return {};

    const cube = new UnitCube(space);
    const n = trials.length, d = cube.d;
    const X = new Float64Array(n * d);
    const y = new Float64Array(n);
    const sign = signOf(study.directions[0]);
    trials.forEach((t, i) => {
      cube.encode(names.map((nm) => space[nm].toInternal(t.params[nm])), X, i * d);
      y[i] = sign * t.value!;
    });
    standardize(y);
    if (this.warp) {
      powerWarp(y);
      standardize(y);
    }

    const key = names.map((nm) => `${nm}:${JSON.stringify(space[nm].toJSON())}`).join('|');
    const dim = d + (this.fixedNoise === null ? 2 : 1);
    const defaults = new Float64Array(dim);
    if (this.fixedNoise === null) defaults[d + 1] = Math.log(0.01);
    const starts = this.cache?.key === key ? [this.cache.raw, defaults] : [defaults];
    const fit = fitKernelParams(X, y, cube.nChoices, { starts, fixedNoise: this.fixedNoise });
    this.cache = { key, raw: fit.raw };
    const gp = new GaussianProcess(X, y, cube.nChoices, paramsFromRaw(fit.raw, d, this.fixedNoise));

    let iBest = 0;
    for (let i = 1; i < n; i++) if (y[i] < y[iBest]) iBest = i;
    const { x } = maximizeLogEi(gp, y[iBest], this.rng, {
      nCandidates: this.nCandidates, nLocalSearch: this.nLocal, starts: [X.slice(iBest * d, (iBest + 1) * d)],
    });
    const internal = cube.decode(x);
    const out: Record<string, ParamValue> = {};
    names.forEach((nm, j) => { out[nm] = space[nm].toExternal(internal[j]); });
    return out;
  }

  sampleIndependent(_s: StudyView, _t: FrozenTrial, _name: string, dist: Distribution): ParamValue {
    return sampleUniform(this.rng, dist);
  }

  spec(): SamplerSpec { return { kind: 'GPSampler', options: { ...this.opts } }; }
}

/** In place: infinities clipped to the finite range, then zero mean and unit variance. */
export function standardize(y: Float64Array): void {
  let lo = Infinity, hi = -Infinity;
  for (const v of y) if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) { lo = 0; hi = 0; }
  for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i])) y[i] = y[i] > 0 ? hi : lo;
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  let variance = 0;
  for (const v of y) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / y.length);
  const scale = sd > 1e-12 ? sd : 1;
  for (let i = 0; i < y.length; i++) y[i] = (y[i] - mean) / scale;
}
