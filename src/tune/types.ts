/** The records a study keeps: trial states, directions and the frozen (read-only) trial. */
import type { Distribution, ParamValue } from './distributions.js';

export type TrialState = 'RUNNING' | 'COMPLETE' | 'PRUNED' | 'FAIL';
export const TrialState = { RUNNING: 'RUNNING', COMPLETE: 'COMPLETE', PRUNED: 'PRUNED', FAIL: 'FAIL' } as const;

export type StudyDirection = 'minimize' | 'maximize';

/** A trial as stored: what was suggested, reported and returned. */
export interface FrozenTrial {
  /** 0-based, in creation order within the study. */
  number: number;
  /** Unique within the storage (a journal may hold several studies). */
  trialId: number;
  state: TrialState;
  /** The objective value (single-objective studies; for a pruned trial, its last reported value). */
  value: number | undefined;
  /** All objective values (multi-objective studies), or [value]. */
  values: number[] | undefined;
  params: Record<string, ParamValue>;
  distributions: Record<string, Distribution>;
  /** step -> value from trial.report. */
  intermediateValues: Map<number, number>;
  userAttrs: Record<string, unknown>;
  /** Sampler and pruner bookkeeping (grid point, rung values, failure reason). */
  systemAttrs: Record<string, unknown>;
  datetimeStart: Date | undefined;
  datetimeComplete: Date | undefined;
}

export function lastStep(t: FrozenTrial): number | undefined {
  let last: number | undefined;
  for (const s of t.intermediateValues.keys()) if (last === undefined || s > last) last = s;
  return last;
}

export function copyTrial(t: FrozenTrial): FrozenTrial {
  return {
    ...t,
    values: t.values ? [...t.values] : undefined,
    params: { ...t.params },
    distributions: { ...t.distributions },
    intermediateValues: new Map(t.intermediateValues),
    userAttrs: { ...t.userAttrs },
    systemAttrs: { ...t.systemAttrs },
  };
}
