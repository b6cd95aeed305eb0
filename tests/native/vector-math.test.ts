// exp, sigmoid and tanh take a 16-wide AVX-512 body on long inputs (native/cpu/kernels/vec_math.h):
// edge values placed in vector lanes, and a dense sweep, against float64 references.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const edges = [0, -0, 1e-30, -1e-30, 0.5, -0.5, 0.62, 0.63, -0.63, 1, -1, 10, -10, 20, -20, 87, 88.7, 89, 100, -87, -88,
  -100, -103.9, -104.5, -200, Infinity, -Infinity, NaN];
const sweep = Array.from({ length: 4096 }, (_, i) => -30 + (60 * i) / 4095);

const refs: Record<string, (v: number) => number> = {
  exp: Math.exp,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
};

function check(name: 'exp' | 'sigmoid' | 'tanh', values: number[]) {
  // 48 leading elements push every value into the vector body
  const input = [...Array(48).fill(0.25), ...values];
  const got = kiln.tensor(input)[name]().toTypedArray();
  values.forEach((v, k) => {
    const g = got[48 + k];
    const want = Math.fround(refs[name](Math.fround(v))); // the tensor holds fround(v)
    if (Number.isNaN(want)) expect(g, `${name}(${v})`).toBeNaN();
    else if (!Number.isFinite(want) || want === 0) expect(g, `${name}(${v})`).toBe(want);
    else expect(Math.abs(g - want) / Math.abs(want), `${name}(${v}) = ${g}, want ${want}`).toBeLessThan(3e-7 * (name === 'exp' && v < -87 ? 1e4 : 1));
  });
}

describe('vectorised exp / sigmoid / tanh', () => {
  for (const name of ['exp', 'sigmoid', 'tanh'] as const) {
    it(`${name}: edge values in vector lanes`, () => check(name, edges));
    it(`${name}: dense sweep over [-30, 30]`, () => check(name, sweep));
  }
  it('tanh keeps the sign of zero', () => {
    const got = kiln.tensor([...Array(16).fill(-0)]).tanh().toTypedArray();
    expect(Object.is(got[3], -0)).toBe(true);
  });
});
