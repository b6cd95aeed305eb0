// Binary ops with broadcasting (size-1 dims, [] scalars, empty dims), int32 arithmetic and
// int/float promotion, comparisons, where, maximum/minimum.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose, expectMatches, gradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { distinctArr, randArr } from '../helpers/reference.js';

type Bin = [name: string, k: (a: Tensor, b: Tensor) => Tensor, r: (a: number, b: number) => number];

const ops: Bin[] = [
  ['add', (a, b) => a.add(b), (x, y) => x + y],
  ['add alpha=2.5', (a, b) => a.add(b, 2.5), (x, y) => x + 2.5 * y],
  ['sub', (a, b) => a.sub(b), (x, y) => x - y],
  ['sub alpha=-0.5', (a, b) => a.sub(b, -0.5), (x, y) => x + 0.5 * y],
  ['mul', (a, b) => a.mul(b), (x, y) => x * y],
  ['div', (a, b) => a.div(b), (x, y) => x / y],
  ['kiln.mul (free)', (a, b) => kiln.mul(a, b), (x, y) => x * y],
];

// shape pairs: same, size-1 dims on either side, rank promotion, [] scalars
const shapes: [number[], number[]][] = [
  [[3, 4], [3, 4]],
  [[3, 1], [1, 4]],
  [[2, 3, 4], [4]],
  [[4], [2, 3, 4]],
  [[2, 1, 4], [3, 1]],
  [[3, 4], []],
  [[], [3, 4]],
  [[], []],
  [[1], [5]],
];

describe('binary ops with broadcasting: forward and gradient', () => {
  for (const [name, k, r] of ops) {
    for (const [sa, sb] of shapes) {
      it(`${name} [${sa}] with [${sb}]`, () => {
        const a = randArr(sa, sa.length * 7 + 1);
        // divisors kept away from 0
        const b = randArr(sb, sb.length * 13 + 2, 0.5, 2);
        gradcheck(k, (x, y) => ref.zip(x, y, r), [a, b]);
      });
    }
  }

  it('pow(tensor, tensor): both gradients (positive base)', () => {
    const a = randArr([3, 4], 5, 0.3, 2);
    const b = randArr([4], 6, -1.5, 2.5);
    gradcheck((x, y) => x.pow(y), ref.pow, [a, b]);
  });

  it('maximum / minimum without ties', () => {
    const a = distinctArr([3, 4], 8);
    const b = ref.map(distinctArr([3, 4], 9), (v) => Math.fround(v + 0.05)); // never equal to a
    gradcheck((x, y) => x.maximum(y), (x, y) => ref.zip(x, y, Math.max), [a, b]);
    gradcheck((x, y) => kiln.minimum(x, y), (x, y) => ref.zip(x, y, Math.min), [a, b]);
  });

  it('maximum splits the gradient evenly on ties (PyTorch)', () => {
    const a = kiln.tensor([1, 2, 3], { requiresGrad: true });
    const b = kiln.tensor([1, 5, 0], { requiresGrad: true });
    a.maximum(b).sum().backward();
    expect(Array.from(a.grad!.toTypedArray())).toEqual([0.5, 0, 1]);
    expect(Array.from(b.grad!.toTypedArray())).toEqual([0.5, 1, 0]);
  });

  it('mul on a transposed (non-contiguous) view', () => {
    const a = randArr([4, 3], 10);
    const b = randArr([3, 4], 11);
    gradcheck((x, y) => x.t().mul(y), (x, y) => ref.mul(ref.transpose(x, 0, 1), y), [a, b]);
  });

  it('empty dims: [0, 3] + [3] is [0, 3]; [0, 3] + [1, 3] too; backward gives empty grads', () => {
    const a = kiln.zeros([0, 3], { requiresGrad: true });
    const b = kiln.ones([3], { requiresGrad: true });
    const y = a.add(b);
    expect([...y.shape]).toEqual([0, 3]);
    expect([...a.add(kiln.ones([1, 3])).shape]).toEqual([0, 3]);
    y.sum().backward();
    expect([...a.grad!.shape]).toEqual([0, 3]);
    // nothing broadcast from an empty batch: b's gradient is zero
    expect(Array.from(b.grad!.toTypedArray())).toEqual([0, 0, 0]);
    expect(() => kiln.zeros([0, 3]).add(kiln.zeros([2, 3]))).toThrow(kiln.KilnError);
  });

  it('incompatible shapes throw a KilnError naming both shapes', () => {
    expect(() => kiln.zeros([2, 3]).add(kiln.zeros([4]))).toThrow(/\[2, 3\].*\[4\]/);
  });
});

describe('int32 arithmetic and promotion', () => {
  const ai = () => kiln.tensor([7, -7, 3, 10], { dtype: 'int32' });
  const bi = () => kiln.tensor([2, 2, -4, 3], { dtype: 'int32' });

  it('int32 op int32 stays int32 for add/sub/mul', () => {
    const s = ai().add(bi());
    expect(s.dtype).toBe('int32');
    expect(Array.from(s.toTypedArray())).toEqual([9, -5, -1, 13]);
    expect(Array.from(ai().sub(bi()).toTypedArray())).toEqual([5, -9, 7, 7]);
    const p = ai().mul(bi());
    expect(p.dtype).toBe('int32');
    expect(Array.from(p.toTypedArray())).toEqual([14, -14, -12, 30]);
  });

  it('int32 / int32 is true division into float32 (PyTorch)', () => {
    const q = ai().div(bi());
    expect(q.dtype).toBe('float32');
    expectClose(q.toTypedArray(), [3.5, -3.5, -0.75, 10 / 3], { rtol: 1e-7 }, 'div');
  });

  it('int32 with integer scalars stays int32; with a fractional scalar becomes float32', () => {
    const a = ai().add(5);
    expect(a.dtype).toBe('int32');
    expect(Array.from(a.toTypedArray())).toEqual([12, -2, 8, 15]);
    expect(ai().mul(3).dtype).toBe('int32');
    const f = ai().add(0.5);
    expect(f.dtype).toBe('float32');
    expect(Array.from(f.toTypedArray())).toEqual([7.5, -6.5, 3.5, 10.5]);
  });

  it('int32 op float32 promotes to float32 with the float operand requiring grad', () => {
    const x = kiln.tensor([0.5, 1.5, -2, 4], { requiresGrad: true });
    const y = ai().mul(x);
    expect(y.dtype).toBe('float32');
    expect(Array.from(y.toTypedArray())).toEqual([3.5, -10.5, -6, 40]);
    y.sum().backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([7, -7, 3, 10]);
  });

  it('int32 pow gives float32', () => {
    const p = ai().pow(2);
    expect(Array.from(p.toTypedArray())).toEqual([49, 49, 9, 100]);
    const q = kiln.tensor([2, 3], { dtype: 'int32' }).pow(kiln.tensor([3, 2], { dtype: 'int32' }));
    expect(q.dtype).toBe('float32');
    expect(Array.from(q.toTypedArray())).toEqual([8, 9]);
  });

  it('casts: float32 -> int32 truncates toward zero; int32 -> float32 is exact below 2^24', () => {
    const f = kiln.tensor([2.7, -2.7, 0.5, -0.5, 1e6 + 0.25]);
    const i = f.int();
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.toTypedArray())).toEqual([2, -2, 0, 0, 1000000]);
    expect(f.to('int32').toArray()).toEqual(i.toArray());
    const back = kiln.tensor([16777215, -5], { dtype: 'int32' }).float();
    expect(back.dtype).toBe('float32');
    expect(back.toArray()).toEqual([16777215, -5]);
    expect(f.float()).toBe(f);
  });

  it('free functions match the methods', () => {
    const x = kiln.tensor([-1.5, 0.25, 2]);
    const y = kiln.tensor([0.5, 0.5, -4]);
    const pairs: [kiln.Tensor, kiln.Tensor][] = [
      [kiln.add(x, y), x.add(y)], [kiln.sub(x, y), x.sub(y)], [kiln.div(x, y), x.div(y)], [kiln.pow(x.abs(), y), x.abs().pow(y)],
      [kiln.maximum(x, y), x.maximum(y)], [kiln.minimum(x, y), x.minimum(y)], [kiln.relu(x), x.relu()], [kiln.sigmoid(x), x.sigmoid()],
      [kiln.tanh(x), x.tanh()], [kiln.abs(x), x.abs()], [kiln.sqrt(x.abs()), x.abs().sqrt()], [kiln.log(x.abs()), x.abs().log()],
      [kiln.clamp(x, 0, 1), x.clamp(0, 1)], [kiln.F.relu(x), x.relu()], [kiln.F.sigmoid(x), x.sigmoid()], [kiln.F.tanh(x), x.tanh()],
    ];
    for (const [a, b] of pairs) expect(Array.from(a.toTypedArray())).toEqual(Array.from(b.toTypedArray()));
  });

  it('int32 broadcasting with a [] int32 scalar', () => {
    const s = kiln.tensor(4, { dtype: 'int32' });
    const r = ai().reshape([2, 2]).sub(s);
    expect(r.dtype).toBe('int32');
    expect(r.toArray()).toEqual([[3, -11], [-1, 6]]);
  });
});

describe('comparisons and where', () => {
  const a = ref.arr([2, 3], [1, 2, 3, 4, 5, 6]);
  const b = ref.arr([3], [2, 2, 7]);
  const cmp: [string, (x: Tensor, y: Tensor) => Tensor, (x: number, y: number) => boolean][] = [
    ['eq', (x, y) => x.eq(y), (x, y) => x === y],
    ['ne', (x, y) => x.ne(y), (x, y) => x !== y],
    ['gt', (x, y) => x.gt(y), (x, y) => x > y],
    ['ge', (x, y) => x.ge(y), (x, y) => x >= y],
    ['lt', (x, y) => x.lt(y), (x, y) => x < y],
    ['le', (x, y) => x.le(y), (x, y) => x <= y],
  ];
  for (const [name, k, r] of cmp) {
    it(`${name}: float32 0/1 with broadcasting, also vs int32 and scalars`, () => {
      const y = k(toKiln(a), toKiln(b));
      expect(y.dtype).toBe('float32');
      expectMatches(y, ref.zip(a, b, (x, z) => Number(r(x, z))), { atol: 0 });
      expectMatches(k(toKiln(a, { dtype: 'int32' }), toKiln(b)), ref.zip(a, b, (x, z) => Number(r(x, z))), { atol: 0 });
      const s = k(toKiln(a), kiln.tensor(3));
      expectMatches(s, ref.map(a, (x) => Number(r(x, 3))), { atol: 0 });
      expect(Array.from((k as any)(toKiln(a), 3).toTypedArray())).toEqual(Array.from(s.toTypedArray()));
    });
  }

  it('comparisons do not record a graph', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    expect(x.gt(1).requiresGrad).toBe(false);
  });

  it('where: forward and gradients with a broadcast condition and scalar branches', () => {
    const cond = ref.arr([3, 1], [1, 0, 1]);
    const x = randArr([3, 4], 21);
    const y = randArr([4], 22);
    gradcheck((p, q) => kiln.where(toKiln(cond), p, q), (p, q) => ref.where(cond, p, q), [x, y]);
    const s = kiln.where(toKiln(cond), toKiln(x), 0);
    expectMatches(s, ref.where(cond, x, ref.scalar(0)));
    const t = kiln.where(toKiln(cond, { dtype: 'int32' }), -1, 2);
    expect(t.toArray()).toEqual([[-1], [2], [-1]]);
  });
});
