// Elementwise unary ops, one per native op code: forward vs the float64 reference, gradient vs
// finite differences. Inputs are drawn away from each op's kinks and outside its domain edges.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectMatches, gradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { randArr } from '../helpers/reference.js';

type Case = [name: string, k: (x: Tensor) => Tensor, r: (v: number) => number, lo: number, hi: number, avoid?: number[]];

const cases: Case[] = [
  ['neg', (x) => x.neg(), ref.fn.neg, -2, 2],
  ['exp', (x) => x.exp(), ref.fn.exp, -2, 2],
  ['log', (x) => x.log(), ref.fn.log, 0.2, 3],
  ['sqrt', (x) => x.sqrt(), ref.fn.sqrt, 0.2, 3],
  ['rsqrt', (x) => x.rsqrt(), ref.fn.rsqrt, 0.2, 3],
  ['abs', (x) => x.abs(), ref.fn.abs, -2, 2, [0]],
  ['square', (x) => x.square(), ref.fn.square, -2, 2],
  ['reciprocal', (x) => x.reciprocal(), ref.fn.reciprocal, 0.3, 3],
  ['sin', (x) => x.sin(), ref.fn.sin, -3, 3],
  ['cos', (x) => x.cos(), ref.fn.cos, -3, 3],
  ['relu', (x) => x.relu(), ref.fn.relu, -2, 2, [0]],
  ['sigmoid', (x) => x.sigmoid(), ref.fn.sigmoid, -4, 4],
  ['tanh', (x) => x.tanh(), ref.fn.tanh, -3, 3],
  ['gelu', (x) => x.gelu(), ref.fn.gelu, -3, 3],
  ['leakyRelu(0.2)', (x) => x.leakyRelu(0.2), ref.fn.leakyRelu(0.2), -2, 2, [0]],
  ['leakyRelu default 0.01', (x) => x.leakyRelu(), ref.fn.leakyRelu(0.01), -2, 2, [0]],
  ['clamp(-0.5, 0.7)', (x) => x.clamp(-0.5, 0.7), ref.fn.clamp(-0.5, 0.7), -2, 2, [-0.5, 0.7]],
  ['clamp(min only)', (x) => x.clamp(0.1), ref.fn.clamp(0.1, Infinity), -2, 2, [0.1]],
  ['clamp(null, max)', (x) => x.clamp(null, -0.3), ref.fn.clamp(-Infinity, -0.3), -2, 2, [-0.3]],
  ['pow(3) scalar', (x) => x.pow(3), (v) => v ** 3, -2, 2],
  ['pow(2.5) scalar', (x) => x.pow(2.5), (v) => v ** 2.5, 0.2, 2],
  ['pow(-1.5) scalar', (x) => x.pow(-1.5), (v) => v ** -1.5, 0.3, 2],
  ['pow(2) scalar', (x) => x.pow(2), (v) => v ** 2, -2, 2],
  ['pow(0) scalar', (x) => x.pow(0), () => 1, -2, 2],
  ['add scalar', (x) => x.add(1.5), (v) => v + 1.5, -2, 2],
  ['add scalar with alpha', (x) => x.add(1.5, -2), (v) => v - 3, -2, 2],
  ['sub scalar', (x) => x.sub(0.25), (v) => v - 0.25, -2, 2],
  ['mul scalar', (x) => x.mul(-3), (v) => v * -3, -2, 2],
  ['div scalar', (x) => x.div(4), (v) => v / 4, -2, 2],
  ['rsub', (x) => x.rsub(2), (v) => 2 - v, -2, 2],
  ['kiln.exp (free function)', (x) => kiln.exp(x), Math.exp, -2, 2],
  ['kiln.F.gelu', (x) => kiln.F.gelu(x), ref.fn.gelu, -3, 3],
  ['kiln.F.leakyRelu', (x) => kiln.F.leakyRelu(x, 0.1), ref.fn.leakyRelu(0.1), -2, 2, [0]],
];

describe('unary ops: forward and gradient vs float64 reference', () => {
  for (const [name, k, r, lo, hi, avoid] of cases) {
    it(name, () => {
      const x = randArr([3, 7], name.length * 31 + 7, lo, hi, avoid ?? [], 0.05);
      gradcheck(k, (a) => ref.map(a, r), [x]);
    });
  }

  it('sign: forward (incl. 0) and a zero gradient', () => {
    const x = kiln.tensor([-2, -0.5, 0, 0.5, 3], { requiresGrad: true });
    const y = x.sign();
    expect(Array.from(y.toTypedArray())).toEqual([-1, -1, 0, 1, 1]);
    y.sum().backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([0, 0, 0, 0, 0]);
  });

  it('relu gradient at exactly 0 is 0 (PyTorch convention)', () => {
    const x = kiln.tensor([-1, 0, 1], { requiresGrad: true });
    x.relu().sum().backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([0, 0, 1]);
  });

  it('clamp with ±inf bounds is the identity, NaN passes through', () => {
    const x = kiln.tensor([-1e30, -1, 0, 2, 1e30, NaN]);
    const y = x.clamp(-Infinity, Infinity).toTypedArray();
    expect(Array.from(y.slice(0, 5))).toEqual(Array.from(x.toTypedArray().slice(0, 5)));
    expect(Number.isNaN(y[5])).toBe(true);
    const z = x.clamp(-Infinity, 0.5).toTypedArray();
    expect(Array.from(z.slice(0, 5))).toEqual([-1e30, -1, 0, 0.5, 0.5].map(Math.fround));
    const w = x.clamp(0, Infinity).toTypedArray();
    expect(Array.from(w.slice(0, 5))).toEqual([0, 0, 0, 2, Math.fround(1e30)]);
  });

  it('sigmoid is stable for large |x| and exp overflows to inf as float32 does', () => {
    const x = toKiln(ref.arr([4], [-100, -30, 30, 100]));
    expectMatches(x.sigmoid(), ref.map(ref.arr([4], [-100, -30, 30, 100]), ref.fn.sigmoid), { rtol: 1e-5, atol: 1e-38 }); // denormals aside
    expect(Array.from(kiln.tensor([100]).exp().toTypedArray())).toEqual([Infinity]);
  });

  it('works on a non-contiguous (transposed) input', () => {
    const x = randArr([4, 5], 3);
    const t = toKiln(x).t();
    expectMatches(t.tanh(), ref.map(ref.transpose(x, 0, 1), Math.tanh));
  });

  it('empty tensors give empty results', () => {
    const x = kiln.zeros([0, 3]);
    const y = x.exp();
    expect([...y.shape]).toEqual([0, 3]);
    expect(y.toTypedArray().length).toBe(0);
  });
});
