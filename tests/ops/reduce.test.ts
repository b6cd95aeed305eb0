// Reductions over single, multiple and negative dims with keepdim; argmax ties; var/std/logsumexp.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectMatches, gradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { distinctArr, randArr } from '../helpers/reference.js';

const dimCases: [dims: number[] | undefined, keepdim: boolean][] = [
  [undefined, false],
  [undefined, true],
  [[0], false],
  [[1], true],
  [[-1], false],
  [[0, 2], false],
  [[-1, 0], true],
  [[2, 1, 0], false],
  // adjacent dims reduce as one run (one native pass over their product)
  [[1, 2], true],
  [[0, 1], false],
];

describe('sum / mean over dims', () => {
  for (const [dims, keepdim] of dimCases) {
    const arg = dims === undefined ? undefined : dims.length === 1 ? dims[0] : dims;
    it(`sum dims=${JSON.stringify(dims)} keepdim=${keepdim}`, () => {
      gradcheck((x) => x.sum(arg, keepdim), (x) => ref.sum(x, dims, keepdim), [randArr([2, 3, 4], 1)]);
    });
    it(`mean dims=${JSON.stringify(dims)} keepdim=${keepdim}`, () => {
      gradcheck((x) => x.mean(arg, keepdim), (x) => ref.mean(x, dims, keepdim), [randArr([2, 3, 4], 2)]);
    });
  }

  it("batch norm's reduction of [N, C, H, W] over [0, 2, 3] (a run and a separate dim)", () => {
    gradcheck((x) => x.sum([0, 2, 3], true), (x) => ref.sum(x, [0, 2, 3], true), [randArr([3, 4, 2, 5], 7)]);
    gradcheck((x) => x.mean([0, 2, 3]), (x) => ref.mean(x, [0, 2, 3]), [randArr([3, 4, 2, 5], 8)]);
  });

  it('free functions kiln.sum / kiln.mean', () => {
    gradcheck((x) => kiln.sum(x, 1), (x) => ref.sum(x, [1]), [randArr([3, 5], 3)]);
    gradcheck((x) => kiln.mean(x, [0, 1], true), (x) => ref.mean(x, [0, 1], true), [randArr([3, 5], 4)]);
  });

  it('a 0-d tensor sums to itself; an empty dim sums to 0; int32 sums stay exact', () => {
    expect(kiln.tensor(2.5).sum().item()).toBe(2.5);
    const e = kiln.zeros([0, 3]).sum(0);
    expect(Array.from(e.toTypedArray())).toEqual([0, 0, 0]);
    expect(kiln.zeros([0, 3]).sum().item()).toBe(0);
    const si = kiln.tensor([1, 2, 3], { dtype: 'int32' }).sum();
    expect(si.dtype).toBe('int32');
    expect(si.item()).toBe(6);
    expect(kiln.tensor([[1, 2], [3, 4]], { dtype: 'int32' }).sum(0).toArray()).toEqual([4, 6]);
  });

  it('mean over an empty dim throws a KilnError', () => {
    expect(() => kiln.zeros([0, 3]).mean(0)).toThrow(kiln.KilnError);
  });
});

describe('max / min / argmax / argmin', () => {
  for (const dim of [0, 1, -1]) {
    for (const keepdim of [false, true]) {
      it(`max/min dim=${dim} keepdim=${keepdim} (no ties)`, () => {
        const x = distinctArr([3, 4, 5], 10 + dim);
        gradcheck((t) => t.max(dim, keepdim), (r) => ref.reduce(r, [dim], keepdim, ref.maxOf), [x]);
        gradcheck((t) => kiln.min(t, dim, keepdim), (r) => ref.reduce(r, [dim], keepdim, ref.minOf), [x]);
      });
      it(`argmax/argmin dim=${dim} keepdim=${keepdim}`, () => {
        const x = distinctArr([3, 4, 5], 20 + dim);
        const a = toKiln(x).argmax(dim, keepdim);
        expect(a.dtype).toBe('int32');
        expectMatches(a, ref.reduce(x, [dim], keepdim, ref.argmaxOf), { atol: 0 });
        expectMatches(kiln.argmin(toKiln(x), dim, keepdim), ref.reduce(x, [dim], keepdim, ref.argminOf), { atol: 0 });
      });
    }
  }

  it('max/argmax over all elements', () => {
    const x = distinctArr([4, 6], 30);
    gradcheck((t) => t.max(), (r) => ref.reduce(r, undefined, false, ref.maxOf), [x]);
    expect(toKiln(x).argmax().item()).toBe(ref.argmaxOf(Array.from(x.data)));
    expect(toKiln(x).argmin().item()).toBe(ref.argminOf(Array.from(x.data)));
  });

  it('argmax/argmin ties pick the first index', () => {
    const t = kiln.tensor([[1, 5, 5, 2], [3, 3, 3, 3], [0, -1, 7, 7]]);
    expect(t.argmax(1).toArray()).toEqual([1, 0, 2]);
    expect(t.argmin(1).toArray()).toEqual([0, 0, 1]);
    expect(kiln.tensor([[2, 2], [2, 2]]).argmax(0).toArray()).toEqual([0, 0]);
    expect(kiln.tensor([4, 9, 9, 1]).argmax().item()).toBe(1);
  });

  it('max/min of an int32 tensor stay int32', () => {
    const t = kiln.tensor([[3, 9], [7, 1]], { dtype: 'int32' });
    expect(t.max(0).dtype).toBe('int32');
    expect(t.max(0).toArray()).toEqual([7, 9]);
    expect(t.min().item()).toBe(1);
  });
});

describe('var / std / logsumexp', () => {
  for (const unbiased of [true, false]) {
    for (const [dims, keepdim] of [[[1], false], [[0, 2], true], [undefined, false], [[-1], true]] as [number[] | undefined, boolean][]) {
      const arg = dims === undefined ? undefined : dims.length === 1 ? dims[0] : dims;
      it(`var/std unbiased=${unbiased} dims=${JSON.stringify(dims)} keepdim=${keepdim}`, () => {
        const x = randArr([3, 4, 5], 40);
        gradcheck((t) => t.var(arg, { unbiased, keepdim }), (r) => ref.reduce(r, dims, keepdim, ref.varOf(unbiased)), [x]);
        gradcheck((t) => t.std(arg, { unbiased, keepdim }),
          (r) => ref.map(ref.reduce(r, dims, keepdim, ref.varOf(unbiased)), Math.sqrt), [x]);
      });
    }
  }

  it('var defaults to unbiased over all elements', () => {
    const x = randArr([10], 41);
    expectMatches(toKiln(x).var(), ref.reduce(x, undefined, false, ref.varOf(true)));
  });

  for (const dim of [0, 1, -1]) {
    for (const keepdim of [false, true]) {
      it(`logsumexp dim=${dim} keepdim=${keepdim}`, () => {
        const x = randArr([3, 4, 5], 50 + dim, -3, 3);
        gradcheck((t) => t.logsumexp(dim, keepdim), (r) => ref.reduce(r, [dim], keepdim, ref.logsumexpOf), [x]);
        gradcheck((t) => kiln.logsumexp(t, dim, keepdim), (r) => ref.reduce(r, [dim], keepdim, ref.logsumexpOf), [x]);
      });
    }
  }

  it('logsumexp is stable for large inputs', () => {
    const x = ref.arr([2, 3], [1000, 1001, 999, -1000, -1002, -999]);
    expectMatches(toKiln(x).logsumexp(1), ref.reduce(x, [1], false, ref.logsumexpOf), { rtol: 1e-6 });
  });
});
