// Helpers for the raw-addon kernel tests: buffers, seeded random data, float64 references.
import { expect } from 'vitest';

export type Native = any; // the raw .node exports (argument orders in native/binding/*.cc)

export const F32 = 0;
export const I32 = 1;

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randArray(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

export function randInts(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = rng(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor((hi - lo) * r());
  return a;
}

export class Buffers {
  constructor(private readonly native: Native) {}

  f32(data: ArrayLike<number>): unknown {
    const h = this.native.alloc(0, F32, data.length);
    if (data.length > 0) this.native.write(h, 0, Float32Array.from(data));
    return h;
  }

  i32(data: ArrayLike<number>): unknown {
    const h = this.native.alloc(0, I32, data.length);
    if (data.length > 0) this.native.write(h, 0, Int32Array.from(data));
    return h;
  }

  /** An output buffer filled with NaN (F32) or a sentinel (I32), so unwritten elements show. */
  poisoned(n: number, dtype = F32): unknown {
    const h = this.native.alloc(0, dtype, n);
    if (n > 0) {
      this.native.write(h, 0, dtype === F32 ? new Float32Array(n).fill(NaN) : new Int32Array(n).fill(-777777));
    }
    return h;
  }

  readF32(h: unknown, n: number): Float32Array {
    const out = new Float32Array(n);
    if (n > 0) this.native.read(h, 0, out);
    return out;
  }

  readI32(h: unknown, n: number): Int32Array {
    const out = new Int32Array(n);
    if (n > 0) this.native.read(h, 0, out);
    return out;
  }
}

/** |a - e| <= atol + rtol * |e| elementwise; NaN matches NaN, infinities must match exactly. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol: number,
  atol = 0,
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) expect.fail(`${label}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    if (!Number.isFinite(e)) {
      if (a !== e) expect.fail(`${label}[${i}]: expected ${e}, got ${a}`);
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`${label}[${i}]: expected ${e}, got ${a} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

export function expectEqualInts(actual: ArrayLike<number>, expected: ArrayLike<number>, label = ''): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) expect.fail(`${label}[${i}]: expected ${expected[i]}, got ${actual[i]}`);
  }
}

/** erf to ~1e-14: Taylor series near 0, continued fraction for erfc further out. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = ax;
  for (let k = 60; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

export function contiguousStrides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(0);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Strides that broadcast `shape` (right-aligned) against `outShape`: 0 where a dim is 1 or missing. */
export function broadcastStrides(shape: number[], outShape: number[]): number[] {
  const own = contiguousStrides(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_, d) => {
    const k = d - off;
    if (k < 0 || shape[k] === 1) return 0;
    return own[k];
  });
}

/** Offsets of every element of a contiguous `shape` in a view with `strides`, row-major order. */
export function viewOffsets(shape: number[], strides: number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  const idx = new Array(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += idx[d] * strides[d];
    out.push(off);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
