// The float64 dtype: creation, casts, layout moves, elementwise math, promotion, reductions,
// softmax, matmul (the float64 GEMM against a float64 host product), autograd in float64, and
// the refusal of every other op.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';
import { matmulRef, transposeRef } from '../helpers/linalg-reference.js';
import { rng } from '../helpers/reference.js';
import { trackedTensors } from '../helpers/memory.js';

const f64 = (data: number[] | number[][] | Float64Array, shape?: number[]) => kiln.tensor(data, { dtype: 'float64', shape });
const vals = (t: Tensor) => Array.from(t.toTypedArray());

describe('float64 tensors', () => {
  it('hold doubles exactly: creation, toTypedArray, item', () => {
    const x = f64([0.1, 1 + 2 ** -40, -1e300, 5e-324]);
    expect(x.dtype).toBe('float64');
    expect(x.toTypedArray()).toBeInstanceOf(Float64Array);
    expect(vals(x)).toEqual([0.1, 1 + 2 ** -40, -1e300, 5e-324]);
    expect(kiln.full([2], 0.1, { dtype: 'float64' }).toArray()).toEqual([0.1, 0.1]);
    expect(kiln.zeros([2, 2], { dtype: 'float64' }).sum().item()).toBe(0);
    expect(kiln.ones([3], { dtype: 'float64' }).toArray()).toEqual([1, 1, 1]);
    expect(kiln.arange(0, 1, 0.25, { dtype: 'float64' }).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(kiln.eye(2, 2, { dtype: 'float64' }).toArray()).toEqual([[1, 0], [0, 1]]);
    const r = kiln.randn([1000], { dtype: 'float64' });
    expect(r.dtype).toBe('float64');
    // draws are float32 numbers held in float64 (the same on every backend)
    for (const v of r.toTypedArray()) expect(Math.fround(v)).toBe(v);
    expect(Math.abs(r.mean().item())).toBeLessThan(0.15);
    expect(kiln.rand([4], { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('casts between float32, float64 and int32 by the one rule', () => {
    const x = f64([1.5, -1.5, 3e9, -3e9, NaN, 0.1]);
    expect(vals(x.int())).toEqual([1, -1, 2147483647, -2147483648, 0, 0]);
    expect(vals(x.float())).toEqual([1.5, -1.5, Math.fround(3e9), Math.fround(-3e9), NaN, Math.fround(0.1)]);
    expect(vals(kiln.tensor([7, -8], { dtype: 'int32' }).double())).toEqual([7, -8]);
    expect(vals(kiln.tensor([0.1]).to('float64'))).toEqual([Math.fround(0.1)]);
    const y = f64([1, 2, 3, 4]);
    expect(y.to('float64')).toBe(y);
    y.fill_(0.3);
    expect(vals(y)).toEqual([0.3, 0.3, 0.3, 0.3]);
  });

  it('moves 8-byte elements in layout ops: transpose, slices, cat, stack, indexSelect, gather', () => {
    const x = f64(Float64Array.from({ length: 6 * 40 }, (_, i) => i + 0.1), [6, 40]);
    const t = x.t().contiguous();
    const tv = t.toTypedArray();
    for (let i = 0; i < 6; i++) for (let j = 0; j < 40; j++) expect(tv[j * 6 + i]).toBe(i * 40 + j + 0.1);
    expect(vals(x.slice(1, 3, 7, 2).select(0, 2))).toEqual([83.1, 85.1]);
    const c = kiln.cat([f64([1.25]), kiln.tensor([2.5]), kiln.tensor([3], { dtype: 'int32' })]);
    expect(c.dtype).toBe('float64');
    expect(vals(c)).toEqual([1.25, 2.5, 3]);
    expect(kiln.stack([f64([0.1]), f64([0.2])]).toArray()).toEqual([[0.1], [0.2]]);
    const idx = kiln.tensor([2, 0], { dtype: 'int32' });
    expect(vals(f64([0.1, 0.2, 0.3]).indexSelect(0, idx))).toEqual([0.3, 0.1]);
    expect(vals(f64([0.1, 0.2, 0.3]).gather(0, idx))).toEqual([0.3, 0.1]);
  });

  it('computes elementwise math in double precision', () => {
    const x = f64([1e-10, 0.5, 2, 3.25]);
    expect(vals(x.exp())).toEqual([Math.exp(1e-10), Math.exp(0.5), Math.exp(2), Math.exp(3.25)]);
    expect(vals(x.log())).toEqual([Math.log(1e-10), Math.log(0.5), Math.log(2), Math.log(3.25)]);
    expect(vals(x.add(0.1))).toEqual([1e-10 + 0.1, 0.6, 2.1, 3.35]);
    expect(vals(x.div(3))).toEqual([1e-10 / 3, 0.5 / 3, 2 / 3, 3.25 / 3]);
    expect(vals(x.sqrt())).toEqual([Math.sqrt(1e-10), Math.sqrt(0.5), Math.sqrt(2), Math.sqrt(3.25)]);
    expect(vals(x.tanh())).toEqual([Math.tanh(1e-10), Math.tanh(0.5), Math.tanh(2), Math.tanh(3.25)]);
    expectClose(x.pow(1.5).toTypedArray(), [1e-10 ** 1.5, 0.5 ** 1.5, 2 ** 1.5, 3.25 ** 1.5], { rtol: 2e-16, atol: 0 }, 'pow');
    const y = f64([3, -1, 0.25, 7]);
    expect(vals(x.mul(y))).toEqual([3e-10, -0.5, 0.5, 22.75]);
    expect(vals(x.sub(y))).toEqual([1e-10 - 3, 1.5, 1.75, -3.75]);
    expect(vals(x.maximum(y))).toEqual([3, 0.5, 2, 7]);
    expect(vals(x.gt(y))).toEqual([0, 1, 1, 0]);
    expect(x.gt(y).dtype).toBe('float32');
    expect(vals(kiln.where(x.gt(y), x, y))).toEqual([3, 0.5, 2, 7]);
    expect(kiln.where(x.gt(1), x, 0).dtype).toBe('float64');
  });

  it('promotes float32 with float64 to float64 (as PyTorch); a number does not promote', () => {
    const a = kiln.tensor([0.1, 0.2]);
    const b = f64([1e-12, 2]);
    const s = a.add(b);
    expect(s.dtype).toBe('float64');
    expect(vals(s)).toEqual([Math.fround(0.1) + 1e-12, Math.fround(0.2) + 2]);
    expect(b.add(kiln.tensor([1], { dtype: 'int32' })).dtype).toBe('float64');
    expect(a.mul(0.5).dtype).toBe('float32');
    expect(b.mul(0.5).dtype).toBe('float64');
    expect(kiln.tensor([[1, 2]]).matmul(f64([3, 4], [2, 1])).dtype).toBe('float64');
  });

  it('reduces in double: sum, mean, max, min, argmax, var, logsumexp', () => {
    const big = f64(Float64Array.from({ length: 100001 }, (_, i) => (i === 0 ? 1 : 1e-12)));
    // float32 would lose the small terms entirely; double keeps them to ~1e-13
    expect(Math.abs(big.sum().item() - (1 + 1e-7))).toBeLessThan(1e-13);
    expect(Math.abs(big.reshape([1, 100001]).t().sum(0).item() - (1 + 1e-7))).toBeLessThan(1e-11);
    const x = f64([[1, 5, 2], [0.5, -3, 0.25]]);
    expect(vals(x.sum(1))).toEqual([8, -2.25]);
    expect(vals(x.mean(0))).toEqual([0.75, 1, 1.125]);
    expect(vals(x.max(1))).toEqual([5, 0.5]);
    expect(vals(x.min(0))).toEqual([0.5, -3, 0.25]);
    expect(vals(x.argmax(1))).toEqual([1, 0]);
    expect(x.argmin(1).dtype).toBe('int32');
    const lse = x.logsumexp(1).toTypedArray();
    expect(lse[0]).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(5) + Math.exp(2)), 14);
    const varOf = (r: number[]) => {
      const m = r.reduce((p, q) => p + q) / r.length;
      return r.reduce((p, q) => p + (q - m) ** 2, 0) / (r.length - 1);
    };
    expectClose(x.var(1).toTypedArray(), [varOf([1, 5, 2]), varOf([0.5, -3, 0.25])], { rtol: 1e-14 }, 'var');
  });

  it('softmax and logSoftmax in double along rows and columns', () => {
    const x = f64([[1000, 1001, 999], [-5, 0, 5]]);
    const sm = x.softmax(1).toTypedArray();
    const ref = (r: number[]) => {
      const m = Math.max(...r);
      const e = r.map((v) => Math.exp(v - m));
      const s = e.reduce((p, q) => p + q);
      return e.map((v) => v / s);
    };
    expectClose(sm, [...ref([1000, 1001, 999]), ...ref([-5, 0, 5])], { rtol: 1e-15 }, 'softmax rows');
    const col = x.logSoftmax(0).toTypedArray();
    expect(col[1]).toBeCloseTo(Math.log(ref([1001, 0])[0]), 14);
  });

  it('matmul: the float64 GEMM against a float64 host product (odd sizes, transposed views, batches)', () => {
    const rand = rng(3);
    for (const [m, k, n] of [[1, 1, 1], [7, 13, 5], [37, 53, 29], [130, 300, 97], [300, 41, 260]]) {
      const a = Float64Array.from({ length: m * k }, () => 2 * rand() - 1);
      const b = Float64Array.from({ length: k * n }, () => 2 * rand() - 1);
      const want = matmulRef(a, b, m, k, n);
      expectClose(f64(a, [m, k]).matmul(f64(b, [k, n])).toTypedArray(), want, { rtol: 1e-13 }, `${m}x${k}x${n}`);
      // the same product from transposed storage on both sides
      const at = f64(transposeRef(a, m, k), [k, m]).t();
      const bt = f64(transposeRef(b, k, n), [n, k]).t();
      expectClose(at.matmul(bt).toTypedArray(), want, { rtol: 1e-13 }, `${m}x${k}x${n} transposed`);
    }
    const A = Float64Array.from({ length: 3 * 4 * 5 }, () => rand());
    const B = Float64Array.from({ length: 5 * 6 }, () => rand());
    const out = f64(A, [3, 4, 5]).matmul(f64(B, [5, 6])).toTypedArray();
    for (let i = 0; i < 3; i++) {
      expectClose(out.slice(i * 24, (i + 1) * 24), matmulRef(A.slice(i * 20, (i + 1) * 20), B, 4, 5, 6), { rtol: 1e-14 }, `batch ${i}`);
    }
  });

  it('differentiates in float64: gradcheck at PyTorch float64 tolerances, gradients keep their dtype', () => {
    const x = f64([0.3, -0.7, 1.1, 0.2, 0.9, -0.4], [2, 3]).requiresGrad_();
    const w = f64([0.5, -1, 0.25, 2, 1.5, -0.5], [3, 2]).requiresGrad_();
    expect(kiln.autograd.gradcheck((a, b) => a.matmul(b).tanh().softmax(1).log().sum(0), [x, w])).toBe(true);
    expect(kiln.autograd.gradcheck((a) => a.exp().mul(a.sigmoid()).div(a.square().add(1)).logsumexp(1), [x])).toBe(true);
    expect(kiln.autograd.gradgradcheck((a, b) => a.matmul(b).sin().sum(), [x, w])).toBe(true);
    // a float32 leaf used in float64 math gets a float32 gradient
    const f = kiln.tensor([1, 2, 3]).requiresGrad_();
    f.mul(f64([0.5, 0.25, 2])).sum().backward();
    expect(f.grad!.dtype).toBe('float32');
    expect(vals(f.grad!)).toEqual([0.5, 0.25, 2]);
    const d = f64([1, 2]).requiresGrad_();
    d.square().sum().backward();
    expect(d.grad!.dtype).toBe('float64');
    expect(vals(d.grad!)).toEqual([2, 4]);
  });

  it('keeps kiln.memory() flat over repeated float64 work', () => {
    const x = f64([0.5, 1.5, 2.5, 3.5], [2, 2]).requiresGrad_();
    const step = () => kiln.scope(() => {
      const y = x.matmul(x).exp().sum();
      y.backward();
      x.grad!.zero_();
    });
    step();
    const before = trackedTensors();
    for (let i = 0; i < 5; i++) step();
    expect(trackedTensors()).toBe(before);
  });

  it('is refused with a KilnError by the ops that have no float64 kernel', () => {
    const x = kiln.zeros([1, 1, 4, 4], { dtype: 'float64' });
    const w = kiln.zeros([1, 1, 3, 3], { dtype: 'float64' });
    expect(() => kiln.F.conv2d(x, w)).toThrow(kiln.KilnError);
    expect(() => kiln.F.conv2d(x, w)).toThrow(/float64|float32/);
    expect(() => kiln.F.maxPool2d(x, 2)).toThrow(kiln.KilnError);
    expect(() => kiln.F.crossEntropy(kiln.zeros([2, 3], { dtype: 'float64' }), kiln.tensor([0, 1], { dtype: 'int32' }))).toThrow(kiln.KilnError);
    expect(() => new kiln.optim.SGD([kiln.zeros([2], { dtype: 'float64', requiresGrad: true })], { lr: 0.1 })).toThrow(kiln.KilnError);
    expect(() => kiln.rand([2], { dtype: 'int32' })).toThrow(/dtype/);
  });
});
