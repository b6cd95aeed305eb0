/**
 * GridSampler: every combination of the given values, each once, in random order; then the study
 * stops. The grid point is chosen when the trial is created, on the up-to-date trials and under
 * the journal's lock, so several processes sharing a journal never run a point twice.
 */
import { KilnError, check } from '../../errors.js';
import type { Distribution, ParamValue } from '../distributions.js';
import { Rng } from '../rng.js';
import type { FrozenTrial } from '../types.js';
import { checkSeed } from './random.js';
import type { Sampler, SamplerSpec, StudyView } from './sampler.js';

export type GridSearchSpace = Record<string, readonly ParamValue[]>;

const GRID_KEY = 'gridId';

export class GridSampler implements Sampler {
  readonly searchSpace: GridSearchSpace;
  private readonly names: string[];
  private readonly sizes: number[];
  readonly size: number;
  private readonly seed: number | undefined;
  private readonly rng: Rng;

  constructor(searchSpace: GridSearchSpace, opts: { seed?: number } = {}) {
    check(searchSpace !== null && typeof searchSpace === 'object' && !Array.isArray(searchSpace),
      'GridSampler: searchSpace must be an object { name: [values...] }');
    checkSeed(opts.seed, 'GridSampler');
    this.names = Object.keys(searchSpace).sort();
    check(this.names.length > 0, 'GridSampler: searchSpace must name at least one parameter');
    for (const n of this.names) {
      const v = searchSpace[n];
      check(Array.isArray(v) && v.length > 0, () => `GridSampler: searchSpace.${n} must be a non-empty array of values`);
      for (const x of v) {
        check(x === null || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)),
          () => `GridSampler: searchSpace.${n} holds ${String(x)}; values must be finite numbers, strings, booleans or null`);
      }
    }
    this.searchSpace = Object.fromEntries(this.names.map((n) => [n, [...searchSpace[n]]]));
    this.sizes = this.names.map((n) => searchSpace[n].length);
    this.size = this.sizes.reduce((a, b) => a * b, 1);
    check(this.size <= 1e8, () => `GridSampler: the grid has ${this.size} points (more than 1e8)`);
    this.seed = opts.seed;
    this.rng = new Rng(opts.seed);
  }

  /** The values of grid point `id` (mixed radix, last name fastest). */
  point(id: number): Record<string, ParamValue> {
    const out: Record<string, ParamValue> = {};
    for (let i = this.names.length - 1; i >= 0; i--) {
      const k = id % this.sizes[i];
      id = Math.floor(id / this.sizes[i]);
      out[this.names[i]] = this.searchSpace[this.names[i]][k];
    }
    return out;
  }

  private unvisited(trials: readonly FrozenTrial[]): number[] {
    const seen = new Set<number>();
    for (const t of trials) {
      const id = t.systemAttrs[GRID_KEY];
      if (typeof id === 'number') seen.add(id);
    }
    const out: number[] = [];
    for (let i = 0; i < this.size; i++) if (!seen.has(i)) out.push(i);
    return out;
  }

  reserve(_study: StudyView, trials: readonly FrozenTrial[]): Record<string, unknown> | null {
    const free = this.unvisited(trials);
    if (free.length === 0) return null;
    return { [GRID_KEY]: free[this.rng.int(free.length)] };
  }

  isExhausted(study: StudyView): boolean {
    return this.unvisited(study.getTrials()).length === 0;
  }

  inferRelativeSearchSpace(): Record<string, Distribution> { return {}; }
  sampleRelative(): Record<string, ParamValue> { return {}; }

  sampleIndependent(_s: StudyView, trial: FrozenTrial, name: string, dist: Distribution): ParamValue {
    const id = trial.systemAttrs[GRID_KEY];
    if (typeof id !== 'number') throw new KilnError(`GridSampler: trial ${trial.number} has no grid point (was it created by another sampler?)`);
    if (!(name in this.searchSpace)) {
      throw new KilnError(`GridSampler: parameter '${name}' is not in the search space (${this.names.join(', ')})`);
    }
    const v = this.point(id)[name];
    const ok = dist.kind === 'categorical' ? dist.choices.includes(v) : typeof v === 'number' && v >= dist.low && v <= dist.high;
    if (!ok) throw new KilnError(`GridSampler: value ${JSON.stringify(v)} of '${name}' lies outside the suggested ${describe(dist)}`);
    return v;
  }

  spec(): SamplerSpec { return { kind: 'GridSampler', options: { searchSpace: this.searchSpace, seed: this.seed } }; }
}

function describe(d: Distribution): string {
  return d.kind === 'categorical' ? `choices ${JSON.stringify(d.choices)}` : `range [${d.low}, ${d.high}]`;
}
