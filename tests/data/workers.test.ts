// DataLoader with numWorkers: worker threads rebuild the dataset from its spec, run get() and
// the item transforms, and send collated typed arrays; the main thread makes the tensors.
// Batches equal numWorkers 0's exactly (augmentation is fixed by seed, epoch and index).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { KilnError } from '../../src/errors.js';
import { tensor, arange } from '../../src/creation.js';
import { Tensor } from '../../src/tensor.js';
import {
  ArrayDataset, Compose, DataLoader, Normalize, RandomCrop, RandomHorizontalFlip, TensorDataset, ToFloat32, randomSplit, disposeBatch,
} from '../../src/data/index.js';
import { fit } from '../../src/train/index.js';
import { setup } from '../train/helpers.js';
// @ts-expect-error a plain JS fixture without types
import * as fx from './fixtures/worker-datasets.mjs';
import { trackedTensors } from '../helpers/memory.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every batch of one epoch as plain arrays (tensors disposed). */
async function epoch(loader: DataLoader<any>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const b of loader) {
    out.push(plain(b));
    disposeBatch(b);
  }
  return out;
}

function plain(b: unknown): unknown {
  if (b instanceof Tensor) return { shape: b.shape, dtype: b.dtype, data: Array.from(b.toTypedArray()) };
  if (Array.isArray(b)) return b.map(plain);
  if (b && typeof b === 'object') return Object.fromEntries(Object.entries(b).map(([k, v]) => [k, plain(v)]));
  return b;
}

function images(n: number): Uint8Array {
  const px = new Uint8Array(n * 1 * 6 * 5);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + 11) % 256;
  return px;
}

function augmented(n: number): ArrayDataset {
  const t = new Compose([new RandomCrop([6, 5], { padding: 2 }), new RandomHorizontalFlip(), new ToFloat32(1 / 255), new Normalize(0.25, 0.5)]);
  return new ArrayDataset([{ data: images(n), shape: [n, 1, 6, 5] }, { data: Uint8Array.from({ length: n }, (_, i) => i % 10), shape: [n] }], { transforms: [t] });
}

describe('DataLoader workers give the batches numWorkers 0 gives', () => {
  it('TensorDataset, shuffled, two epochs; memory flat', async () => {
    const m0 = trackedTensors();
    const x = tensor(Float32Array.from({ length: 37 * 3 }, (_, i) => i / 7), { shape: [37, 3] });
    const y = arange(37);
    const ds = new TensorDataset(x, y);
    const a = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 3 });
    const b = new DataLoader(ds, { batchSize: 8, shuffle: true, seed: 3, numWorkers: 2 });
    for (let e = 0; e < 2; e++) expect(await epoch(b)).toEqual(await epoch(a));
    x.dispose();
    y.dispose();
    expect(trackedTensors()).toBe(m0);
  });

  it('an augmented image dataset (crop, flip, scale, normalise per item): equal batches, new augmentation each epoch', async () => {
    const ds = augmented(23);
    const a = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 9 });
    const b = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 9, numWorkers: 2, prefetchFactor: 3 });
    const e0 = await epoch(a);
    expect(await epoch(b)).toEqual(e0);
    const e1 = await epoch(a);
    expect(await epoch(b)).toEqual(e1);
    const first = (e: unknown[]) => (e[0] as { data: number[] }[])[0];
    expect(first(e0).shape).toEqual([5, 1, 6, 5]);
    expect(first(e0).dtype).toBe('float32');
    expect(first(e1).data).not.toEqual(first(e0).data); // another epoch, another crop/flip
    expect((e0[0] as { dtype: string }[])[1].dtype).toBe('int32');
  });

  it('a Subset from randomSplit, and a record-form ArrayDataset', async () => {
    const ds = new ArrayDataset({ img: { data: images(20), shape: [20, 1, 6, 5] }, id: { data: Int32Array.from({ length: 20 }, (_, i) => 100 + i), shape: [20] } });
    const [train] = randomSplit(ds, [15, 5], 1);
    const a = await epoch(new DataLoader(train, { batchSize: 4, seed: 1 }));
    const b = await epoch(new DataLoader(train, { batchSize: 4, seed: 1, numWorkers: 2 }));
    expect(b).toEqual(a);
    const ids = (a as { id: { data: number[] } }[]).flatMap((x) => x.id.data);
    expect(ids).toEqual(Array.from(train.indices, (i) => 100 + i));
  });

  it('a user dataset named by module and export (class or factory), using the item context', async () => {
    const ds = new fx.Squares(11);
    const a = await epoch(new DataLoader(ds, { batchSize: 4, seed: 5 }));
    const b = await epoch(new DataLoader(ds, { batchSize: 4, seed: 5, numWorkers: 3 }));
    expect(b).toEqual(a);
    const x0 = (a[0] as { x: { data: number[] } }).x.data;
    expect(x0[0]).toBe(0);
    expect(x0[1]).toBeGreaterThan(0); // 0 + random in (0, 1)
    expect(x0[1]).toBeLessThan(1);
    const factory = { length: 11, get: ds.get.bind(ds), workerSpec: () => ({ module: ds.workerSpec().module, export: 'makeSquares', args: [11] }) };
    expect(await epoch(new DataLoader(factory as never, { batchSize: 4, seed: 5, numWorkers: 1 }))).toEqual(a);
  });
});

describe('fit with a worker loader', () => {
  it('trains to the same history as numWorkers 0', async () => {
    const run = async (numWorkers: number) => {
      const { model, optimizer, x, y } = setup(5);
      const trainData = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 2, numWorkers });
      const h = await fit(model, { trainData, epochs: 2, optimizer, verbose: false });
      return h.epochs.map((e) => [e.loss, e.accuracy]);
    };
    const want = await run(0);
    expect(await run(2)).toEqual(want);
    expect(want[1][0]).toBeLessThan(want[0][0]);
  });
});

describe('persistentWorkers', () => {
  it('keep their threads across epochs, survive an early break, and end on close()', async () => {
    const ds = augmented(40);
    const ref = new DataLoader(ds, { batchSize: 6, shuffle: true, seed: 4 });
    const l = new DataLoader(ds, { batchSize: 6, shuffle: true, seed: 4, numWorkers: 2, persistentWorkers: true });
    expect(await epoch(l)).toEqual(await epoch(ref));
    const ids = l.workerThreadIds;
    expect(ids.length).toBe(2);
    for (const x of [l, ref]) {
      for await (const b of x) {
        disposeBatch(b); // leave this epoch after one batch: the workers' outstanding batches are dropped
        break;
      }
    }
    expect(await epoch(l)).toEqual(await epoch(ref));
    expect(l.workerThreadIds).toEqual(ids);
    await l.close();
    expect(l.workerThreadIds).toEqual([]);
    expect(await epoch(l)).toEqual(await epoch(ref)); // new workers
    expect(l.workerThreadIds).not.toEqual(ids);
    await l.close();
  });
});

describe('buffers are reused', () => {
  it('workers allocate a few buffers, not one per batch; with reuseBuffers false, one per leaf and batch', async () => {
    const ds = augmented(200);
    const l = new DataLoader(ds, { batchSize: 4, numWorkers: 2, prefetchFactor: 2, seed: 0 });
    await epoch(l);
    // 50 batches of 2 leaves; at most (prefetch depth + in flight + returned) sets per worker
    expect(l.workerStats.allocated + l.workerStats.reused).toBe(2 * 50);
    expect(l.workerStats.allocated).toBeLessThanOrEqual(2 * 2 * (2 + 2));
    const n = new DataLoader(ds, { batchSize: 4, numWorkers: 2, seed: 0, reuseBuffers: false });
    await epoch(n);
    expect(n.workerStats.reused).toBe(0);
    expect(n.workerStats.allocated).toBe(2 * 50);
  });
});

describe('failures surface as KilnErrors, never a hang', () => {
  const fails = async (loader: DataLoader<any>, re: RegExp) => {
    const m0 = trackedTensors();
    let err: unknown;
    try {
      for await (const b of loader) disposeBatch(b);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KilnError);
    expect((err as Error).message).toMatch(re);
    expect(trackedTensors()).toBe(m0);
  };

  it('get() throws in a worker', async () => {
    await fails(new DataLoader(new fx.Throws(20, 13), { batchSize: 4, numWorkers: 2 }), /DataLoader worker 1: batch 3 failed: RangeError: item 13 is broken/);
  });

  it('a worker thread exits', async () => {
    await fails(new DataLoader(new fx.Exits(20, 6), { batchSize: 4, numWorkers: 2 }), /DataLoader worker 1: exited unexpectedly \(code 3\)/);
  });

  it('a worker never answers: the timeout ends it', async () => {
    await fails(new DataLoader(new fx.Hangs(20, 2), { batchSize: 4, numWorkers: 2, timeout: 1500 }), /batch 0 took longer than the 1500 ms timeout/);
  });

  it('the dataset module imports Kiln tensor code (the native addon is refused in workers)', async () => {
    await fails(new DataLoader(new fx.ImportsKiln(4), { batchSize: 2, numWorkers: 1 }), /building the dataset failed: .*native addon.*cannot be made in DataLoader workers yet.*kiln\/data-host/);
  });

  it('an item holds something that is not data', async () => {
    await fails(new DataLoader(new fx.Weird(), { batchSize: 2, numWorkers: 1 }), /collate: item\.when is a Date: items may hold numbers, typed arrays/);
  });

  it('the rebuilt dataset has another length', async () => {
    await fails(new DataLoader(new fx.WrongLength(5), { batchSize: 2, numWorkers: 1 }), /the dataset it rebuilt has 6 items, the loader's has 5/);
  });

  it('a module or export that does not exist', async () => {
    const ds = { length: 3, get: () => 1, workerSpec: () => ({ module: new URL('./fixtures/worker-datasets.mjs', import.meta.url).href, export: 'Nope' }) };
    await fails(new DataLoader(ds as never, { numWorkers: 1 }), /has no export 'Nope'/);
  });

  it('a transform that cannot be sent', async () => {
    const ds = new ArrayDataset([{ data: images(4), shape: [4, 1, 6, 5] }], { transforms: [(x) => x] });
    await fails(new DataLoader(ds, { numWorkers: 1 }), /transform of field 0 cannot be sent to a DataLoader worker/);
  });

  it('options and datasets are checked up front', () => {
    const ds = new TensorDataset(arange(4));
    expect(() => new DataLoader(ds, { numWorkers: -1 })).toThrow(/numWorkers must be an integer >= 0, got -1/);
    expect(() => new DataLoader(ds, { numWorkers: 1.5 })).toThrow(KilnError);
    expect(() => new DataLoader(ds, { numWorkers: 1, prefetchFactor: 0 })).toThrow(/prefetchFactor must be an integer >= 1/);
    expect(() => new DataLoader(ds, { numWorkers: 1, timeout: -5 })).toThrow(/timeout must be a finite number/);
    expect(() => new DataLoader(ds, { numWorkers: 1, collate: (x) => x })).toThrow(/collate cannot run in workers/);
    const plainDs = { length: 2, get: (i: number) => i };
    expect(() => new DataLoader(plainDs as never, { numWorkers: 2 })).toThrow(/numWorkers 2 needs a dataset a worker can rebuild/);
    expect(() => [...new DataLoader(ds, { numWorkers: 1 })]).toThrow(/numWorkers > 0 needs async iteration/);
  });
});

describe('shutting down', () => {
  it('break ends the workers; batches prepared ahead never become tensors', async () => {
    const m0 = trackedTensors();
    const l = new DataLoader(augmented(100), { batchSize: 2, numWorkers: 2, prefetchFactor: 4 });
    let seen = 0;
    for await (const b of l) {
      seen++;
      disposeBatch(b);
      if (seen === 2) break;
    }
    expect(trackedTensors()).toBe(m0);
  });

  it('a process that breaks out of a loop, drops an iterator half-way, or never closes persistent workers, exits by itself', () => {
    const r = spawnSync(process.execPath, ['--import', './tests/io/ts-loader.mjs', 'tests/data/worker-exit-child.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.error).toBeUndefined(); // a timeout here would mean a worker kept the process alive
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/broke after 1 batch\ndropped after 1 batch\nkept workers after 1 epoch\n/);
  });
});
