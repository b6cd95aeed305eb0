/**
 * TPESampler (tree-structured Parzen estimator, Bergstra et al. 2011) with the defaults users of
 * Optuna know: 10 random start-up trials, then the finished trials are split into the best
 * gamma(n) = min(ceil(0.1 n), 25) ("below") and the rest; 24 candidates are drawn from the
 * below-estimator l(x) and the one maximising log l(x) - log g(x) is taken. Pruned trials rank
 * after complete ones, deeper ones first. Univariate by default (each parameter on its own);
 * multivariate: one joint estimator over the parameters every complete trial shares.
 * Several objectives: the below set is taken by Pareto rank (split.ts).
 */
import { check } from '../../../errors.js';
import type { Distribution, ParamValue } from '../../distributions.js';
import { Rng } from '../../rng.js';
import { type FrozenTrial, lastStep } from '../../types.js';
import { checkSeed, sampleUniform } from '../random.js';
import { type Sampler, type SamplerSpec, type StudyView, intersectionSearchSpace, signOf } from '../sampler.js';
import { ParzenEstimator, type ParzenOptions, defaultWeights } from './parzen.js';
import { multiObjectiveBelow } from './split.js';

export interface TPESamplerOptions {
  seed?: number;
  /** Random trials before the estimator is used. Default 10. */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per sample. Default 24. */
  nEiCandidates?: number;
  /** Joint estimator over the shared parameters. Default false. */
  multivariate?: boolean;
  priorWeight?: number;
  considerMagicClip?: boolean;
  considerEndpoints?: boolean;
  /** Size of the "below" set for n finished trials. Default min(ceil(0.1 n), 25). */
  gamma?: (n: number) => number;
  /** Observation weights (oldest first). Default: a ramp for all but the newest 25. */
  weights?: (n: number) => number[];
}

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

interface Observations {
  values: Record<string, (number | null)[]>;
  /** Single objective: [-step or -Infinity for complete, signed value] (sorted lexicographically). */
  scores: [number, number][];
  /** Multi-objective: signed values of each (complete) trial. */
  vectors: number[][] | null;
}

export class TPESampler implements Sampler {
  private readonly opts: TPESamplerOptions;
  private readonly rng: Rng;
  private readonly nStartup: number;
  private readonly nEi: number;
  private readonly gamma: (n: number) => number;
  private readonly parzen: ParzenOptions;

  constructor(opts: TPESamplerOptions = {}) {
    checkSeed(opts.seed, 'TPESampler');
    const nStartup = opts.nStartupTrials ?? 10, nEi = opts.nEiCandidates ?? 24;
    check(Number.isInteger(nStartup) && nStartup >= 0, () => `TPESampler: nStartupTrials must be an integer >= 0, got ${String(opts.nStartupTrials)}`);
    check(Number.isInteger(nEi) && nEi >= 1, () => `TPESampler: nEiCandidates must be an integer >= 1, got ${String(opts.nEiCandidates)}`);
    const pw = opts.priorWeight ?? 1;
    check(Number.isFinite(pw) && pw > 0, () => `TPESampler: priorWeight must be a number > 0, got ${String(opts.priorWeight)}`);
    check(opts.gamma === undefined || typeof opts.gamma === 'function', 'TPESampler: gamma must be a function (n) => number');
    check(opts.weights === undefined || typeof opts.weights === 'function', 'TPESampler: weights must be a function (n) => number[]');
    this.opts = { ...opts };
    this.rng = new Rng(opts.seed);
    this.nStartup = nStartup;
    this.nEi = nEi;
    this.gamma = opts.gamma ?? defaultGamma;
    this.parzen = {
      priorWeight: pw, considerMagicClip: opts.considerMagicClip ?? true, considerEndpoints: opts.considerEndpoints ?? false,
      multivariate: opts.multivariate ?? false, weights: opts.weights ?? defaultWeights,
    };
  }

  inferRelativeSearchSpace(study: StudyView): Record<string, Distribution> {
    if (!this.parzen.multivariate) return {};
    return intersectionSearchSpace(study.getTrials(['COMPLETE']));
  }

  sampleRelative(study: StudyView, _t: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue> {
    const names = Object.keys(space);
    if (names.length === 0) return {};
    const obs = this.observations(study, names);
    if (obs.scores.length < this.nStartup) return {};
    const picked = this.sampleFromSplit(obs, space);
    const out: Record<string, ParamValue> = {};
    for (const n of names) out[n] = space[n].toExternal(picked[n]);
    return out;
  }

  sampleIndependent(study: StudyView, _t: FrozenTrial, name: string, dist: Distribution): ParamValue {
    const obs = this.observations(study, [name]);
    if (obs.scores.length < this.nStartup) return sampleUniform(this.rng, dist);
    return dist.toExternal(this.sampleFromSplit(obs, { [name]: dist })[name]);
  }

  /** Values (internal; null where a trial lacks the parameter) and ranking keys of the finished trials. */
  private observations(study: StudyView, names: string[]): Observations {
    const values: Record<string, (number | null)[]> = Object.fromEntries(names.map((n) => [n, []]));
    const push = (t: FrozenTrial) => { for (const n of names) values[n].push(n in t.params ? t.distributions[n].toInternal(t.params[n]) : null); };
    if (study.directions.length > 1) {
      // multi-objective: complete trials only (pruning does not apply)
      const signs = study.directions.map(signOf);
      const vectors: number[][] = [];
      for (const t of study.getTrials(['COMPLETE'])) {
        if (!t.values) continue;
        vectors.push(t.values.map((v, i) => signs[i] * v));
        push(t);
      }
      return { values, scores: vectors.map(() => [0, 0]), vectors };
    }
    const sign = signOf(study.directions[0]);
    const scores: [number, number][] = [];
    for (const t of study.getTrials(['COMPLETE', 'PRUNED'])) {
      if (t.state === 'COMPLETE') {
        if (t.value === undefined) continue;
        scores.push([-Infinity, sign * t.value]);
      } else {
        const step = lastStep(t);
        if (step === undefined) scores.push([1, 0]);
        else {
          const v = t.intermediateValues.get(step)!;
          scores.push([-step, Number.isNaN(v) ? Infinity : sign * v]);
        }
      }
      push(t);
    }
    return { values, scores, vectors: null };
  }

  private sampleFromSplit(obs: Observations, space: Record<string, Distribution>): Record<string, number> {
    const n = obs.scores.length;
    const nBelow = this.gamma(n);
    let below: number[];
    if (obs.vectors !== null) {
      below = multiObjectiveBelow(obs.vectors, nBelow);
    } else {
      const order = Array.from(obs.scores.keys()).sort((a, b) => {
        const [sa, va] = obs.scores[a], [sb, vb] = obs.scores[b];
        return sa !== sb ? sa - sb : va !== vb ? (va < vb ? -1 : 1) : a - b;
      });
      below = order.slice(0, nBelow).sort((a, b) => a - b);
    }
    const inBelow = new Set(below);
    const above = Array.from(obs.scores.keys()).filter((i) => !inBelow.has(i));
    const names = Object.keys(space);
    const pick = (idx: number[]) => {
      // trials lacking the parameters (dynamic spaces) are left out
      const keep = idx.filter((i) => obs.values[names[0]][i] !== null);
      return Object.fromEntries(names.map((nm) => [nm, Float64Array.from(keep, (i) => obs.values[nm][i]!)]));
    };
    const l = new ParzenEstimator(pick(below), space, this.parzen);
    const g = new ParzenEstimator(pick(above), space, this.parzen);
    const samples = l.sample(this.rng, this.nEi);
    const ll = l.logScore(samples), lg = g.logScore(samples);
    let best = 0;
    for (let i = 1; i < this.nEi; i++) if (ll[i] - lg[i] > ll[best] - lg[best]) best = i;
    return Object.fromEntries(names.map((nm) => [nm, samples[nm][best]]));
  }

  spec(): SamplerSpec {
    check(this.opts.gamma === undefined && this.opts.weights === undefined,
      'TPESampler: custom gamma or weights functions cannot be sent to worker processes (nJobs > 1)');
    return { kind: 'TPESampler', options: { ...this.opts } };
  }
}
