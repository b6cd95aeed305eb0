/**
 * The three kinds of search dimension a trial can suggest. Each maps a user-facing value to an
 * internal number (floats and ints as themselves, categoricals as the index of the choice), which
 * is what storage keeps and samplers model.
 */
import { KilnError, check } from '../errors.js';

export type ParamValue = number | string | boolean | null;

export interface DistributionJson {
  kind: 'float' | 'int' | 'categorical';
  low?: number;
  high?: number;
  log?: boolean;
  step?: number | null;
  choices?: ParamValue[];
}

export interface NumericOptions {
  /** Sample on a log scale (low must be > 0). */
  log?: boolean;
  /** Grid spacing from low; cannot be combined with log. */
  step?: number;
}

function checkRange(low: number, high: number, name: string, log: boolean, step: number | null): void {
  check(Number.isFinite(low), () => `${name}: low must be a finite number, got ${String(low)}`);
  check(Number.isFinite(high), () => `${name}: high must be a finite number, got ${String(high)}`);
  check(low <= high, () => `${name}: expected low <= high, got low=${low}, high=${high}`);
  check(!log || low > 0, () => `${name}: a log-scaled range needs low > 0, got low=${low}`);
  check(!(log && step !== null), () => `${name}: log and step cannot be used together`);
  check(step === null || (Number.isFinite(step) && step > 0), () => `${name}: step must be a number > 0, got ${String(step)}`);
}

export class FloatDistribution {
  readonly kind = 'float' as const;
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number | null;

  constructor(low: number, high: number, opts: NumericOptions = {}, name = 'suggestFloat') {
    const step = opts.step ?? null;
    const log = opts.log ?? false;
    checkRange(low, high, name, log, step);
    this.low = low;
    // as with an int grid, a range that is not a whole number of steps ends at the last step
    this.high = step === null ? high : low + Math.floor((high - low) / step + 1e-9) * step;
    this.log = log;
    this.step = step;
  }
  toInternal(v: ParamValue): number { return v as number; }
  toExternal(x: number): ParamValue { return x; }
  contains(x: number): boolean {
    if (!(x >= this.low && x <= this.high)) return false;
    if (this.step === null) return true;
    const k = (x - this.low) / this.step;
    return Math.abs(k - Math.round(k)) < 1e-8;
  }
  single(): boolean { return this.low === this.high; }
  toJSON(): DistributionJson { return { kind: 'float', low: this.low, high: this.high, log: this.log, step: this.step }; }
}

export class IntDistribution {
  readonly kind = 'int' as const;
  readonly low: number;
  readonly high: number;
  readonly log: boolean;
  readonly step: number;

  constructor(low: number, high: number, opts: NumericOptions = {}, name = 'suggestInt') {
    const log = opts.log ?? false;
    check(Number.isInteger(low), () => `${name}: low must be an integer, got ${String(low)}`);
    check(Number.isInteger(high), () => `${name}: high must be an integer, got ${String(high)}`);
    check(opts.step === undefined || Number.isInteger(opts.step), () => `${name}: step must be an integer, got ${String(opts.step)}`);
    // step 1 is every integer, so it may go with log
    checkRange(low, high, name, log, opts.step === undefined || opts.step === 1 ? null : opts.step);
    const step = opts.step ?? 1;
    this.low = low;
    this.high = low + Math.floor((high - low) / step) * step;
    this.log = log;
    this.step = step;
  }
  toInternal(v: ParamValue): number { return v as number; }
  toExternal(x: number): ParamValue { return Math.round(x); }
  contains(x: number): boolean {
    return Number.isInteger(x) && x >= this.low && x <= this.high && (x - this.low) % this.step === 0;
  }
  single(): boolean { return this.low === this.high; }
  toJSON(): DistributionJson { return { kind: 'int', low: this.low, high: this.high, log: this.log, step: this.step }; }
}

export class CategoricalDistribution {
  readonly kind = 'categorical' as const;
  readonly choices: readonly ParamValue[];

  constructor(choices: readonly ParamValue[], name = 'suggestCategorical') {
    check(Array.isArray(choices) && choices.length > 0, () => `${name}: choices must be a non-empty array`);
    for (const c of choices) {
      check(c === null || typeof c === 'string' || typeof c === 'boolean' || (typeof c === 'number' && Number.isFinite(c)),
        () => `${name}: choices must be strings, finite numbers, booleans or null, got ${String(c)}`);
    }
    check(new Set(choices).size === choices.length, () => `${name}: choices must be distinct`);
    this.choices = [...choices];
  }
  toInternal(v: ParamValue): number {
    const i = this.choices.indexOf(v);
    if (i < 0) throw new KilnError(`value ${JSON.stringify(v)} is not one of the choices ${JSON.stringify(this.choices)}`);
    return i;
  }
  toExternal(x: number): ParamValue { return this.choices[x]; }
  contains(x: number): boolean { return Number.isInteger(x) && x >= 0 && x < this.choices.length; }
  single(): boolean { return this.choices.length === 1; }
  toJSON(): DistributionJson { return { kind: 'categorical', choices: [...this.choices] }; }
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

export function distributionFromJson(j: DistributionJson): Distribution {
  if (j.kind === 'float') return new FloatDistribution(j.low!, j.high!, { log: j.log, step: j.step ?? undefined });
  if (j.kind === 'int') return new IntDistribution(j.low!, j.high!, { log: j.log, step: j.step ?? undefined });
  if (j.kind === 'categorical') return new CategoricalDistribution(j.choices!);
  throw new KilnError(`unknown distribution kind ${JSON.stringify((j as { kind: unknown }).kind)}`);
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  return JSON.stringify(a.toJSON()) === JSON.stringify(b.toJSON());
}

/** The value space of a numeric distribution as the samplers model it: [low, high], log-scaled when asked. */
export function isLogScaled(d: Distribution): boolean {
  return d.kind !== 'categorical' && d.log;
}
