/**
 * Trial: what an objective receives. suggest* records a parameter (drawn by the sampler the first
 * time, the same value when asked again), report/shouldPrune talk to the pruner. Every call goes
 * straight to storage, so a journal holds each parameter and report as soon as it is made.
 */
import { KilnError, check } from '../errors.js';
import {
  CategoricalDistribution, type Distribution, FloatDistribution, IntDistribution, type NumericOptions, type ParamValue, sameDistribution,
} from './distributions.js';
import type { Study } from './study.js';
import type { FrozenTrial } from './types.js';

/** Throw from an objective to end its trial as PRUNED. */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

export class Trial {
  readonly study: Study;
  readonly trialId: number;
  readonly number: number;
  private readonly relativeSpace: Record<string, Distribution>;
  private readonly relativeParams: Record<string, ParamValue>;

  /** @internal created by Study.ask */
  constructor(study: Study, trialId: number, relativeSpace: Record<string, Distribution>, relativeParams: Record<string, ParamValue>) {
    this.study = study;
    this.trialId = trialId;
    this.number = study.storage.getTrial(trialId).number;
    this.relativeSpace = relativeSpace;
    this.relativeParams = relativeParams;
  }

  private get frozen(): FrozenTrial {
    return this.study.storage.getTrial(this.trialId);
  }

  suggestFloat(name: string, low: number, high: number, opts: NumericOptions = {}): number {
    checkName(name, 'suggestFloat');
    check(opts !== null && typeof opts === 'object', 'suggestFloat: options must be an object { log?, step? }');
    return this.suggest(name, new FloatDistribution(low, high, opts, `suggestFloat('${name}')`)) as number;
  }

  suggestInt(name: string, low: number, high: number, opts: NumericOptions = {}): number {
    checkName(name, 'suggestInt');
    check(opts !== null && typeof opts === 'object', 'suggestInt: options must be an object { log?, step? }');
    return this.suggest(name, new IntDistribution(low, high, opts, `suggestInt('${name}')`)) as number;
  }

  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    checkName(name, 'suggestCategorical');
    return this.suggest(name, new CategoricalDistribution(choices, `suggestCategorical('${name}')`)) as T;
  }

  private suggest(name: string, dist: Distribution): ParamValue {
    const t = this.frozen;
    if (name in t.params) {
      const old = t.distributions[name];
      if (!sameDistribution(old, dist)) {
        throw new KilnError(`suggest: parameter '${name}' was already suggested in trial ${this.number} with a different distribution`);
      }
      return t.params[name];
    }
    if (dist.single()) return this.store(name, dist, dist.kind === 'categorical' ? dist.choices[0] : dist.low);
    const rel = this.relativeSpace[name];
    if (rel !== undefined && name in this.relativeParams && sameDistribution(rel, dist)) {
      return this.store(name, dist, this.relativeParams[name]);
    }
    const v = this.study.sampler.sampleIndependent(this.study.view, t, name, dist);
    return this.store(name, dist, v);
  }

  private store(name: string, dist: Distribution, value: ParamValue): ParamValue {
    const internal = dist.toInternal(value);
    if (!dist.contains(internal)) {
      throw new KilnError(`suggest: the sampler returned ${JSON.stringify(value)} for '${name}', outside its distribution`);
    }
    this.study.storage.setParam(this.trialId, name, dist, internal);
    return dist.toExternal(internal);
  }

  /** Records an intermediate objective value (e.g. validation loss after `step` epochs). */
  report(value: number, step: number): void {
    check(this.study.directions.length === 1, 'report: intermediate values cannot be reported in a multi-objective study');
    check(typeof value === 'number', () => `report: value must be a number, got ${typeof value}`);
    check(Number.isInteger(step) && step >= 0, () => `report: step must be an integer >= 0, got ${String(step)}`);
    if (this.frozen.intermediateValues.has(step)) {
      process.emitWarning(`kiln.tune: trial ${this.number} already reported a value at step ${step}; the new value is ignored`);
      return;
    }
    this.study.storage.reportIntermediate(this.trialId, step, value);
  }

  /** True when the pruner says this trial should stop (then throw new TrialPruned()). */
  shouldPrune(): boolean {
    check(this.study.directions.length === 1, 'shouldPrune: pruning is not supported in multi-objective studies');
    return this.study.pruner.prune(this.study.view, this.frozen);
  }

  setUserAttr(key: string, value: unknown): void {
    check(typeof key === 'string' && key.length > 0, 'setUserAttr: key must be a non-empty string');
    check(value === undefined || JSON.stringify(value) !== undefined, () => `setUserAttr: value of '${key}' must be JSON-serialisable`);
    this.study.storage.setTrialAttr(this.trialId, 'uattr', key, value);
  }

  get params(): Record<string, ParamValue> { return { ...this.frozen.params }; }
  get distributions(): Record<string, Distribution> { return { ...this.frozen.distributions }; }
  get userAttrs(): Record<string, unknown> { return { ...this.frozen.userAttrs }; }
  get datetimeStart(): Date | undefined { return this.frozen.datetimeStart; }
}

function checkName(name: unknown, fn: string): void {
  check(typeof name === 'string' && name.length > 0, () => `${fn}: name must be a non-empty string, got ${String(name)}`);
}

