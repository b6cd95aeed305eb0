/** Gymnasium's spaces: Discrete(n) actions 0..n-1 and Box(low, high, shape) float32 arrays. */
import { check, shapeStr } from '../errors.js';
import type { Rng } from './rng.js';

export class Discrete {
  readonly kind = 'discrete' as const;
  readonly shape: readonly number[] = [];
  constructor(readonly n: number, readonly start = 0) {
    check(Number.isInteger(n) && n > 0, () => `n: expected a positive integer, got ${String(n)}`);
    check(Number.isInteger(start), () => `start: expected an integer, got ${String(start)}`);
  }
  contains(x: unknown): boolean {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }
  sample(rng: Rng): number {
    return this.start + rng.integer(this.n);
  }
  toJSON() {
    return { kind: this.kind, n: this.n, start: this.start };
  }
}

export class Box {
  readonly kind = 'box' as const;
  readonly low: Float32Array;
  readonly high: Float32Array;
  readonly shape: readonly number[];
  readonly size: number;

  /** low/high: numbers (with shape) or arrays of the box's size. */
  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape?: readonly number[]) {
    const inferred = shape ?? (typeof low !== 'number' ? [low.length] : typeof high !== 'number' ? [high.length] : undefined);
    check(inferred !== undefined, 'shape: needed when low and high are numbers');
    check(Array.isArray(inferred) && inferred.every((d) => Number.isInteger(d) && d > 0),
      () => `shape: expected positive integers, got ${String(inferred)}`);
    this.shape = [...inferred];
    this.size = this.shape.reduce((a, b) => a * b, 1);
    const fill = (v: number | ArrayLike<number>, name: string) => {
      if (typeof v === 'number') return new Float32Array(this.size).fill(v);
      check(v.length === this.size, () => `${name}: expected ${this.size} values for shape ${shapeStr(this.shape)}, got ${v.length}`);
      return Float32Array.from(v);
    };
    this.low = fill(low, 'low');
    this.high = fill(high, 'high');
    for (let i = 0; i < this.size; i++) {
      check(!(this.low[i] > this.high[i]), () => `low: low[${i}] = ${this.low[i]} exceeds high[${i}] = ${this.high[i]}`);
    }
  }
  contains(x: unknown): boolean {
    if (!(x instanceof Float32Array || Array.isArray(x)) || x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) if (!(x[i] >= this.low[i] && x[i] <= this.high[i])) return false;
    return true;
  }
  /** Uniform on bounded dims, normal on unbounded ones, exponential on half-bounded ones (Gymnasium's rule). */
  sample(rng: Rng): Float32Array {
    const out = new Float32Array(this.size);
    for (let i = 0; i < this.size; i++) {
      const lo = this.low[i], hi = this.high[i];
      if (Number.isFinite(lo) && Number.isFinite(hi)) out[i] = rng.uniform(lo, hi);
      else if (Number.isFinite(lo)) out[i] = lo - Math.log(1 - rng.random());
      else if (Number.isFinite(hi)) out[i] = hi + Math.log(1 - rng.random());
      else out[i] = rng.normal();
    }
    return out;
  }
  toJSON() {
    return { kind: this.kind, low: Array.from(this.low), high: Array.from(this.high), shape: [...this.shape] };
  }
}

export type Space = Discrete | Box;

/** Rebuilds a space from its toJSON() form (checkpoints). */
export function spaceFromJSON(j: any): Space {
  check(j !== null && typeof j === 'object', 'space: expected an object');
  if (j.kind === 'discrete') return new Discrete(j.n, j.start ?? 0);
  check(j.kind === 'box', () => `space.kind: expected 'discrete' or 'box', got ${String(j.kind)}`);
  const big = (v: number | null) => (v === null ? NaN : v); // JSON writes ±Infinity as null
  const low = (j.low as (number | null)[]).map((v) => (v === null ? -Infinity : big(v)));
  const high = (j.high as (number | null)[]).map((v) => (v === null ? Infinity : big(v)));
  return new Box(low, high, j.shape);
}

/** Elements in one observation of a space (1 for Discrete). */
export function flatSize(s: Space): number {
  return s.kind === 'box' ? s.size : 1;
}
