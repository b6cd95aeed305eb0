/**
 * What fit reports to its callers: the per-epoch record, the per-batch info, the callback
 * hooks, and the early-stopping rule (Keras semantics: stop after `patience` epochs in a row
 * without an improvement larger than minDelta).
 */
import { check } from '../errors.js';

export interface EpochRecord {
  epoch: number;
  loss: number;
  /** Present when the targets are int32 class indices and metrics include 'accuracy'. */
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  /** Training time of the epoch (validation excluded). */
  seconds: number;
  samplesPerSec: number;
  /** Learning rate of the first parameter group during the epoch. */
  lr?: number;
}

export interface BatchInfo {
  epoch: number;
  /** 0-based index of the batch within the epoch. */
  batch: number;
  batches: number;
  loss: number;
  size: number;
}

export interface FitHistory {
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  /** Epoch with the best monitored value (see earlyStopping.monitor). */
  bestEpoch?: number;
}

/** Hooks fit calls, in this order: trainBegin, (epochBegin, batchEnd*, epochEnd)*, trainEnd. */
export interface Callback {
  onTrainBegin?(): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(info: BatchInfo): void | Promise<void>;
  /** Return 'stop' to end training after this epoch. */
  onEpochEnd?(record: EpochRecord, history: EpochRecord[]): void | 'stop' | Promise<void | 'stop'>;
  onTrainEnd?(history: FitHistory): void | Promise<void>;
}
/** The same as Callback (the name fit's option uses). */
export type Callbacks = Callback;

export type Monitor = 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';

export interface EarlyStoppingOptions {
  /** Default: 'valLoss' when there is validation data, else 'loss'. */
  monitor?: Monitor;
  /** Stop after this many epochs in a row without improvement. Default 0 (the first miss). */
  patience?: number;
  /** Smallest change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Default: 'max' for accuracies, 'min' for losses. */
  mode?: 'min' | 'max';
}

const MONITORS: Monitor[] = ['loss', 'valLoss', 'accuracy', 'valAccuracy'];

/** Tracks the best monitored value; also gives fit its bestEpoch when no early stopping is asked for. */
export class BestTracker {
  readonly monitor: Monitor;
  readonly mode: 'min' | 'max';
  private readonly minDelta: number;
  private best: number;
  bestEpoch: number | undefined;
  sinceBest = 0;

  constructor(opts: EarlyStoppingOptions, hasValData: boolean) {
    this.monitor = opts.monitor ?? (hasValData ? 'valLoss' : 'loss');
    check(MONITORS.includes(this.monitor), () => `earlyStopping.monitor: expected one of ${MONITORS.join(', ')}, got ${String(opts.monitor)}`);
    check(hasValData || !this.monitor.startsWith('val'), () => `earlyStopping.monitor: '${this.monitor}' needs valData`);
    this.mode = opts.mode ?? (this.monitor.endsWith('ccuracy') ? 'max' : 'min');
    check(this.mode === 'min' || this.mode === 'max', () => `earlyStopping.mode: expected 'min' or 'max', got ${String(opts.mode)}`);
    this.minDelta = opts.minDelta ?? 0;
    check(Number.isFinite(this.minDelta) && this.minDelta >= 0, () => `earlyStopping.minDelta: expected a number >= 0, got ${String(opts.minDelta)}`);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  /** Records an epoch; returns the number of epochs in a row without improvement. */
  observe(record: EpochRecord): number {
    const v = record[this.monitor];
    if (typeof v !== 'number' || Number.isNaN(v)) return this.sinceBest;
    const improved = this.mode === 'min' ? v < this.best - this.minDelta : v > this.best + this.minDelta;
    if (improved) {
      this.best = v;
      this.bestEpoch = record.epoch;
      this.sinceBest = 0;
    } else {
      this.sinceBest++;
    }
    return this.sinceBest;
  }
}

/** Early stopping: `shouldStop` returns true when training should stop after this epoch. */
export class EarlyStopper extends BestTracker {
  readonly patience: number;

  constructor(opts: EarlyStoppingOptions, hasValData: boolean) {
    super(opts, hasValData);
    this.patience = opts.patience ?? 0;
    check(Number.isInteger(this.patience) && this.patience >= 0, () => `earlyStopping.patience: expected an integer >= 0, got ${String(opts.patience)}`);
  }

  shouldStop(record: EpochRecord): boolean {
    const wait = this.observe(record);
    return wait > 0 && wait >= this.patience; // as Keras and Lightning: patience 0 and 1 both stop at the first miss
  }
}
