/**
 * SuccessiveHalvingPruner (asynchronous successive halving, ASHA; Li et al. 2020). Rung r is
 * reached at step minResource * reductionFactor^(minEarlyStoppingRate + r). A trial reaching a
 * rung records its value there and continues only if that value is within the best
 * 1/reductionFactor of all values recorded at the rung so far (the best one while there are
 * fewer than reductionFactor of them).
 */
import { check } from '../../errors.js';
import { type FrozenTrial, lastStep } from '../types.js';
import { type Pruner, type PrunerSpec, type PrunerStudyView, checkIntOption } from './pruner.js';

export interface SuccessiveHalvingOptions {
  /** Steps before the first rung; 'auto': 1/100 of the longest complete trial's last step (at least 1). Default 'auto'. */
  minResource?: number | 'auto';
  /** Default 4. */
  reductionFactor?: number;
  /** Default 0. */
  minEarlyStoppingRate?: number;
  /** Trials a rung must have seen before it promotes any. Default 0. */
  bootstrapCount?: number;
}

const rungKey = (r: number) => `completedRung${r}`;

export class SuccessiveHalvingPruner implements Pruner {
  private readonly opts: SuccessiveHalvingOptions;
  private minResource: number | null;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;
  readonly bootstrapCount: number;
  /** Restricts the competing trials (Hyperband's brackets). */
  competitorFilter: ((t: FrozenTrial) => boolean) | null = null;

  constructor(opts: SuccessiveHalvingOptions = {}) {
    const mr = opts.minResource ?? 'auto';
    check(mr === 'auto' || (Number.isInteger(mr) && mr >= 1), () => `SuccessiveHalvingPruner: minResource must be 'auto' or an integer >= 1, got ${String(opts.minResource)}`);
    this.minResource = mr === 'auto' ? null : mr;
    this.reductionFactor = checkIntOption(opts.reductionFactor, 4, 2, 'SuccessiveHalvingPruner', 'reductionFactor');
    this.minEarlyStoppingRate = checkIntOption(opts.minEarlyStoppingRate, 0, 0, 'SuccessiveHalvingPruner', 'minEarlyStoppingRate');
    this.bootstrapCount = checkIntOption(opts.bootstrapCount, 0, 0, 'SuccessiveHalvingPruner', 'bootstrapCount');
    check(!(this.bootstrapCount > 0 && mr === 'auto'), 'SuccessiveHalvingPruner: bootstrapCount > 0 needs an explicit minResource');
    this.opts = { ...opts };
  }

  prune(study: PrunerStudyView, trial: FrozenTrial): boolean {
    const step = lastStep(trial);
    if (step === undefined) return false;
    let rung = 0;
    while (rungKey(rung) in trial.systemAttrs) rung++;
    const value = trial.intermediateValues.get(step)!;
    const maximize = study.directions[0] === 'maximize';
    for (;;) {
      if (this.minResource === null) {
        let longest: number | undefined;
        for (const t of study.getTrials(['COMPLETE'])) {
          const s = lastStep(t);
          if (s !== undefined && (longest === undefined || s > longest)) longest = s;
        }
        if (longest === undefined) return false;
        this.minResource = Math.max(Math.floor(longest / 100), 1);
      }
      const promotionStep = this.minResource * this.reductionFactor ** (this.minEarlyStoppingRate + rung);
      if (step < promotionStep) return false;
      if (Number.isNaN(value)) return true;
      const key = rungKey(rung);
      const competing: number[] = [value];
      for (const t of study.getTrials()) {
        if (t.trialId === trial.trialId || !(key in t.systemAttrs)) continue;
        if (this.competitorFilter && !this.competitorFilter(t)) continue;
        competing.push(t.systemAttrs[key] as number);
      }
      study.setTrialSystemAttr(trial.trialId, key, value);
      if (competing.length <= this.bootstrapCount) return true;
      let idx = Math.floor(competing.length / this.reductionFactor) - 1;
      if (idx === -1) idx = 0;
      competing.sort((a, b) => a - b);
      const promotable = maximize ? value >= competing[competing.length - 1 - idx] : value <= competing[idx];
      if (!promotable) return true;
      rung++;
    }
  }

  spec(): PrunerSpec { return { kind: 'SuccessiveHalvingPruner', options: { ...this.opts } }; }
}
