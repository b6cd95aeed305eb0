/**
 * MedianPruner / PercentilePruner: prune a trial whose best reported value so far is worse than
 * the given percentile (the median: 50) of the complete trials' values at the same step.
 * Nothing is pruned before nStartupTrials trials are complete, before step nWarmupSteps, off the
 * intervalSteps grid, or while fewer than nMinTrials complete trials reported this step.
 */
import { check } from '../../errors.js';
import { type FrozenTrial, lastStep } from '../types.js';
import { type Pruner, type PrunerSpec, type PrunerStudyView, checkIntOption } from './pruner.js';

export interface PercentilePrunerOptions {
  /** Complete trials needed before any pruning. Default 5. */
  nStartupTrials?: number;
  /** Steps before pruning starts within a trial. Default 0. */
  nWarmupSteps?: number;
  /** Check every this many steps (after the warm-up). Default 1. */
  intervalSteps?: number;
  /** Complete trials that must have reported the step. Default 1. */
  nMinTrials?: number;
}

/** Linear-interpolation percentile (numpy's default) of values ignoring NaN; NaN if none. */
export function percentile(values: number[], p: number): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const pos = (p / 100) * (v.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/** True when `step` is the first reported step at or after the latest pruning checkpoint. */
function firstInInterval(step: number, steps: Iterable<number>, warmup: number, interval: number): boolean {
  const checkpoint = Math.floor((step - warmup) / interval) * interval + warmup;
  let secondLast = -1;
  for (const s of steps) if (s > secondLast && s !== step) secondLast = s;
  return secondLast < checkpoint;
}

export class PercentilePruner implements Pruner {
  readonly percentile: number;
  protected readonly opts: PercentilePrunerOptions;
  private readonly nStartup: number;
  private readonly warmup: number;
  private readonly interval: number;
  private readonly nMin: number;

  constructor(percentileValue: number, opts: PercentilePrunerOptions = {}, owner = 'PercentilePruner') {
    check(typeof percentileValue === 'number' && percentileValue >= 0 && percentileValue <= 100,
      () => `${owner}: percentile must be a number in [0, 100], got ${String(percentileValue)}`);
    this.percentile = percentileValue;
    this.opts = { ...opts };
    this.nStartup = checkIntOption(opts.nStartupTrials, 5, 0, owner, 'nStartupTrials');
    this.warmup = checkIntOption(opts.nWarmupSteps, 0, 0, owner, 'nWarmupSteps');
    this.interval = checkIntOption(opts.intervalSteps, 1, 1, owner, 'intervalSteps');
    this.nMin = checkIntOption(opts.nMinTrials, 1, 1, owner, 'nMinTrials');
  }

  prune(study: PrunerStudyView, trial: FrozenTrial): boolean {
    const complete = study.getTrials(['COMPLETE']);
    if (complete.length === 0 || complete.length < this.nStartup) return false;
    const step = lastStep(trial);
    if (step === undefined || step < this.warmup) return false;
    if (!firstInInterval(step, trial.intermediateValues.keys(), this.warmup, this.interval)) return false;
    const maximize = study.directions[0] === 'maximize';
    const own = [...trial.intermediateValues.values()].filter((v) => !Number.isNaN(v));
    if (own.length === 0) return true;
    const best = maximize ? Math.max(...own) : Math.min(...own);
    const atStep = complete.filter((t) => t.intermediateValues.has(step)).map((t) => t.intermediateValues.get(step)!);
    if (atStep.length < this.nMin) return false;
    const p = percentile(atStep, maximize ? 100 - this.percentile : this.percentile);
    if (Number.isNaN(p)) return false;
    return maximize ? best < p : best > p;
  }

  spec(): PrunerSpec { return { kind: 'PercentilePruner', options: { percentile: this.percentile, ...this.opts } }; }
}

export class MedianPruner extends PercentilePruner {
  constructor(opts: PercentilePrunerOptions = {}) {
    super(50, opts, 'MedianPruner');
  }
  override spec(): PrunerSpec { return { kind: 'MedianPruner', options: { ...this.opts } }; }
}
