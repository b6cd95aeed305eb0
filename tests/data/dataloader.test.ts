import { describe, it, expect } from 'vitest';
import { KilnError } from '../../src/errors.js';
import { tensor, arange } from '../../src/creation.js';
import { Tensor } from '../../src/tensor.js';
import { scope } from '../../src/memory.js';
import {
  Dataset, TensorDataset, Subset, DataLoader, randomSplit, seededPermutation, defaultCollate,
  normalize, Normalize, oneHot, Compose, compose,
} from '../../src/data/index.js';
import { trackedTensors } from '../helpers/memory.js';

/** x: float32 [n, 2] with row i = [i, 10 i]; y: int32 [n] with y[i] = i. */
function ds(n: number): TensorDataset {
  const x = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) { x[2 * i] = i; x[2 * i + 1] = 10 * i; }
  return new TensorDataset(tensor(x, { shape: [n, 2] }), arange(n));
}

function ids(batches: Tensor[][]): number[][] {
  return batches.map(([, y]) => Array.from(y.toTypedArray()));
}

async function collect<B>(it: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe('TensorDataset and Subset', () => {
  it('gets items and batches by index', () => {
    const d = ds(5);
    expect(d.length).toBe(5);
    const [x, y] = d.get(3);
    expect(x.toArray()).toEqual([3, 30]);
    expect(y.item()).toBe(3);
    const [bx, by] = d.getBatch([4, 0, 4]);
    expect(bx.shape).toEqual([3, 2]);
    expect(bx.toArray()).toEqual([[4, 40], [0, 0], [4, 40]]);
    expect(by.dtype).toBe('int32');
    expect(by.toArray()).toEqual([4, 0, 4]);
  });

  it('checks its arguments', () => {
    expect(() => new TensorDataset(tensor([1, 2, 3]), tensor([1, 2]))).toThrow(/share dim 0: tensor 0 has 3 rows, tensor 1 has 2/);
    expect(() => new TensorDataset()).toThrow(KilnError);
    expect(() => ds(3).get(3)).toThrow(/index 3 out of range for length 3/);
    expect(() => ds(3).getBatch([0, -1])).toThrow(/index -1 out of range/);
  });

  it('Subset maps indices, including through getBatch', () => {
    const s = new Subset(ds(10), [7, 2, 5]);
    expect(s.length).toBe(3);
    expect(s.get(0)[1].item()).toBe(7);
    expect(s.getBatch!([2, 1])[1].toArray()).toEqual([5, 2]);
    expect(() => s.get(3)).toThrow(KilnError);
  });
});

describe('randomSplit', () => {
  it('splits by counts or fractions into disjoint subsets covering everything, reproducibly', () => {
    const d = ds(10);
    const [a, b] = randomSplit(d, [7, 3], 42);
    expect([a.length, b.length]).toEqual([7, 3]);
    const all = [...a.indices, ...b.indices].sort((p, q) => p - q);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const [a2] = randomSplit(d, [7, 3], 42);
    expect(Array.from(a2.indices)).toEqual(Array.from(a.indices));
    const [a3] = randomSplit(d, [7, 3], 43);
    expect(Array.from(a3.indices)).not.toEqual(Array.from(a.indices));
    const parts = randomSplit(ds(11), [0.5, 0.3, 0.2], 0);
    expect(parts.map((p) => p.length)).toEqual([6, 3, 2]); // floors 5,3,2 + remainder to the first
  });

  it('rejects lengths that do not add up', () => {
    expect(() => randomSplit(ds(10), [5, 4])).toThrow(/sum to 9, dataset has 10 items/);
    expect(() => randomSplit(ds(10), [0.5, 0.4])).toThrow(KilnError);
  });
});

describe('seededPermutation', () => {
  it('is a permutation, determined by seed and stream', () => {
    const p = seededPermutation(1000, 5, 0);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(seededPermutation(1000, 5, 0))).toEqual(Array.from(p));
    expect(Array.from(seededPermutation(1000, 5, 1))).not.toEqual(Array.from(p));
    expect(Array.from(seededPermutation(1000, 6, 0))).not.toEqual(Array.from(p));
    // roughly uniform: element 0 lands in each half about equally often over many seeds
    let first = 0;
    for (let s = 0; s < 2000; s++) if (seededPermutation(10, s)[0] < 5) first++;
    expect(first).toBeGreaterThan(850);
    expect(first).toBeLessThan(1150);
  });
});

describe('DataLoader', () => {
  it('yields batches in order without shuffle; length counts batches; dropLast', async () => {
    const l = new DataLoader(ds(10), { batchSize: 4 });
    expect(l.length).toBe(3);
    const b = await collect(l);
    expect(ids(b)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
    expect(b[0][0].shape).toEqual([4, 2]);
    expect(b[2][0].toArray()).toEqual([[8, 80], [9, 90]]);
    const d = new DataLoader(ds(10), { batchSize: 4, dropLast: true });
    expect(d.length).toBe(2);
    expect(ids(await collect(d))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(new DataLoader(ds(8), { batchSize: 4, dropLast: true }).length).toBe(2);
    expect(new DataLoader(ds(3), { batchSize: 4, dropLast: true }).length).toBe(0);
  });

  it('the sync iterator gives the same batches', () => {
    const l = new DataLoader(ds(7), { batchSize: 3 });
    expect(ids([...l])).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('shuffles reproducibly: epoch e is fixed by (seed, e), every epoch covers all items once', async () => {
    const run = async (seed: number, epochs: number) => {
      const l = new DataLoader(ds(20), { batchSize: 6, shuffle: true, seed });
      const out: number[][][] = [];
      for (let e = 0; e < epochs; e++) out.push(ids(await collect(l)));
      return out;
    };
    const a = await run(7, 3);
    const b = await run(7, 3);
    expect(a).toEqual(b);
    for (const epoch of a) expect(epoch.flat().sort((p, q) => p - q)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(a[0]).not.toEqual(a[1]);
    expect(a[0].flat()).not.toEqual(Array.from({ length: 20 }, (_, i) => i));
    const c = await run(8, 1);
    expect(c[0]).not.toEqual(a[0]);
    // setEpoch replays an epoch; the sync iterator uses the same order
    const l = new DataLoader(ds(20), { batchSize: 6, shuffle: true, seed: 7 });
    l.setEpoch(2);
    expect(ids([...l])).toEqual(a[2]);
    expect(l.epoch).toBe(3);
  });

  it('batches line up: features and labels come from the same rows', async () => {
    for await (const [x, y] of new DataLoader(ds(13), { batchSize: 5, shuffle: true, seed: 1 })) {
      const yv = y.toTypedArray();
      const xv = x.toTypedArray();
      yv.forEach((i, k) => {
        expect(xv[2 * k]).toBe(i);
        expect(xv[2 * k + 1]).toBe(10 * i);
      });
    }
  });

  it('prefetches: batch k+1 is prepared (on the event loop) before the caller asks for it', async () => {
    const fetched: number[] = [];
    class Spy extends Dataset<Tensor[]> {
      inner = ds(8);
      get length() { return 8; }
      get(i: number) { return this.inner.get(i); }
      override getBatch(idx: ArrayLike<number>) {
        fetched.push(idx[0]);
        return this.inner.getBatch(idx);
      }
    }
    const l = new DataLoader(new Spy(), { batchSize: 2 });
    let k = 0;
    for await (const [, y] of l) {
      expect(y.toTypedArray()[0]).toBe(2 * k);
      // let the event loop turn while "training" on batch k
      await new Promise((r) => setImmediate(r));
      expect(fetched.length).toBe(Math.min(k + 2, 4));
      k++;
    }
    expect(k).toBe(4);
  });

  it('the event loop keeps running during an epoch', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const l = new DataLoader(ds(2000), { batchSize: 1 });
    let n = 0;
    const t0 = Date.now();
    for await (const b of l) {
      for (const t of b) t.dispose();
      n++;
    }
    clearInterval(timer);
    expect(n).toBe(2000);
    if (Date.now() - t0 > 20) expect(ticks).toBeGreaterThan(0);
  });

  it('yielded tensors belong to the caller; scope frees them; breaking early frees the prefetched batch', async () => {
    const d = ds(50);
    const base = trackedTensors();
    await scope(async () => {
      for await (const [x, y] of new DataLoader(d, { batchSize: 8, shuffle: true, seed: 3 })) {
        x.add(1); // a temporary made in the loop body
        expect(y.shape[0]).toBeGreaterThan(0);
      }
    });
    expect(trackedTensors()).toBe(base);
    let seen = 0;
    for await (const batch of new DataLoader(d, { batchSize: 8 })) {
      for (const t of batch) t.dispose();
      if (++seen === 2) break;
    }
    expect(trackedTensors()).toBe(base);
    for (const batch of new DataLoader(d, { batchSize: 8 })) for (const t of batch) t.dispose();
    expect(trackedTensors()).toBe(base);
  });

  it('a scope inside the loop body never frees the batch prepared ahead', async () => {
    const d = ds(12);
    const base = trackedTensors();
    const it = new DataLoader(d, { batchSize: 4 })[Symbol.asyncIterator]();
    const seen: number[][] = [];
    for (;;) {
      // each step, next() included, runs in its own scope, as a hand-written loop might
      const done = await scope(async () => {
        const r = await it.next();
        if (r.done) return true;
        const [x, y] = r.value;
        seen.push(Array.from(y.toTypedArray()));
        x.dispose();
        y.dispose();
        await new Promise((res) => setImmediate(res)); // the next batch is prepared now
        return false;
      });
      if (done) break;
    }
    expect(seen).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]);
    expect(trackedTensors()).toBe(base);
  });

  it('collates items of a dataset without getBatch (tensors stacked, numbers to int32/float32)', async () => {
    class Pairs extends Dataset<[Tensor, number, number]> {
      get length() { return 5; }
      get(i: number): [Tensor, number, number] { return [tensor([i, -i]), i % 2, i / 2]; }
    }
    const base = trackedTensors();
    const batches = await collect(new DataLoader<[Tensor, Tensor, Tensor]>(new Pairs(), { batchSize: 2 }));
    expect(batches.length).toBe(3);
    const [x, c, r] = batches[1];
    expect(x.shape).toEqual([2, 2]);
    expect(x.toArray()).toEqual([[2, -2], [3, -3]]);
    expect(c.dtype).toBe('int32');
    expect(c.toArray()).toEqual([0, 1]);
    expect(r.dtype).toBe('float32');
    expect(r.toArray()).toEqual([1, 1.5]);
    for (const b of batches) for (const t of b) t.dispose();
    expect(trackedTensors()).toBe(base); // the per-item tensors were freed after stacking
    expect(defaultCollate([{ a: 1 }, { a: 2 }]).a.toArray()).toEqual([1, 2]);
    expect(() => defaultCollate([new Date()])).toThrow(/pass a collate function/);
  });

  it('applies a batch transform and a custom collate', async () => {
    const l = new DataLoader(ds(4), { batchSize: 2, transform: ([x, y]) => [x.mul(2), y] });
    const b = await collect(l);
    expect(b[0][0].toArray()).toEqual([[0, 0], [2, 20]]);
    class Nums extends Dataset<number> {
      get length() { return 3; }
      get(i: number) { return i; }
    }
    const sums = [...new DataLoader(new Nums(), { batchSize: 2, collate: (xs: number[]) => xs.reduce((a, v) => a + v, 0) })];
    expect(sums).toEqual([1, 2]);
  });

  it('surfaces an error from a batch at the await, not as an unhandled rejection', async () => {
    class Bad extends Dataset<Tensor[]> {
      get length() { return 4; }
      get(i: number): Tensor[] {
        if (i === 3) throw new KilnError('bad item 3');
        return [tensor([i])];
      }
    }
    const seen: number[] = [];
    await expect((async () => {
      for await (const [x] of new DataLoader(new Bad(), { batchSize: 1 })) seen.push(x.item());
    })()).rejects.toThrow('bad item 3');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('checks options', () => {
    expect(() => new DataLoader(ds(3), { batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => new DataLoader(ds(3), { seed: -1 })).toThrow(/seed must be a non-negative integer/);
    expect(() => new DataLoader({} as Dataset)).toThrow(KilnError);
  });
});

describe('transforms', () => {
  it('normalize with scalars and per channel (dim -3 for images, last dim for [N, F])', () => {
    expect(normalize(tensor([1, 3]), 1, 2).toArray()).toEqual([0, 1]);
    const img = tensor([[[1, 2]], [[10, 20]]]); // [C=2, H=1, W=2]
    expect(normalize(img, [1, 10], [1, 10]).toArray()).toEqual([[[0, 1]], [[0, 1]]]);
    const batch = tensor([[[[1, 2]], [[10, 20]]]]); // [N=1, C=2, 1, 2]
    expect(normalize(batch, [1, 10], [1, 10]).toArray()).toEqual([[[[0, 1]], [[0, 1]]]]);
    const feats = tensor([[1, 10], [3, 30]]);
    expect(normalize(feats, [2, 20], [1, 10]).toArray()).toEqual([[-1, -1], [1, 1]]);
    expect(() => normalize(img, [1, 2, 3], 1)).toThrow(/3 channel values but dim 0 of shape \[2, 1, 2\] has size 2/);
    expect(() => normalize(img, 0, 0)).toThrow(/std must be finite and non-zero/);
    expect(new Normalize(1, 2).apply(tensor([5])).toArray()).toEqual([2]);
  });

  it('oneHot', () => {
    const h = oneHot(tensor([2, 0, 1], { dtype: 'int32' }), 4);
    expect(h.dtype).toBe('float32');
    expect(h.toArray()).toEqual([[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]);
    expect(oneHot(tensor([[1], [0]], { dtype: 'int32' })).shape).toEqual([2, 1, 2]);
    expect(() => oneHot(tensor([4], { dtype: 'int32' }), 4)).toThrow(/label 4 at flat index 0 is outside \[0, 4\)/);
    expect(() => oneHot(tensor([1.5]), 2)).toThrow(/expected int32/);
  });

  it('Compose applies in order and frees intermediates', () => {
    const x = tensor([1, 2]);
    const base = trackedTensors();
    const c = new Compose([(t: Tensor) => t.add(1), { apply: (t: Tensor) => t.mul(3) }, new Normalize(0, 2)]);
    const y = c.apply(x);
    expect(y.toArray()).toEqual([3, 4.5]);
    expect(x.isDisposed).toBe(false);
    expect(trackedTensors()).toBe(base + 1);
    expect(compose((t: Tensor) => t.add(1))(x).toArray()).toEqual([2, 3]);
    expect(() => new Compose([42 as unknown as (t: Tensor) => Tensor])).toThrow(/transform 0/);
  });
});
