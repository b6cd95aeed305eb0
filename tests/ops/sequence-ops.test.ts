// The tensor ops transformers need (issue 13): values and gradients against float64 references,
// second derivatives where the rule is composed, bad input as KilnErrors.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { KilnError } from '../../src/index.js';
import { expectClose, expectMatches, gradcheck, gradgradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { type R, arr, distinctArr, randArr, ravel, unravel } from '../helpers/reference.js';

/** Reference scan along dim with f(acc, v); reverse walks from the end. */
function scanRef(a: R, dim: number, f: (acc: number, v: number) => number, init: number, reverse = false): R {
  const d = ref.normDim(dim, a.shape.length);
  const out = arr(a.shape, a.data);
  const n = a.shape[d];
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape);
    if (idx[d] !== 0) continue;
    let acc = init;
    for (let t = 0; t < n; t++) {
      idx[d] = reverse ? n - 1 - t : t;
      const f0 = ravel(idx, a.shape);
      acc = f(acc, a.data[f0]);
      out.data[f0] = acc;
    }
  }
  return out;
}
const lse = (acc: number, v: number) => {
  const m = Math.max(acc, v);
  return m === -Infinity ? -Infinity : m + Math.log(Math.exp(acc - m) + Math.exp(v - m));
};

function flipRef(a: R, dims: number[]): R {
  return arr(a.shape, (i) => {
    const idx = unravel(i, a.shape);
    for (const d of dims) idx[d] = a.shape[d] - 1 - idx[d];
    return a.data[ravel(idx, a.shape)];
  });
}

function padRef(a: R, pad: number[], mode: string, value = 0): R {
  const nd = a.shape.length;
  const lo = new Array(nd).fill(0);
  const hi = new Array(nd).fill(0);
  for (let i = 0; i < pad.length / 2; i++) {
    lo[nd - 1 - i] = pad[2 * i];
    hi[nd - 1 - i] = pad[2 * i + 1];
  }
  const shape = a.shape.map((s, d) => s + lo[d] + hi[d]);
  return arr(shape, (i) => {
    const idx = unravel(i, shape).map((v, d) => v - lo[d]);
    for (let d = 0; d < nd; d++) {
      const n = a.shape[d];
      let j = idx[d];
      if (j >= 0 && j < n) continue;
      if (mode === 'constant') return value;
      if (mode === 'replicate') j = Math.min(Math.max(j, 0), n - 1);
      else if (mode === 'circular') j = ((j % n) + n) % n;
      else j = j < 0 ? -j : 2 * (n - 1) - j;
      idx[d] = j;
    }
    return a.data[ravel(idx, a.shape)];
  });
}

describe('scans: cumsum, cumprod, logcumsumexp', () => {
  const x = randArr([3, 5, 2], 3);
  it('cumsum along each dim, values and gradients, and its second derivative', () => {
    for (const d of [0, 1, 2, -1]) gradcheck((t) => t.cumsum(d), (r) => scanRef(r, d, (a, v) => a + v, 0), [x]);
    gradgradcheck((t) => t.cumsum(1).square(), (r) => ref.map(scanRef(r, 1, (a, v) => a + v, 0), (v) => v * v), [randArr([2, 4], 4)]);
  });
  it('cumprod, with its exact gradient where the input holds zeros', () => {
    gradcheck((t) => kiln.cumprod(t, 1), (r) => scanRef(r, 1, (a, v) => a * v, 1), [randArr([3, 5, 2], 5, 0.5, 1.5)], { tol: { rtol: 1e-4 } });
    // zeros: x / 0 formulas break here; the recurrence does not
    const z = arr([2, 5], [1.5, 0, 2, -1, 0.5, 0, 0, 3, 2, 1]);
    gradcheck((t) => t.cumprod(1), (r) => scanRef(r, 1, (a, v) => a * v, 1), [z]);
  });
  it('logcumsumexp, stable for large values, gradient through the split dy', () => {
    gradcheck((t) => t.logcumsumexp(1), (r) => scanRef(r, 1, lse, -Infinity), [randArr([3, 6], 6, -3, 3)], { tol: { rtol: 2e-4 } });
    const big = kiln.tensor([[1000, 1001, 999]]);
    expectClose(big.logcumsumexp(1).toTypedArray(), [1000, 1001.3132616875182, 1001.4076059644443], { rtol: 1e-6 }, 'large');
  });
  it('int32 and bool inputs scan as float32', () => {
    expect(kiln.tensor([1, 2, 3], { dtype: 'int32' }).cumsum(0).toArray()).toEqual([1, 3, 6]);
    expect(kiln.tensor([1, 0, 1], { dtype: 'bool' }).cumsum(0).toArray()).toEqual([1, 1, 2]);
  });
  it('cumprod under createGraph says it has no second derivative', () => {
    const t = toKiln(randArr([4], 7), { requiresGrad: true });
    const [g] = kiln.autograd.grad(t.cumprod(0).sum(), [t], { createGraph: false });
    expect(g.shape).toEqual([4]);
    expect(() => kiln.autograd.grad(t.cumprod(0).sum(), [t], { createGraph: true })).toThrow(/cumprod has no second derivative/);
  });
});

describe('sort, argsort, topk', () => {
  it('sorts each column stably (ties keep their order), NaN last, with the gradient scattered back', () => {
    const x = distinctArr([4, 6], 8);
    const sortRef = (r: R, desc: boolean) => {
      const [n, m] = r.shape;
      return arr([n, m], (i) => {
        const [row, col] = unravel(i, [n, m]);
        const vals = Array.from({ length: m }, (_, j) => r.data[row * m + j]).sort((a, b) => (desc ? b - a : a - b));
        return vals[col];
      });
    };
    gradcheck((t) => t.sort(1).values, (r) => sortRef(r, false), [x]);
    gradcheck((t) => t.sort(-1, true).values, (r) => sortRef(r, true), [x]);
    const t = kiln.tensor([3, 1, NaN, 1, 2, 1]);
    const s = t.sort();
    expect(Array.from(s.values.toTypedArray())).toEqual([1, 1, 1, 2, 3, NaN]);
    expect(s.indices.toArray()).toEqual([1, 3, 5, 4, 0, 2]);
    expect(t.sort(0, true).indices.toArray()).toEqual([2, 0, 4, 1, 3, 5]);
    expect(t.argsort(0, true).toArray()).toEqual([2, 0, 4, 1, 3, 5]);
  });
  it('sorts along an inner dim and int32 exactly', () => {
    const x = kiln.tensor([[[3, 9], [1, 8]], [[2, 7], [5, 6]]]);
    expect(x.sort(1).values.toArray()).toEqual([[[1, 8], [3, 9]], [[2, 6], [5, 7]]]);
    const i = kiln.tensor([16777217, -5, 7], { dtype: 'int32' });
    const r = i.sort();
    expect(r.values.dtype).toBe('int32');
    expect(r.indices.toArray()).toEqual([1, 2, 0]);
  });
  it('topk: the k largest or smallest, sorted, with gradients', () => {
    const x = distinctArr([3, 7], 9);
    const topRef = (r: R, k: number, largest: boolean) => {
      const [n, m] = r.shape;
      return arr([n, k], (i) => {
        const [row, col] = unravel(i, [n, k]);
        const vals = Array.from({ length: m }, (_, j) => r.data[row * m + j]).sort((a, b) => (largest ? b - a : a - b));
        return vals[col];
      });
    };
    gradcheck((t) => t.topk(3).values, (r) => topRef(r, 3, true), [x]);
    gradcheck((t) => kiln.topk(t, 2, 1, false).values, (r) => topRef(r, 2, false), [x]);
    const { indices } = kiln.tensor([0.1, 0.9, 0.5]).topk(2);
    expect(indices.toArray()).toEqual([1, 2]);
    expect(() => kiln.tensor([1, 2]).topk(3)).toThrow(/k: expected 0 <= k <= 2/);
  });
});

describe('layout ops: split, chunk, repeat, roll, flip, pad, tril, triu, maskedFill', () => {
  const x = randArr([3, 5], 10);
  it('split by size and by sections, chunk', () => {
    gradcheck((t) => kiln.cat(t.split(2, 1).map((p, i) => p.mul(i + 1)), 1),
      (r) => ref.cat([0, 1, 2].map((i) => ref.map(ref.slice(r, 1, 2 * i, 2 * i + 2), (v) => v * (i + 1))), 1), [x]);
    const parts = toKiln(x).split([1, 4], 1);
    expect(parts.map((p) => p.shape)).toEqual([[3, 1], [3, 4]]);
    expect(toKiln(x).chunk(2, 1).map((p) => p.shape[1])).toEqual([3, 2]);
    expect(kiln.chunk(kiln.zeros([6]), 4).map((p) => p.shape[0])).toEqual([2, 2, 2]);
    expect(() => toKiln(x).split([1, 2], 1)).toThrow(/sizes sum to 3, dim 1 has 5/);
  });
  it('repeat (more repeats than dims) and its gradient', () => {
    const y = randArr([2, 3], 11);
    const repRef = (r: R, reps: number[]) => {
      const shape = [...new Array(reps.length - r.shape.length).fill(1), ...r.shape];
      const out = shape.map((s, i) => s * reps[i]);
      return arr(out, (i) => {
        const idx = unravel(i, out).map((v, d) => v % shape[d]);
        return r.data[ravel(idx.slice(reps.length - r.shape.length), r.shape)];
      });
    };
    gradcheck((t) => t.repeat([2, 1, 3]), (r) => repRef(r, [2, 1, 3]), [y]);
    gradcheck((t) => t.repeat([1, 2]), (r) => repRef(r, [1, 2]), [y]);
  });
  it('roll along dims and flattened', () => {
    const rollRef = (r: R, s: number, d: number) => arr(r.shape, (i) => {
      const idx = unravel(i, r.shape);
      const n = r.shape[d];
      idx[d] = (((idx[d] - s) % n) + n) % n;
      return r.data[ravel(idx, r.shape)];
    });
    gradcheck((t) => t.roll(2, 1), (r) => rollRef(r, 2, 1), [x]);
    gradcheck((t) => t.roll([-1, 7], [0, 1]), (r) => rollRef(rollRef(r, -1, 0), 7, 1), [x]);
    expect(kiln.tensor([[1, 2], [3, 4]]).roll(1).toArray()).toEqual([[4, 1], [2, 3]]);
  });
  it('flip one and several dims', () => {
    gradcheck((t) => t.flip(1), (r) => flipRef(r, [1]), [x]);
    gradcheck((t) => kiln.flip(t, [0, -1]), (r) => flipRef(r, [0, 1]), [x]);
  });
  it('pad: constant (and negative crop), reflect, replicate, circular, with gradients', () => {
    const y = randArr([2, 3, 4], 12);
    gradcheck((t) => kiln.F.pad(t, [1, 2]), (r) => padRef(r, [1, 2], 'constant'), [y]);
    gradcheck((t) => kiln.F.pad(t, [1, 0, 2, 1], { value: 1.5 }), (r) => padRef(r, [1, 0, 2, 1], 'constant', 1.5), [y]);
    for (const mode of ['reflect', 'replicate', 'circular'] as const) {
      gradcheck((t) => kiln.F.pad(t, [2, 1, 1, 2], { mode }), (r) => padRef(r, [2, 1, 1, 2], mode), [y]);
    }
    expect(kiln.F.pad(kiln.tensor([1, 2, 3, 4]), [-1, -2]).toArray()).toEqual([2]);
    expect(() => kiln.F.pad(kiln.zeros([2, 3]), [3, 0], { mode: 'reflect' })).toThrow(/reflect padding \(3, 0\) must be smaller than dim 1 \(3\)/);
    expect(() => kiln.F.pad(kiln.zeros([3]), [1, 1], { mode: 'wrap' as any })).toThrow(KilnError);
    expect(() => kiln.F.pad(kiln.zeros([3]), [1, 1], { mod: 'reflect' } as any)).toThrow(/unknown option 'mod'/);
  });
  it('tril / triu with diagonals on batched, non-square matrices', () => {
    const y = randArr([2, 3, 4], 13);
    const triRef = (r: R, k: number, upper: boolean) => arr(r.shape, (i) => {
      const idx = unravel(i, r.shape);
      const [row, col] = idx.slice(-2);
      return (upper ? col - row >= k : col - row <= k) ? r.data[i] : 0;
    });
    for (const k of [0, 1, -1]) {
      gradcheck((t) => t.tril(k), (r) => triRef(r, k, false), [y]);
      gradcheck((t) => kiln.triu(t, k), (r) => triRef(r, k, true), [y]);
    }
    expect(kiln.tensor([[1, 2], [3, 4]], { dtype: 'int32' }).triu().toArray()).toEqual([[1, 2], [0, 4]]);
  });
  it('maskedFill with a bool mask, a float mask and -Infinity', () => {
    const y = randArr([2, 3], 14);
    const m = [true, false, true];
    gradcheck((t) => t.maskedFill(kiln.tensor(m, { dtype: 'bool' }), -2.5),
      (r) => arr(r.shape, (i) => (m[i % 3] ? -2.5 : r.data[i])), [y]);
    const out = kiln.tensor([[1, 2], [3, 4]]).maskedFill(kiln.tensor([[0, 1], [0, 0]]), -Infinity);
    expect(out.toArray()).toEqual([[1, -Infinity], [3, 4]]);
  });
});

describe('contractions: bmm, baddbmm, outer, einsum', () => {
  const a = randArr([2, 3, 4], 20);
  const b = randArr([2, 4, 5], 21);
  it('bmm and baddbmm', () => {
    gradcheck((p, q) => kiln.bmm(p, q), (p, q) => ref.matmul(p, q), [a, b]);
    const c = randArr([3, 5], 22);
    gradcheck((i, p, q) => kiln.baddbmm(i, p, q, { beta: 0.5, alpha: 2 }),
      (i, p, q) => ref.add(ref.map(i, (v) => 0.5 * v), ref.map(ref.matmul(p, q), (v) => 2 * v)), [c, a, b]);
    expect(() => kiln.bmm(toKiln(a), toKiln(a))).toThrow(/expected \[B, n, m\] and \[B, m, p\]/);
  });
  it('outer', () => {
    gradcheck((p, q) => kiln.outer(p, q), (p, q) => ref.matmul(ref.reshape(p, [3, 1]), ref.reshape(q, [1, 4])), [randArr([3], 23), randArr([4], 24)]);
  });
  it('einsum: batched matmul, attention scores, bilinear, sums, transposes, implicit output, ellipsis', () => {
    gradcheck((p, q) => kiln.einsum('bij,bjk->bik', p, q), (p, q) => ref.matmul(p, q), [a, b]);
    const q = randArr([2, 3, 5, 4], 25);
    const k = randArr([2, 3, 6, 4], 26);
    gradcheck((p, r) => kiln.einsum('bhqd,bhkd->bhqk', p, r), (p, r) => ref.matmul(p, ref.transpose(r, -1, -2)), [q, k]);
    gradcheck((p, r) => kiln.einsum('...qd,...kd->...qk', p, r), (p, r) => ref.matmul(p, ref.transpose(r, -1, -2)), [q, k]);
    // bilinear: y[n, o] = x1[n, i] W[o, i, j] x2[n, j]
    const x1 = randArr([3, 2], 27);
    const w = randArr([4, 2, 5], 28);
    const x2 = randArr([3, 5], 29);
    const bil = (p: R, ww: R, r: R) => arr([3, 4], (t) => {
      const [n, o] = unravel(t, [3, 4]);
      let s = 0;
      for (let i = 0; i < 2; i++) for (let j = 0; j < 5; j++) s += p.data[n * 2 + i] * ww.data[(o * 2 + i) * 5 + j] * r.data[n * 5 + j];
      return s;
    });
    gradcheck((p, ww, r) => kiln.einsum('ni,oij,nj->no', p, ww, r), bil, [x1, w, x2]);
    gradcheck((p) => kiln.einsum('ij->ji', p), (p) => ref.transpose(p, 0, 1), [randArr([3, 4], 30)]);
    gradcheck((p) => kiln.einsum('ijk->j', p), (p) => ref.sum(p, [0, 2]), [a]);
    gradcheck((p, r) => kiln.einsum('ij,jk', p, r), (p, r) => ref.matmul(p, r), [randArr([3, 4], 31), randArr([4, 2], 32)]);
    expect(() => kiln.einsum('ii->i', kiln.zeros([3, 3]))).toThrow(/repeats a letter/);
    expect(() => kiln.einsum('ij,jk->ik', kiln.zeros([2, 3]), kiln.zeros([4, 2]))).toThrow(/'j' is 3 in one operand and 4/);
  });
});

describe('norm, var, std', () => {
  const x = randArr([3, 4], 40);
  it('var / std with correction (the option is honoured, unknown options refused)', () => {
    for (const correction of [0, 1, 2]) {
      gradcheck((t) => t.var(1, { correction }), (r) => ref.reduce(r, [1], false, (v) => {
        const m = ref.meanOf(v);
        return ref.sumOf(v.map((e) => (e - m) ** 2)) / (v.length - correction);
      }), [x]);
    }
    gradcheck((t) => t.std(0, { unbiased: false, keepdim: true }), (r) => ref.map(ref.reduce(r, [0], true, ref.varOf(false)), Math.sqrt), [x]);
    gradcheck((t) => kiln.var(t), (r) => ref.reduce(r, undefined, false, ref.varOf(true)), [x]);
    expect(() => toKiln(x).var(0, { corection: 0 } as any)).toThrow(/var: unknown option 'corection'/);
    expect(() => toKiln(x).var(0, { correction: 0, unbiased: true })).toThrow(/correction or unbiased, not both/);
  });
  it('p-norms: 2 (subgradient 0 at 0), 1, 3, inf, -inf, 0', () => {
    gradcheck((t) => t.norm(), (r) => ref.scalar(Math.sqrt(ref.sumOf(Array.from(r.data, (v) => v * v)))), [x]);
    gradcheck((t) => t.norm(2, 1, true), (r) => ref.map(ref.reduce(r, [1], true, (v) => ref.sumOf(v.map((e) => e * e))), Math.sqrt), [x]);
    gradcheck((t) => kiln.norm(t, 3, 0), (r) => ref.reduce(r, [0], false, (v) => ref.sumOf(v.map((e) => Math.abs(e) ** 3)) ** (1 / 3)), [x]);
    gradcheck((t) => t.norm(1, 1), (r) => ref.reduce(r, [1], false, (v) => ref.sumOf(v.map(Math.abs))), [x]);
    gradcheck((t) => t.norm(Infinity, 1), (r) => ref.reduce(r, [1], false, (v) => Math.max(...v.map(Math.abs))), [distinctArr([3, 4], 41)]);
    gradcheck((t) => t.norm(-Infinity, 1), (r) => ref.reduce(r, [1], false, (v) => Math.min(...v.map(Math.abs))), [distinctArr([3, 4], 42)]);
    expect(kiln.tensor([0, 1, 2, 0]).norm(0).item()).toBe(2);
    const z = kiln.zeros([3], { requiresGrad: true });
    z.norm().backward();
    expect(Array.from(z.grad!.toTypedArray())).toEqual([0, 0, 0]);
    gradgradcheck((t) => t.norm(2, 1), (r) => ref.map(ref.reduce(r, [1], false, (v) => ref.sumOf(v.map((e) => e * e))), Math.sqrt), [x]);
  });
});

describe('bool dtype', () => {
  it('tensor(..., { dtype: bool }), toArray, casts, sums, comparisons, where', () => {
    const b = kiln.tensor([true, false, 3, 0], { dtype: 'bool' });
    expect(b.dtype).toBe('bool');
    expect(b.toArray()).toEqual([true, false, true, false]);
    expect(b.int().toArray()).toEqual([1, 0, 1, 0]);
    expect(b.float().toArray()).toEqual([1, 0, 1, 0]);
    expect(kiln.tensor([0.5, 0, -2]).bool().toArray()).toEqual([true, false, true]);
    expect(b.sum().item()).toBe(2);
    expect(b.sum().dtype).toBe('int32');
    expect(b.eq(kiln.tensor([1, 1, 1, 1], { dtype: 'bool' })).toArray()).toEqual([1, 0, 1, 0]);
    expect(kiln.where(b, kiln.tensor([1, 2, 3, 4]), -1).toArray()).toEqual([1, -1, 3, -1]);
    expect(kiln.cat([b, b]).dtype).toBe('bool');
    expect(kiln.full([2], 5, { dtype: 'bool' }).toArray()).toEqual([true, true]);
    expect(b.reshape([2, 2]).t().contiguous().toArray()).toEqual([[true, true], [false, false]]);
  });
  it('ops that do not take bool say so', () => {
    const b = kiln.tensor([1, 0], { dtype: 'bool' });
    expect(() => b.exp()).toThrow(/expected a float32(, float64 or bfloat16| or float64)? tensor, got bool/);
    expect(() => b.matmul(b)).toThrow(/expected a float32(, float64 or bfloat16| or float64)? tensor, got bool/);
    expect(() => b.add_(1)).toThrow(/expected a float32(, float64 or bfloat16| or float64)? tensor, got bool/);
    expect(() => b.mean()).toThrow(KilnError);
    expect(() => b.requiresGrad_()).toThrow(/only float32, float64 and bfloat16 tensors can require gradients, this one is bool/);
    expect(() => kiln.zeros([2]).indexSelect(0, b)).toThrow(/index: expected an int32 tensor, got bool/);
  });
});
