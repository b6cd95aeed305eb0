/**
 * The sampler contract (define-by-run, as Optuna's): at a trial's start the sampler may pick a
 * joint ("relative") point for the part of the space every finished trial shares; a parameter
 * outside that part is drawn on its own ("independent") when the objective first asks for it.
 */
import { type Distribution, type ParamValue, sameDistribution } from '../distributions.js';
import type { FrozenTrial, TrialState } from '../types.js';

/** What a sampler sees of the study. */
export interface StudyView {
  readonly studyName: string;
  readonly directions: readonly ('minimize' | 'maximize')[];
  /** Live trial records (do not modify), filtered by state when given. */
  getTrials(states?: readonly TrialState[]): readonly FrozenTrial[];
}

/** A sampler's constructor name and options, so a worker process can build the same sampler. */
export interface SamplerSpec {
  kind: string;
  options: Record<string, unknown>;
}

export interface Sampler {
  /** The joint search space for this trial (empty: everything is sampled independently). */
  inferRelativeSearchSpace(study: StudyView, trial: FrozenTrial): Record<string, Distribution>;
  sampleRelative(study: StudyView, trial: FrozenTrial, space: Record<string, Distribution>): Record<string, ParamValue>;
  sampleIndependent(study: StudyView, trial: FrozenTrial, name: string, dist: Distribution): ParamValue;
  /** Runs while the trial is created, on up-to-date trials (under a journal's lock); returns system
   *  attributes for the new trial, or null to create none (the sampler has nothing left to try). */
  reserve?(study: StudyView, trials: readonly FrozenTrial[]): Record<string, unknown> | null;
  /** True when the sampler has nothing left to try (optimize then stops). */
  isExhausted?(study: StudyView): boolean;
  /** Needed to run trials in worker processes (nJobs > 1). `rank` varies the seed per worker. */
  spec?(): SamplerSpec;
}

/**
 * The parameters (with their distribution) that every COMPLETE trial has, with the same
 * distribution, leaving out those with a single value. Sorted by name.
 */
export function intersectionSearchSpace(trials: readonly FrozenTrial[]): Record<string, Distribution> {
  let space: Record<string, Distribution> | null = null;
  for (const t of trials) {
    if (t.state !== 'COMPLETE') continue;
    if (space === null) {
      space = { ...t.distributions };
      continue;
    }
    for (const [name, d] of Object.entries(space)) {
      const other = t.distributions[name];
      if (!other || !sameDistribution(other, d)) delete space[name];
    }
  }
  const out: Record<string, Distribution> = {};
  for (const name of Object.keys(space ?? {}).sort()) if (!space![name].single()) out[name] = space![name];
  return out;
}

/** Objective value with the sign that makes smaller better (single objective). */
export function signOf(direction: 'minimize' | 'maximize'): number {
  return direction === 'minimize' ? 1 : -1;
}
