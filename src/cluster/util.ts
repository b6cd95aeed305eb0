/** Input checks and host-side randomness shared by kiln.cluster and kiln.mixture. */
import { tensor } from '../creation.js';
import { isFloating } from '../dtype.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { noGrad } from '../autograd/engine.js';
import { scope } from '../memory.js';
import { hostRandom } from '../random.js';
import { Tensor } from '../tensor.js';

/** Data the estimators take: a float Tensor [n, d], or a nested array / rows of numbers (as float64). */
export type DataLike = Tensor | number[][] | Float64Array[] | Float32Array[];

/**
 * X as a 2-D float tensor; `owned` when it was made here (the caller disposes it). Rejects
 * NaN and infinity (every estimator here would turn them into NaN parameters).
 */
export function asData(X: unknown, name: string, what: string): { X: Tensor; owned: boolean } {
  let t: Tensor;
  let owned = false;
  if (X instanceof Tensor) {
    t = X;
  } else {
    check(Array.isArray(X) && X.length > 0 && X.every((r) => Array.isArray(r) || ArrayBuffer.isView(r)),
      () => `${what}: ${name}: expected a Tensor [nSamples, nFeatures] or an array of rows`);
    const rows = X as ArrayLike<number>[];
    const d = rows[0].length;
    const flat = new Float64Array(rows.length * d);
    rows.forEach((r, i) => {
      check(r.length === d, () => `${what}: ${name}: row ${i} has ${r.length} values, row 0 has ${d}`);
      for (let j = 0; j < d; j++) flat[i * d + j] = r[j];
    });
    t = tensor(flat, { dtype: 'float64', shape: [rows.length, d] });
    owned = true;
  }
  check(isFloating(t.dtype) && t.dtype !== 'bfloat16', () => `${what}: ${name}: expected a float32 or float64 tensor, got ${t.dtype}`);
  check(t.ndim === 2, () => `${what}: ${name}: expected shape [nSamples, nFeatures], got ${shapeStr(t.shape)}`);
  check(t.shape[1] > 0, () => `${what}: ${name}: expected at least one feature`);
  if (!allFinite(t)) {
    if (owned) t.dispose();
    throw new KilnError(`${what}: ${name} contains NaN or infinity`);
  }
  return { X: t, owned };
}

/**
 * Whether every element is finite. sklearn's fast path first: a finite sum has no NaN or
 * infinity in it (one read, no temporary); only when the sum is not finite (a bad value, or
 * finite values that overflow) each element is checked (x - x is 0 exactly where x is finite).
 */
export function allFinite(t: Tensor): boolean {
  return scope(() => noGrad(() => Number.isFinite(t.sum().item()) || t.sub(t).sum().item() === 0));
}

/** Rejects keys an options object should not have. */
export function checkKeys(opts: unknown, allowed: readonly string[], what: string): Record<string, unknown> {
  if (opts === undefined) return {};
  check(opts !== null && typeof opts === 'object' && !Array.isArray(opts), () => `${what}: options: expected an object`);
  for (const k of Object.keys(opts as object)) {
    check(allowed.includes(k), () => `${what}: unknown option '${k}' (expected one of ${allowed.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}

export function intOption(v: unknown, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  check(Number.isInteger(v) && (v as number) >= min, () => `${name}: expected an integer >= ${min}, got ${String(v)}`);
  return v as number;
}

export function numberOption(v: unknown, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  check(typeof v === 'number' && Number.isFinite(v) && v >= min, () => `${name}: expected a finite number >= ${min}, got ${String(v)}`);
  return v;
}

export function choiceOption<T extends string>(v: unknown, name: string, dflt: T, choices: readonly T[]): T {
  if (v === undefined) return dflt;
  check(choices.includes(v as T), () => `${name}: expected one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${String(v)}`);
  return v as T;
}

/** A seeded host generator (uniform in [0, 1)); no seed draws one, as sklearn's random_state=None. */
export function makeRng(seed: unknown, name = 'seed'): () => number {
  if (seed === undefined || seed === null) return hostRandom(Math.floor(Math.random() * 2 ** 32));
  check(Number.isInteger(seed) && (seed as number) >= 0, () => `${name}: expected a non-negative integer, got ${String(seed)}`);
  return hostRandom(seed as number);
}

/** k distinct integers in [0, n), in draw order (Floyd's algorithm would lose the order; k is small). */
export function chooseDistinct(rand: () => number, n: number, k: number): number[] {
  check(k <= n, () => `cannot choose ${k} distinct rows out of ${n}`);
  if (k * 4 > n) {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(rand() * (n - i));
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all.slice(0, k);
  }
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < k) {
    const i = Math.floor(rand() * n);
    if (!seen.has(i)) {
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}

/** A standard-normal draw from a uniform generator (Box-Muller). */
export function gaussian(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
