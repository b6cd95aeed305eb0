/** The pruner contract: given a running trial's reported values, stop it now or not. */
import { check } from '../../errors.js';
import type { StudyView } from '../samplers/sampler.js';
import type { FrozenTrial } from '../types.js';

/** What a pruner sees of the study: the sampler's view plus trial bookkeeping (rung values). */
export interface PrunerStudyView extends StudyView {
  setTrialSystemAttr(trialId: number, key: string, value: unknown): void;
}

export interface PrunerSpec {
  kind: string;
  options: Record<string, unknown>;
}

export interface Pruner {
  prune(study: PrunerStudyView, trial: FrozenTrial): boolean;
  /** Needed to run trials in worker processes (nJobs > 1). */
  spec?(): PrunerSpec;
}

/** Never prunes (the default). */
export class NopPruner implements Pruner {
  prune(): boolean { return false; }
  spec(): PrunerSpec { return { kind: 'NopPruner', options: {} }; }
}

export function checkIntOption(v: unknown, def: number, min: number, owner: string, name: string): number {
  const x = v ?? def;
  check(Number.isInteger(x) && (x as number) >= min, () => `${owner}: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return x as number;
}
