/**
 * Learning-rate schedulers (torch.optim.lr_scheduler), exported as optim.lrScheduler.
 *
 * Each follows PyTorch 1.13's recursive form on step() (each lr computed from the group's current
 * lr) and its closed form on step(epoch), so the sequences agree with PyTorch to rounding.
 * Construction performs the initial step, as PyTorch does: call optimizer.step() then
 * scheduler.step() once per epoch (or per batch for OneCycleLR).
 */
import { checkOptions } from '../options.js';
import { check, checkFinite, checkInt } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

type Group = ParamGroup<{ lr: number }>;
type SchedulerState = Record<string, unknown>;

function checkOptimizer(optimizer: unknown): asserts optimizer is Optimizer {
  check(optimizer instanceof Optimizer, 'optimizer: expected a kiln optim.Optimizer');
}

function copyValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyValue);
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyValue(x)]));
  }
  return v;
}

/** Base class: the lr of every parameter group follows getLr() on each step(). */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  baseLrs: number[];
  lastEpoch: number;
  /** @internal steps taken, the initial one included (CosineAnnealingLR reads it). */
  _stepCount = 0;
  protected lastLr: number[] = [];

  constructor(optimizer: Optimizer, lastEpoch = -1) {
    checkOptimizer(optimizer);
    checkInt(lastEpoch, 'lastEpoch');
    this.optimizer = optimizer;
    const groups = this.groups;
    if (lastEpoch === -1) {
      for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      groups.forEach((g, i) =>
        check(g.initialLr !== undefined, () => `optimizer.paramGroups[${i}].initialLr: needed when resuming (lastEpoch = ${lastEpoch})`));
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  protected get groups(): Group[] {
    return this.optimizer.paramGroups as Group[];
  }

  /** @internal PyTorch's _initial_step: subclasses call it at the end of their constructor. */
  _initialStep(): void {
    this._stepCount = 0;
    this.step();
  }

  /** The recursive form: each group's next lr from its current lr. */
  protected abstract getLr(): number[];
  /** The closed form at lastEpoch, used by step(epoch); defaults to getLr(). */
  protected closedFormLr(): number[] {
    return this.getLr();
  }

  /** Advances one epoch (or jumps to epoch, using the closed form) and sets the groups' lr. */
  step(epoch?: number): void {
    this._stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      checkInt(epoch, 'epoch');
      this.lastEpoch = epoch;
      values = this.closedFormLr();
    }
    this.groups.forEach((g, i) => { g.lr = values[i]; });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The lr of each group after the last step(). */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /** Every field but the optimizer (plain data, JSON-serialisable except ±Infinity). */
  stateDict(): SchedulerState {
    const out: SchedulerState = {};
    for (const [k, v] of Object.entries(this)) if (k !== 'optimizer') out[k] = copyValue(v);
    return out;
  }

  loadStateDict(sd: SchedulerState): void {
    check(sd !== null && typeof sd === 'object', 'stateDict: expected an object');
    for (const [k, v] of Object.entries(sd)) {
      check(k !== 'optimizer', 'stateDict.optimizer: a scheduler state dict holds no optimizer');
      (this as unknown as SchedulerState)[k] = copyValue(v);
    }
  }
}

/** lr *= gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;
  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    checkOptions(options, ['stepSize', 'gamma', 'lastEpoch'], 'StepLR');
    super(optimizer, options?.lastEpoch ?? -1);
    checkInt(options.stepSize, 'stepSize');
    check(options.stepSize >= 1, () => `stepSize: expected an integer >= 1, got ${options.stepSize}`);
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    checkFinite(this.gamma, 'gamma');
    this._initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** lr *= gamma at each milestone epoch. */
export class MultiStepLR extends LRScheduler {
  milestones: number[];
  gamma: number;
  constructor(optimizer: Optimizer, options: { milestones: number[]; gamma?: number; lastEpoch?: number }) {
    checkOptions(options, ['milestones', 'gamma', 'lastEpoch'], 'MultiStepLR');
    super(optimizer, options?.lastEpoch ?? -1);
    check(Array.isArray(options.milestones), 'milestones: expected an array of epochs');
    options.milestones.forEach((m, i) => checkInt(m, `milestones[${i}]`));
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = options.gamma ?? 0.1;
    checkFinite(this.gamma, 'gamma');
    this._initialStep();
  }
  protected getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (hits === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** hits);
  }
  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((b) => b * this.gamma ** passed);
  }
}

/** lr *= gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  gamma: number;
  constructor(optimizer: Optimizer, options: { gamma: number; lastEpoch?: number }) {
    checkOptions(options, ['gamma', 'lastEpoch'], 'ExponentialLR');
    super(optimizer, options?.lastEpoch ?? -1);
    checkFinite(options.gamma, 'gamma');
    this.gamma = options.gamma;
    this._initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => b * this.gamma ** this.lastEpoch);
  }
}

/** Cosine from the base lr down to etaMin over tMax epochs (then back up, periodically). */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;
  constructor(optimizer: Optimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    checkOptions(options, ['tMax', 'etaMin', 'lastEpoch'], 'CosineAnnealingLR');
    super(optimizer, options?.lastEpoch ?? -1);
    checkInt(options.tMax, 'tMax');
    check(options.tMax >= 1, () => `tMax: expected an integer >= 1, got ${options.tMax}`);
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    checkFinite(this.etaMin, 'etaMin');
    this._initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, tMax, etaMin } = this;
    if (e === 0) return this.groups.map((g) => g.lr);
    if (this._stepCount === 1 && e > 0) {
      return this.baseLrs.map((b) => etaMin + ((b - etaMin) * (1 + Math.cos((e * Math.PI) / tMax))) / 2);
    }
    if ((((e - 1 - tMax) % (2 * tMax)) + 2 * tMax) % (2 * tMax) === 0) {
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return this.groups.map((g) =>
      ((1 + Math.cos((Math.PI * e) / tMax)) / (1 + Math.cos((Math.PI * (e - 1)) / tMax))) * (g.lr - etaMin) + etaMin);
  }
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((b) => this.etaMin + ((b - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/** lr factor moves linearly from startFactor to endFactor over totalIters epochs (linear warm-up). */
export class LinearLR extends LRScheduler {
  startFactor: number;
  endFactor: number;
  totalIters: number;
  constructor(optimizer: Optimizer, options: { startFactor?: number; endFactor?: number; totalIters?: number; lastEpoch?: number } = {}) {
    checkOptions(options, ['startFactor', 'endFactor', 'totalIters', 'lastEpoch'], 'LinearLR');
    super(optimizer, options.lastEpoch ?? -1);
    this.startFactor = options.startFactor ?? 1 / 3;
    this.endFactor = options.endFactor ?? 1;
    this.totalIters = options.totalIters ?? 5;
    check(Number.isFinite(this.startFactor) && this.startFactor > 0 && this.startFactor <= 1,
      () => `startFactor: expected a number in (0, 1], got ${this.startFactor}`);
    check(Number.isFinite(this.endFactor) && this.endFactor >= 0 && this.endFactor <= 1,
      () => `endFactor: expected a number in [0, 1], got ${this.endFactor}`);
    checkInt(this.totalIters, 'totalIters');
    check(this.totalIters >= 1, () => `totalIters: expected an integer >= 1, got ${this.totalIters}`);
    this._initialStep();
  }
  protected getLr(): number[] {
    const { lastEpoch: e, startFactor: s, endFactor: f, totalIters: n } = this;
    if (e === 0) return this.groups.map((g) => g.lr * s);
    if (e > n) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (f - s) / (n * s + (e - 1) * (f - s))));
  }
  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: f, totalIters: n } = this;
    return this.baseLrs.map((b) => b * (s + ((f - s) * Math.min(n, this.lastEpoch)) / n));
  }
}

export interface OneCycleOptions {
  maxLr: number | number[];
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  /** Cycle momentum (SGD/RMSprop momentum, Adam beta1) inversely to the lr; default true as PyTorch. */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
  lastEpoch?: number;
}

interface Phase {
  endStep: number;
  startLr: string;
  endLr: string;
  startMomentum: string;
  endMomentum: string;
}

/** The 1cycle policy: warm up from maxLr/divFactor to maxLr, then anneal to a tiny lr. Step it every batch. */
export class OneCycleLR extends LRScheduler {
  totalSteps: number;
  annealStrategy: 'cos' | 'linear';
  cycleMomentum: boolean;
  useBeta1: boolean;
  schedulePhases: Phase[];

  constructor(optimizer: Optimizer, options: OneCycleOptions) {
    checkOptions(options, ['maxLr', 'totalSteps', 'epochs', 'stepsPerEpoch', 'pctStart', 'annealStrategy', 'cycleMomentum',
      'baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor', 'threePhase', 'lastEpoch'], 'OneCycleLR');
    super(optimizer, options?.lastEpoch ?? -1);
    const o = options;
    if (o.totalSteps !== undefined) {
      checkInt(o.totalSteps, 'totalSteps');
      check(o.totalSteps > 0, () => `totalSteps: expected a positive integer, got ${o.totalSteps}`);
      this.totalSteps = o.totalSteps;
    } else {
      check(o.epochs !== undefined && o.stepsPerEpoch !== undefined, 'totalSteps: give totalSteps, or epochs and stepsPerEpoch');
      checkInt(o.epochs, 'epochs');
      checkInt(o.stepsPerEpoch, 'stepsPerEpoch');
      check(o.epochs > 0, () => `epochs: expected a positive integer, got ${o.epochs}`);
      check(o.stepsPerEpoch > 0, () => `stepsPerEpoch: expected a positive integer, got ${o.stepsPerEpoch}`);
      this.totalSteps = o.epochs * o.stepsPerEpoch;
    }
    const pct = o.pctStart ?? 0.3;
    check(Number.isFinite(pct) && pct >= 0 && pct <= 1, () => `pctStart: expected a number in [0, 1], got ${pct}`);
    this.annealStrategy = o.annealStrategy ?? 'cos';
    check(this.annealStrategy === 'cos' || this.annealStrategy === 'linear',
      () => `annealStrategy: expected 'cos' or 'linear', got ${String(this.annealStrategy)}`);
    const divFactor = o.divFactor ?? 25, finalDivFactor = o.finalDivFactor ?? 1e4;
    checkFinite(divFactor, 'divFactor');
    checkFinite(finalDivFactor, 'finalDivFactor');
    const T = this.totalSteps;
    this.schedulePhases = o.threePhase
      ? [
          { endStep: pct * T - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: 2 * pct * T - 2, startLr: 'maxLr', endLr: 'initialLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
          { endStep: T - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pct * T - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: T - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    const perGroup = (name: string, v: number | number[]): number[] => {
      const vs = Array.isArray(v) ? v : this.groups.map(() => v);
      check(vs.length === this.groups.length, () => `${name}: expected ${this.groups.length} values (one per group), got ${vs.length}`);
      vs.forEach((x, i) => checkFinite(x, `${name}[${i}]`));
      return vs;
    };
    const maxLrs = perGroup('maxLr', o.maxLr);
    const fresh = (o.lastEpoch ?? -1) === -1;
    if (fresh) {
      this.groups.forEach((g, i) => {
        g.initialLr = maxLrs[i] / divFactor;
        g.maxLr = maxLrs[i];
        g.minLr = (g.initialLr as number) / finalDivFactor;
      });
    }
    this.baseLrs = this.groups.map((g) => g.initialLr as number);
    this.cycleMomentum = o.cycleMomentum ?? true;
    const defaults = this.optimizer.defaults as unknown as Record<string, unknown>;
    this.useBeta1 = 'betas' in defaults;
    if (this.cycleMomentum) {
      check('momentum' in defaults || 'betas' in defaults, 'cycleMomentum: the optimizer has no momentum or betas (pass cycleMomentum: false)');
      const maxM = perGroup('maxMomentum', o.maxMomentum ?? 0.95), baseM = perGroup('baseMomentum', o.baseMomentum ?? 0.85);
      if (fresh) {
        this.groups.forEach((g, i) => {
          this.setMomentum(g, maxM[i]);
          g.maxMomentum = maxM[i];
          g.baseMomentum = baseM[i];
        });
      }
    }
    this._initialStep();
  }

  private setMomentum(g: Group, m: number): void {
    if (this.useBeta1) g.betas = [m, (g.betas as number[])[1]];
    else g.momentum = m;
  }

  private anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === 'cos') return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    return (end - start) * pct + start;
  }

  protected getLr(): number[] {
    const stepNum = this.lastEpoch;
    check(stepNum <= this.totalSteps, () => `step: tried to step ${stepNum + 1} times; totalSteps is ${this.totalSteps}`);
    return this.groups.map((g) => {
      let startStep = 0;
      let lr = 0;
      for (let i = 0; i < this.schedulePhases.length; i++) {
        const ph = this.schedulePhases[i];
        if (stepNum <= ph.endStep || i === this.schedulePhases.length - 1) {
          const pct = (stepNum - startStep) / (ph.endStep - startStep);
          lr = this.anneal(g[ph.startLr] as number, g[ph.endLr] as number, pct);
          if (this.cycleMomentum) this.setMomentum(g, this.anneal(g[ph.startMomentum] as number, g[ph.endMomentum] as number, pct));
          break;
        }
        startStep = ph.endStep;
      }
      return lr;
    });
  }
}

/** Runs schedulers one after another, switching at each milestone (e.g. LinearLR warm-up, then cosine). */
export class SequentialLR {
  readonly optimizer: Optimizer;
  lastEpoch: number;
  private schedulers: LRScheduler[];
  private milestones: number[];
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: { schedulers: LRScheduler[]; milestones: number[]; lastEpoch?: number }) {
    checkOptions(options, ['schedulers', 'milestones', 'lastEpoch'], 'SequentialLR');
    checkOptimizer(optimizer);
    const { schedulers, milestones } = options;
    check(Array.isArray(schedulers) && schedulers.length > 0, 'schedulers: expected a non-empty array of schedulers');
    schedulers.forEach((s, i) => {
      check(s instanceof LRScheduler, () => `schedulers[${i}]: expected an LRScheduler (not ReduceLROnPlateau or SequentialLR)`);
      check(s.optimizer === optimizer, () => `schedulers[${i}]: belongs to another optimizer`);
    });
    check(Array.isArray(milestones) && milestones.length === schedulers.length - 1,
      () => `milestones: expected ${schedulers.length - 1} milestones (one fewer than schedulers), got ${milestones?.length}`);
    milestones.forEach((m, i) => checkInt(m, `milestones[${i}]`));
    this.optimizer = optimizer;
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    // Undo the initial steps the schedulers took when built, then redo the first one's.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr as number;
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0]._initialStep();
    this.lastLr = schedulers[0].getLastLr();
  }

  step(): void {
    this.lastEpoch++;
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx] <= this.lastEpoch) idx++;
    const s = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerState {
    return { lastEpoch: this.lastEpoch, milestones: [...this.milestones], lastLr: [...this.lastLr],
      schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  loadStateDict(sd: SchedulerState): void {
    check(sd !== null && typeof sd === 'object' && Array.isArray(sd.schedulers), 'stateDict: expected a SequentialLR state dict');
    const subs = sd.schedulers as SchedulerState[];
    check(subs.length === this.schedulers.length,
      () => `stateDict.schedulers: has ${subs.length} schedulers, this SequentialLR has ${this.schedulers.length}`);
    this.lastEpoch = sd.lastEpoch as number;
    this.milestones = [...(sd.milestones as number[])];
    this.lastLr = [...(sd.lastLr as number[])];
    subs.forEach((s, i) => this.schedulers[i].loadStateDict(s));
  }
}

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number | number[];
  eps?: number;
}

/** Multiplies lr by factor when the metric passed to step(metric) has not improved for patience epochs. */
export class ReduceLROnPlateau {
  readonly optimizer: Optimizer;
  mode: 'min' | 'max';
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: 'rel' | 'abs';
  cooldown: number;
  minLrs: number[];
  eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: Optimizer, options: ReduceLROnPlateauOptions = {}) {
    checkOptions(options, ['mode', 'factor', 'patience', 'threshold', 'thresholdMode', 'cooldown', 'minLr', 'eps'], 'ReduceLROnPlateau');
    checkOptimizer(optimizer);
    this.optimizer = optimizer;
    this.mode = options.mode ?? 'min';
    this.factor = options.factor ?? 0.1;
    this.patience = options.patience ?? 10;
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? 'rel';
    this.cooldown = options.cooldown ?? 0;
    this.eps = options.eps ?? 1e-8;
    check(this.mode === 'min' || this.mode === 'max', () => `mode: expected 'min' or 'max', got ${String(this.mode)}`);
    check(this.thresholdMode === 'rel' || this.thresholdMode === 'abs',
      () => `thresholdMode: expected 'rel' or 'abs', got ${String(this.thresholdMode)}`);
    check(Number.isFinite(this.factor) && this.factor >= 0 && this.factor < 1, () => `factor: expected a number in [0, 1), got ${this.factor}`);
    checkInt(this.patience, 'patience');
    checkInt(this.cooldown, 'cooldown');
    check(this.patience >= 0, () => `patience: expected an integer >= 0, got ${this.patience}`);
    check(this.cooldown >= 0, () => `cooldown: expected an integer >= 0, got ${this.cooldown}`);
    checkFinite(this.threshold, 'threshold');
    checkFinite(this.eps, 'eps');
    const n = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    this.minLrs = Array.isArray(minLr) ? [...minLr] : new Array<number>(n).fill(minLr);
    check(this.minLrs.length === n, () => `minLr: expected ${n} values (one per group), got ${this.minLrs.length}`);
    this.minLrs.forEach((v, i) => check(Number.isFinite(v) && v >= 0, () => `minLr[${i}]: expected a finite number >= 0, got ${v}`));
    this.best = this.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private isBetter(a: number, best: number): boolean {
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < best * (1 - this.threshold) : a < best - this.threshold;
    return this.thresholdMode === 'rel' ? a > best * (this.threshold + 1) : a > best + this.threshold;
  }

  /** Records one epoch's metric (a number or a one-element tensor) and reduces lr on a plateau. */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    check(typeof current === 'number' && !Number.isNaN(current), () => `metric: expected a number, got ${String(metric)}`);
    this.lastEpoch++;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.factor, this.minLrs[i]);
        if (g.lr - newLr > this.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerState {
    const out: SchedulerState = {};
    for (const [k, v] of Object.entries(this)) if (k !== 'optimizer') out[k] = copyValue(v);
    return out;
  }

  loadStateDict(sd: SchedulerState): void {
    check(sd !== null && typeof sd === 'object', 'stateDict: expected an object');
    for (const [k, v] of Object.entries(sd)) if (k !== 'optimizer') (this as unknown as SchedulerState)[k] = copyValue(v);
    // JSON turns the initial ±Infinity into null.
    if (this.best === null) this.best = this.mode === 'min' ? Infinity : -Infinity;
  }
}
