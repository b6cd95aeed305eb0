/**
 * fit integration: a Callback that reports the monitored metric to the trial after every epoch
 * and ends training by throwing TrialPruned when the pruner says so (the objective's await of
 * kiln.fit then rethrows it and the trial is recorded as PRUNED).
 */
import { KilnError, check } from '../errors.js';
import type { Callback, EpochRecord, Monitor } from '../train/callbacks.js';
import { type Trial, TrialPruned } from './trial.js';

const MONITORS: Monitor[] = ['valLoss', 'valAccuracy', 'loss', 'accuracy'];

export class PruningCallback implements Callback {
  readonly trial: Trial;
  readonly monitor: Monitor;

  constructor(trial: Trial, opts: { monitor?: Monitor } = {}) {
    check(trial !== null && typeof trial === 'object' && typeof trial.report === 'function', 'PruningCallback: expected a trial');
    this.trial = trial;
    this.monitor = opts.monitor ?? 'valLoss';
    check(MONITORS.includes(this.monitor), () => `PruningCallback: monitor must be one of ${MONITORS.join(', ')}, got ${String(opts.monitor)}`);
    const wants = this.monitor.endsWith('ccuracy') ? 'maximize' : 'minimize';
    const dir = trial.study.directions[0];
    check(trial.study.directions.length === 1 && dir === wants,
      () => `PruningCallback: monitor '${this.monitor}' should be ${wants}d, but the study direction is '${trial.study.directions.join(', ')}'`);
  }

  onEpochEnd(record: EpochRecord): void {
    const v = record[this.monitor];
    if (typeof v !== 'number') {
      throw new KilnError(`PruningCallback: epoch ${record.epoch} has no '${this.monitor}'${this.monitor.startsWith('val') ? ' (pass valData to fit)' : ''}`);
    }
    this.trial.report(v, record.epoch);
    if (this.trial.shouldPrune()) throw new TrialPruned(`pruned after epoch ${record.epoch} (${this.monitor} ${v})`);
  }
}
