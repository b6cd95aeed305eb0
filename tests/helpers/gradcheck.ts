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
