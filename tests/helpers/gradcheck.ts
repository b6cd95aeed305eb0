/**
 * Comparing Kiln against the float64 reference (reference.ts).
 *
 * gradcheck(kilnFn, refFn, inputs): (a) Kiln's float32 forward against the reference at ~1e-5
 * relative; (b) Kiln's analytic gradient of sum(out * W), W random and fixed, via backward();
 * (c) central finite differences of the float64 reference (h = 1e-6) at ~1e-4 relative.
 */
import { expect } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { type R, arr, numel, randArr } from './reference.js';

export interface Tol {
  /** relative tolerance; the absolute one is rtol * max(1, max|expected|) unless atol is given */
  rtol?: number;
  atol?: number;
}

/** |a - e| <= rtol*|e| + atol elementwise (atol defaults to rtol * max(1, max|e|)); names the worst element. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tol, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const rtol = tol.rtol ?? 1e-5;
  let scale = 1;
  for (let i = 0; i < expected.length; i++) if (Number.isFinite(expected[i])) scale = Math.max(scale, Math.abs(expected[i]));
  const atol = tol.atol ?? rtol * scale;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    const same = Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)) || (a === e);
    const err = same ? -1 : Math.abs(a - e) - (rtol * Math.abs(e) + atol);
    if (!(err <= 0) && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = Number.isNaN(err) ? Infinity : err;
    }
  }
  expect(worst, worst >= 0 ? `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})` : what).toBe(-1);
}

export function toKiln(r: R, opts: { requiresGrad?: boolean; dtype?: 'float32' | 'int32' } = {}): Tensor {
  const data = opts.dtype === 'int32' ? Int32Array.from(r.data) : Float32Array.from(r.data);
  return kiln.tensor(data, { shape: [...r.shape], dtype: opts.dtype, requiresGrad: opts.requiresGrad });
}

export function fromKiln(t: Tensor): R {
  return arr(t.shape, t.toTypedArray());
}

/** Shape equal and values close to the reference. */
export function expectMatches(t: Tensor, ref: R, tol: Tol = {}, what = 'value'): void {
  expect([...t.shape], `${what}: shape`).toEqual(ref.shape);
  expectClose(t.toTypedArray(), ref.data, tol, what);
}

export interface GradcheckOptions {
  /** forward tolerance (default rtol 1e-5) */
  fwd?: Tol;
  /** gradient tolerance (default rtol 1e-4) */
  tol?: Tol;
  /** finite-difference step, relative to max(1, |x|) */
  h?: number;
  /** which inputs get a gradient (default all) */
  grad?: boolean[];
  seed?: number;
}

/**
 * Checks Kiln's forward and its gradients against the float64 reference. `inputs` are float64
 * arrays whose values are already float32-exact (randArr rounds), so both sides see one input.
 */
export function gradcheck(
  kilnFn: (...xs: Tensor[]) => Tensor,
  refFn: (...xs: R[]) => R,
  inputs: R[],
  opts: GradcheckOptions = {},
): void {
  const needGrad = opts.grad ?? inputs.map(() => true);
  const h = opts.h ?? 1e-6;
  kiln.scope(() => {
    const ts = inputs.map((r, i) => toKiln(r, { requiresGrad: needGrad[i] }));
    const out = kilnFn(...ts);
    const ref = refFn(...inputs);
    expectMatches(out, ref, opts.fwd ?? { rtol: 1e-5 }, 'forward');
    if (numel(ref.shape) === 0) return;
    // a random weighting makes every output element's gradient path count
    const W = randArr(ref.shape, opts.seed ?? 12345, -1, 1, [], 0);
    out.mul(toKiln(W)).sum().backward();
    const f = (xs: R[]) => {
      const y = refFn(...xs);
      let s = 0;
      for (let i = 0; i < y.data.length; i++) s += y.data[i] * W.data[i];
      return s;
    };
    inputs.forEach((x, k) => {
      if (!needGrad[k]) return;
      const numeric = new Float64Array(x.data.length);
      for (let j = 0; j < x.data.length; j++) {
        const step = h * Math.max(1, Math.abs(x.data[j]));
        const plus = inputs.map((r, m) => (m === k ? { shape: r.shape, data: r.data.slice() } : r));
        const minus = inputs.map((r, m) => (m === k ? { shape: r.shape, data: r.data.slice() } : r));
        plus[k].data[j] += step;
        minus[k].data[j] -= step;
        numeric[j] = (f(plus) - f(minus)) / (2 * step);
      }
      const g = ts[k].grad;
      expect(g, `input ${k}: .grad after backward`).not.toBeNull();
      expect([...g!.shape], `input ${k}: grad shape`).toEqual(x.shape);
      expectClose(g!.toTypedArray(), numeric, opts.tol ?? { rtol: 1e-4 }, `gradient of input ${k}`);
    });
    for (const t of ts) t.grad?.dispose();
  });
}

export interface GradgradOptions {
  /** tolerance of the second derivatives (default rtol 1e-4, relative to max(1, max|expected|)) */
  tol?: Tol;
  /** finite-difference steps of the float64 reference (default 1e-4, relative to max(1, |x|)) */
  h?: number;
  /** which inputs are differentiated (default all) */
  grad?: boolean[];
  seed?: number;
}

/**
 * Checks Kiln's double backward against the float64 reference. With W (weights of the output)
 * and V (a direction in the inputs) random and fixed, Kiln computes g = grad(sum(out * W), x,
 * createGraph) and then the gradient of sum(g . V) with respect to x and to W; the reference
 * forms the same numbers by central differences of sum(out * W) in float64:
 *   d/dx_j (V . grad F) by mixed second differences, and d/dW_m = V . grad out_m by first ones.
 */
export function gradgradcheck(
  kilnFn: (...xs: Tensor[]) => Tensor,
  refFn: (...xs: R[]) => R,
  inputs: R[],
  opts: GradgradOptions = {},
): void {
  const needGrad = opts.grad ?? inputs.map(() => true);
  const seed = opts.seed ?? 777;
  const h = opts.h ?? 1e-4;
  const tol = opts.tol ?? { rtol: 1e-4 };
  const outShape = refFn(...inputs).shape;
  const W = randArr(outShape, seed, -1, 1, [], 0);
  const V = inputs.map((x, k) => randArr(x.shape, seed + 1 + k, -1, 1, [], 0));
  const wrt = inputs.map((_, k) => k).filter((k) => needGrad[k]);
  kiln.scope(() => {
    const ts = inputs.map((r, i) => toKiln(r, { requiresGrad: needGrad[i] }));
    const w = toKiln(W, { requiresGrad: true });
    const out = kilnFn(...ts);
    const gs = kiln.autograd.grad(out.mul(w).sum(), wrt.map((k) => ts[k]), { createGraph: true, allowUnused: true });
    let s: Tensor | null = null;
    gs.forEach((g, m) => {
      if (g === null) return;
      const term = g.mul(toKiln(V[wrt[m]])).sum();
      s = s === null ? term : s.add(term);
    });
    expect(s, 'the first gradient depends on no input').not.toBeNull();
    const second = s!.requiresGrad
      ? kiln.autograd.grad(s!, [...wrt.map((k) => ts[k]), w], { allowUnused: true })
      : [...wrt.map(() => null), null];

    // the float64 reference
    const shifted = (xs: R[], k: number, j: number, d: number): R[] =>
      xs.map((r, m) => {
        if (m !== k) return r;
        const c = { shape: r.shape, data: r.data.slice() };
        c.data[j] += d;
        return c;
      });
    const along = (xs: R[], a: number): R[] =>
      xs.map((r, k) => (needGrad[k] ? { shape: r.shape, data: r.data.map((v, j) => v + a * V[k].data[j]) } : r));
    const F = (xs: R[]) => {
      const y = refFn(...xs);
      let acc = 0;
      for (let i = 0; i < y.data.length; i++) acc += y.data[i] * W.data[i];
      return acc;
    };
    // directional derivative of F along V
    const G = (xs: R[]) => (F(along(xs, h)) - F(along(xs, -h))) / (2 * h);
    wrt.forEach((k, m) => {
      const x = inputs[k];
      const expected = new Float64Array(x.data.length);
      for (let j = 0; j < x.data.length; j++) {
        const step = h * Math.max(1, Math.abs(x.data[j]));
        expected[j] = (G(shifted(inputs, k, j, step)) - G(shifted(inputs, k, j, -step))) / (2 * step);
      }
      const got = second[m] === null ? new Float32Array(x.data.length) : second[m]!.toTypedArray();
      expectClose(got, expected, tol, `second derivative with respect to input ${k}`);
    });
    const up = refFn(...along(inputs, h));
    const down = refFn(...along(inputs, -h));
    const jvp = up.data.map((v, i) => (v - down.data[i]) / (2 * h));
    const gotW = second[wrt.length] === null ? new Float32Array(jvp.length) : second[wrt.length]!.toTypedArray();
    expectClose(gotW, jvp, tol, 'derivative of the gradient with respect to the output weights');
  });
}
