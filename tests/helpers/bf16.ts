// bfloat16 references in float64: rounding of any double to bfloat16 (nearest, ties to even,
// with bfloat16's subnormals and overflow to infinity), written from the definition (scaling by
// the value's ulp), not from the bit trick the kernels use.
import * as kiln from '../../src/index.js';
import { rng as unitRng } from './reference.js';

/** x rounded to the nearest bfloat16 (ties to even); NaN stays NaN, the sign of zero is kept. */
export function refBf16(x: number): number {
  if (Number.isNaN(x) || x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  // 8 significant bits; below 2^-126 the spacing stays 2^-133 (subnormals)
  const ulp = 2 ** (Math.max(e, -126) - 7);
  const q = a / ulp;
  const fl = Math.floor(q);
  const frac = q - fl;
  const r = frac > 0.5 ? fl + 1 : frac < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
  const v = r * ulp >= 2 ** 128 ? Infinity : r * ulp;
  return x < 0 ? -v : v;
}

/** The spacing of bfloat16 values at |x| (x a bfloat16 value or near one). */
export function bf16Ulp(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -126) return 2 ** -133;
  return 2 ** (Math.floor(Math.log2(a)) - 7);
}

/** Equal as values, NaN equal to NaN and -0 distinct from 0. */
export const same = (a: number, b: number) => (Number.isNaN(a) && Number.isNaN(b)) || Object.is(a, b);

/** A small deterministic generator of numbers in [-1, 1): the shared mulberry32, widened. */
export function rng(seed: number): () => number {
  const unit = unitRng(seed);
  return () => unit() * 2 - 1;
}

/** bfloat16-representable values (float64 numbers) of a shape, scaled. */
export function bf16Values(n: number, seed: number, scale = 1): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => refBf16(r() * scale));
}

/** A bfloat16 tensor holding exactly `values` (which must be bfloat16 values). */
export function bf16Tensor(values: number[], shape: number[], requiresGrad = false): kiln.Tensor {
  return kiln.tensor(values, { dtype: 'bfloat16', shape, requiresGrad });
}

/**
 * Central differences, in float64, of a loss evaluated in float32 on float32 copies of the
 * (bfloat16-rounded) inputs: the gradient the bfloat16 autograd should approximate.
 */
export function fdGrads(f: (xs: kiln.Tensor[]) => kiln.Tensor, values: number[][], shapes: number[][], h = 1e-2): number[][] {
  const evalAt = (vals: number[][]) => kiln.noGrad(() => kiln.scope(() => {
    const ts = vals.map((v, i) => kiln.tensor(Float32Array.from(v), { shape: shapes[i] }));
    return f(ts).item();
  }));
  return values.map((v, i) => v.map((x, j) => {
    const step = h * Math.max(1, Math.abs(x));
    const up = values.map((w) => [...w]);
    const dn = values.map((w) => [...w]);
    up[i][j] = Math.fround(x + step);
    dn[i][j] = Math.fround(x - step);
    return (evalAt(up) - evalAt(dn)) / (up[i][j] - dn[i][j]);
  }));
}
