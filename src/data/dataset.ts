/**
 * Datasets and the DataLoader.
 *
 *   const ds = new TensorDataset(images, labels);          // share dim 0
 *   const [train, val] = randomSplit(ds, [0.9, 0.1], 0);
 *   const loader = new DataLoader(train, { batchSize: 64, shuffle: true, seed: 1 });
 *   for await (const [x, y] of loader) { ... }             // or: for (const [x, y] of loader)
 *
 * Ownership: every tensor a loader yields is new and belongs to the caller. Free it with
 * x.dispose(), or run the loop (or each step) inside kiln.scope(). A batch the loader had
 * prefetched when the loop stopped early is freed by the loader.
 */
import { checkOptions } from '../options.js';
import { AsyncResource } from 'node:async_hooks';
import { KilnError } from '../errors.js';
import { tensor } from '../creation.js';
import { Tensor } from '../tensor.js';
import { scope } from '../memory.js';
import { noGrad } from '../autograd/engine.js';
import { stack } from '../ops/shape.js';
import { Dataset, Subset, checkIndex } from './dataset-base.js';
import { type BatchLeaf, collateLeaf, freshArrays, isBatchLeaf, isHostLeafItem, leafBuffers } from './host.js';
import { itemContext, seededPermutation } from './seeded.js';
import type { WorkerSpec } from './worker-spec.js';
import { WorkerPool } from './worker-pool.js';

export { Dataset, Subset } from './dataset-base.js';
export { mulberry32, seededPermutation } from './seeded.js';

/** Tensors that share their first dim; item i is [t0[i], t1[i], ...]. */
export class TensorDataset extends Dataset<Tensor[]> {
  readonly tensors: Tensor[];

  constructor(...tensors: Tensor[]) {
    super();
    if (tensors.length === 0) throw new KilnError('TensorDataset: expected at least one tensor');
    tensors.forEach((t, k) => {
      if (!(t instanceof Tensor)) throw new KilnError(`TensorDataset: argument ${k} is not a Tensor`);
      if (t.shape.length === 0) throw new KilnError(`TensorDataset: tensor ${k} is a scalar; expected at least one dim`);
    });
    const n = tensors[0].shape[0];
    tensors.forEach((t, k) => {
      if (t.shape[0] !== n) {
        throw new KilnError(`TensorDataset: tensors must share dim 0: tensor 0 has ${n} rows, tensor ${k} has ${t.shape[0]} (shape [${t.shape.join(', ')}])`);
      }
    });
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0].shape[0];
  }

  /** Views of row i of each tensor. */
  get(i: number): Tensor[] {
    checkIndex(i, this.length, 'TensorDataset.get');
    return noGrad(() => this.tensors.map((t) => t.select(0, i)));
  }

  /**
   * For DataLoader workers: the tensors' values copied once into SharedArrayBuffers, rebuilt
   * in the worker as an ArrayDataset (item i = row i of each, as numbers or typed arrays).
   * The copy is taken when a loader with workers first iterates; later in-place changes to the
   * tensors are not seen by workers of that loader.
   */
  override workerSpec(): WorkerSpec {
    const fields = this.tensors.map((t) => {
      const host = t.toTypedArray() as Float32Array | Int32Array;
      const data = t.dtype === 'int32' ? new Int32Array(new SharedArrayBuffer(host.byteLength)) : new Float32Array(new SharedArrayBuffer(host.byteLength));
      data.set(host);
      return { data, shape: [...t.shape] };
    });
    return { kiln: 'arrays', names: null, fields, transforms: fields.map(() => null) };
  }

  /** Rows `indices` of each tensor, gathered with one indexSelect per tensor. */
  override getBatch(indices: ArrayLike<number>): Tensor[] {
    const n = this.length;
    const idx = Int32Array.from(indices as ArrayLike<number>);
    for (let k = 0; k < idx.length; k++) checkIndex(idx[k], n, 'TensorDataset.getBatch');
    return scope(() =>
      noGrad(() => {
        const byDevice = new Map<string, Tensor>();
        return this.tensors.map((t) => {
          let it = byDevice.get(t.device);
          if (!it) {
            it = tensor(idx, { dtype: 'int32', shape: [idx.length], device: t.device });
            byDevice.set(t.device, it);
          }
          return t.indexSelect(0, it);
        });
      }),
    );
  }
}

/**
 * Split a dataset into non-overlapping random subsets. `lengths` are item counts summing to
 * the dataset length, or fractions summing to 1 (floors, then the remainder handed out one at
 * a time from the first subset, as PyTorch does). The split is determined by `seed`.
 */
export function randomSplit<T>(dataset: Dataset<T>, lengths: number[], seed = 0): Subset<T>[] {
  const n = dataset.length;
  if (!Array.isArray(lengths) || lengths.length === 0) throw new KilnError('randomSplit: lengths must be a non-empty array');
  let counts: number[];
  const sum = lengths.reduce((a, b) => a + b, 0);
  const isFrac = lengths.every((x) => x >= 0 && x <= 1) && Math.abs(sum - 1) < 1e-6 && !(lengths.every(Number.isInteger) && sum === n);
  if (isFrac) {
    counts = lengths.map((f) => Math.floor(n * f));
    let rem = n - counts.reduce((a, b) => a + b, 0);
    for (let k = 0; rem > 0; k = (k + 1) % counts.length, rem--) counts[k]++;
  } else {
    if (!lengths.every((x) => Number.isInteger(x) && x >= 0)) {
      throw new KilnError(`randomSplit: lengths must be non-negative integers or fractions summing to 1, got [${lengths.join(', ')}]`);
    }
    if (sum !== n) throw new KilnError(`randomSplit: lengths [${lengths.join(', ')}] sum to ${sum}, dataset has ${n} items`);
    counts = lengths;
  }
  const perm = seededPermutation(n, seed, 0x5eed);
  const out: Subset<T>[] = [];
  let off = 0;
  for (const c of counts) {
    out.push(new Subset(dataset, perm.subarray(off, off + c)));
    off += c;
  }
  return out;
}

// ---- collation -----------------------------------------------------------------------------

/**
 * Default collate: items that are Tensors are stacked along a new dim 0; numbers become a 1-D
 * tensor (int32 when all are integers, else float32); typed arrays and { data, shape } items
 * (host.ts) are stacked into one tensor (float32 from float arrays, int32 from integer ones);
 * arrays and plain objects are collated position by position / key by key.
 */
export function defaultCollate(items: unknown[]): any {
  if (items.length === 0) throw new KilnError('collate: empty batch');
  const first = items[0];
  if (first instanceof Tensor) {
    if (!items.every((x) => x instanceof Tensor)) throw new KilnError('collate: a batch mixes tensors and other values');
    return noGrad(() => stack(items as Tensor[], 0));
  }
  if (isHostLeafItem(first)) return leafTensor(collateLeaf(items, freshArrays));
  if (typeof first === 'number') {
    if (!items.every((x) => typeof x === 'number')) throw new KilnError('collate: a batch mixes numbers and other values');
    const nums = items as number[];
    const isInt = nums.every((x) => Number.isInteger(x) && Math.abs(x) <= 2147483647);
    return tensor(isInt ? Int32Array.from(nums) : Float32Array.from(nums), { dtype: isInt ? 'int32' : 'float32', shape: [nums.length] });
  }
  if (Array.isArray(first)) {
    const len = first.length;
    if (!items.every((x) => Array.isArray(x) && x.length === len)) throw new KilnError('collate: items are arrays of different lengths');
    return first.map((_, k) => defaultCollate(items.map((x) => (x as unknown[])[k])));
  }
  if (first !== null && typeof first === 'object' && Object.getPrototypeOf(first) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = defaultCollate(items.map((x) => (x as Record<string, unknown>)[key]));
    return out;
  }
  throw new KilnError(`collate: cannot batch items of type ${typeof first}; pass a collate function`);
}

function leafTensor(leaf: BatchLeaf): Tensor {
  return tensor(leaf.data, { dtype: leaf.dtype, shape: leaf.shape });
}

/** A worker's batch with each leaf made a tensor (the tensors own copies of the data). */
function batchTensors(b: unknown): unknown {
  if (isBatchLeaf(b)) return leafTensor(b);
  if (Array.isArray(b)) return b.map(batchTensors);
  if (b !== null && typeof b === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b)) out[k] = batchTensors(v);
    return out;
  }
  return b;
}

/** Dispose every tensor in a batch (an array, plain object or tensor). */
export function disposeBatch(b: unknown): void {
  if (b instanceof Tensor) {
    if (!b.isDisposed) b.dispose();
  } else if (Array.isArray(b)) {
    for (const x of b) disposeBatch(x);
  } else if (b !== null && typeof b === 'object' && Object.getPrototypeOf(b) === Object.prototype) {
    for (const x of Object.values(b)) disposeBatch(x);
  }
}

// ---- DataLoader ------------------------------------------------------------------------------

export interface DataLoaderOptions<B> {
  /** Items per batch. Default 1. */
  batchSize?: number;
  /** Reshuffle the order every epoch. Default false. */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize. Default false. */
  dropLast?: boolean;
  /**
   * Shuffle seed: epoch e uses the permutation determined by (seed, e), so runs repeat
   * exactly. Default: a number taken from a process-wide counter (0, 1, 2, ... in order of
   * DataLoader creation), which is deterministic for a deterministic program.
   */
  seed?: number;
  /** Combine items into a batch (used when the dataset has no getBatch). Default defaultCollate. */
  collate?: (items: any[]) => B;
  /** Applied to each batch before it is yielded. */
  transform?: (batch: B) => B;
  /** Prepare batch k+1 while the caller works on batch k (async iteration only). Default true. */
  prefetch?: boolean;
  /**
   * Worker threads that run the dataset's get() and item transforms and collate batches of
   * typed arrays, while this thread makes the tensors and trains. Default 0: everything in
   * this thread, as before. The dataset must describe itself (workerSpec; see the README,
   * "Loading in worker threads"); needs `for await`.
   */
  numWorkers?: number;
  /** Batches each worker prepares ahead (numWorkers > 0). Default 2. */
  prefetchFactor?: number;
  /** Milliseconds to wait for one batch from a worker before failing; 0 waits forever. Default 0. */
  timeout?: number;
  /**
   * Hand each batch's buffers back to its worker once the tensors are made, so workers
   * collate into the same few buffers instead of allocating every batch (the role of PyTorch's
   * pin_memory staging buffers; these are not page-locked). Default true.
   */
  reuseBuffers?: boolean;
  /**
   * Keep the workers between epochs instead of starting them each epoch (they hold the
   * process open only while loading). End them with loader.close(); they also end when the
   * loader is garbage-collected. Default false.
   */
  persistentWorkers?: boolean;
  /**
   * The item order of each epoch, instead of shuffle (e.g. data.DistributedSampler: this rank's
   * share). The loader's epoch is passed on: `indices(epoch)`.
   */
  sampler?: Sampler;
}

/** What DataLoader's `sampler` option takes. */
export interface Sampler {
  readonly length: number;
  indices(epoch: number): ArrayLike<number>;
}

function checkCount(v: unknown, name: string, min: number): number {
  if (!Number.isInteger(v) || (v as number) < min) throw new KilnError(`DataLoader: ${name} must be an integer >= ${min}, got ${String(v)}`);
  return v as number;
}

/**
 * Workers are ended when what holds them is collected: the iterator of an epoch dropped
 * without finishing, or a loader with persistent workers that was never closed.
 */
const abandoned = new FinalizationRegistry<{ pool?: WorkerPool }>((h) => void h.pool?.close());

let loaderCounter = 0;

/**
 * Iterates a dataset in batches. `for await (const batch of loader)` prefetches the next batch
 * on the event loop (setImmediate) while the caller works on the current one; the sync
 * `for (const batch of loader)` does not prefetch. Each iteration is one epoch; the shuffle
 * order of epoch e is fixed by (seed, e); `setEpoch` sets the next epoch number.
 */
export class DataLoader<B = Tensor[]> implements AsyncIterable<B>, Iterable<B> {
  readonly dataset: Dataset<any>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly seed: number;
  readonly prefetch: boolean;
  readonly sampler: Sampler | null;
  readonly numWorkers: number;
  readonly prefetchFactor: number;
  readonly timeout: number;
  readonly reuseBuffers: boolean;
  readonly persistentWorkers: boolean;
  private readonly collate: (items: any[]) => B;
  private spec?: WorkerSpec;
  /** Persistent workers, shared by the loader's epochs (not by the loader itself: see close()). */
  private readonly kept: { pool?: WorkerPool } = {};
  private iterating = false;
  /** Buffer reuse counters of the last worker epoch (for tests and benchmarks). */
  workerStats = { allocated: 0, reused: 0 };
  private readonly transform?: (batch: B) => B;
  /** The epoch number the next iteration uses (starts at 0, +1 per iteration begun). */
  epoch = 0;

  constructor(dataset: Dataset<any>, opts: DataLoaderOptions<B> = {}) {
    checkOptions(opts, ['batchSize', 'shuffle', 'dropLast', 'seed', 'collate', 'transform', 'prefetch', 'numWorkers',
      'prefetchFactor', 'timeout', 'reuseBuffers', 'persistentWorkers', 'sampler'], 'DataLoader');
    if (!dataset || typeof dataset.get !== 'function' || typeof dataset.length !== 'number') {
      throw new KilnError('DataLoader: expected a Dataset (with length and get(i))');
    }
    const bs = opts.batchSize ?? 1;
    if (!Number.isInteger(bs) || bs < 1) throw new KilnError(`DataLoader: batchSize must be a positive integer, got ${String(bs)}`);
    if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0)) {
      throw new KilnError(`DataLoader: seed must be a non-negative integer, got ${String(opts.seed)}`);
    }
    const sampler = opts.sampler ?? null;
    if (sampler !== null && (typeof sampler.indices !== 'function' || !Number.isInteger(sampler.length))) {
      throw new KilnError('DataLoader: sampler must have a length and indices(epoch)');
    }
    if (sampler !== null && opts.shuffle) throw new KilnError('DataLoader: sampler and shuffle exclude each other (the sampler orders the items)');
    this.sampler = sampler;
    this.dataset = dataset;
    this.batchSize = bs;
    this.shuffle = opts.shuffle ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.seed = opts.seed ?? loaderCounter++;
    this.prefetch = opts.prefetch ?? true;
    this.collate = opts.collate ?? (defaultCollate as (items: any[]) => B);
    this.transform = opts.transform;
    this.numWorkers = checkCount(opts.numWorkers ?? 0, 'numWorkers', 0);
    this.prefetchFactor = checkCount(opts.prefetchFactor ?? 2, 'prefetchFactor', 1);
    const timeout = opts.timeout ?? 0;
    if (!(typeof timeout === 'number' && timeout >= 0 && timeout < Infinity)) throw new KilnError(`DataLoader: timeout must be a finite number of milliseconds >= 0, got ${String(timeout)}`);
    this.timeout = timeout;
    this.reuseBuffers = opts.reuseBuffers ?? true;
    this.persistentWorkers = opts.persistentWorkers ?? false;
    if (this.persistentWorkers) abandoned.register(this, this.kept);
    if (this.numWorkers > 0) {
      if (typeof dataset.workerSpec !== 'function') {
        throw new KilnError(
          `DataLoader: numWorkers ${this.numWorkers} needs a dataset a worker can rebuild (TensorDataset, ArrayDataset, a Subset of these, ` +
            `or one with workerSpec() naming its module and export); ${dataset.constructor?.name ?? 'this dataset'} has no workerSpec()`,
        );
      }
      if (opts.collate) throw new KilnError('DataLoader: collate cannot run in workers (a function cannot be sent to a thread); workers use the default collation, and `transform` runs on each batch in this thread');
    }
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.sampler?.length ?? this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Set the epoch number the next iteration uses (and so its shuffle order). */
  setEpoch(epoch: number): void {
    if (!Number.isInteger(epoch) || epoch < 0) throw new KilnError(`setEpoch: expected a non-negative integer, got ${epoch}`);
    this.epoch = epoch;
  }

  /** Item order of an epoch. */
  order(epoch: number): Int32Array {
    if (this.sampler) return Int32Array.from(this.sampler.indices(epoch));
    const n = this.dataset.length;
    if (this.shuffle) return seededPermutation(n, this.seed, epoch);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return p;
  }

  /** The item indices of each batch of an epoch. */
  batches(epoch: number): Int32Array[] {
    const order = this.order(epoch);
    const out: Int32Array[] = [];
    for (let b = 0; b < this.length; b++) out.push(order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize)));
    return out;
  }

  /** Build one batch from item indices (in this thread), for epoch `epoch`. */
  fetch(indices: ArrayLike<number>, epoch = 0): B {
    const ds = this.dataset;
    let batch: B;
    if (ds.getBatch) {
      batch = ds.getBatch(indices) as B;
    } else {
      batch = scope(() => {
        const items: unknown[] = [];
        for (let k = 0; k < indices.length; k++) items.push(ds.get(indices[k], itemContext(this.seed, epoch, indices[k])));
        return this.collate(items);
      });
    }
    return this.applyTransform(batch);
  }

  private applyTransform(batch: B): B {
    if (this.transform) {
      const out = this.transform(batch);
      if (out !== batch) {
        // Free what the transform replaced (tensors it passed through are kept).
        const kept = new Set<unknown>();
        const walk = (v: unknown) => {
          if (v instanceof Tensor) kept.add(v);
          else if (Array.isArray(v)) v.forEach(walk);
          else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
        };
        walk(out);
        const drop = (v: unknown) => {
          if (v instanceof Tensor) { if (!kept.has(v) && !v.isDisposed) v.dispose(); }
          else if (Array.isArray(v)) v.forEach(drop);
          else if (v !== null && typeof v === 'object') Object.values(v).forEach(drop);
        };
        drop(batch);
      }
      batch = out;
    }
    return batch;
  }

  *[Symbol.iterator](): Iterator<B> {
    if (this.numWorkers > 0) throw new KilnError('DataLoader: numWorkers > 0 needs async iteration (for await ... of loader)');
    const epoch = this.epoch++;
    const batches = this.batches(epoch);
    for (const idx of batches) yield this.fetch(idx, epoch);
  }

  /**
   * Batches are built in the async context where iteration starts (where the `for await`
   * loop is), so a kiln.scope around the loop owns them, and a scope inside the loop body
   * never frees a batch the loader prepared ahead.
   */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    const ctx = new AsyncResource('kiln.DataLoader');
    const epoch = this.epoch++;
    const inCtx = <R>(fn: () => R): R => ctx.runInAsyncScope(fn);
    if (this.numWorkers === 0) return this.iterate(this.batches(epoch), epoch, inCtx);
    const holder: { pool?: WorkerPool } = {};
    const it = this.iterateWorkers(this.batches(epoch), epoch, inCtx, holder);
    abandoned.register(it, holder);
    return it;
  }

  /**
   * Workers build batches k, k+1, ... up to numWorkers * prefetchFactor ahead; this thread
   * turns each into tensors when it is its turn (so a batch dropped by an early break never
   * becomes tensors), hands its buffers back, and yields it. Leaving the loop ends the workers.
   */
  private async *iterateWorkers(batches: Int32Array[], epoch: number, inCtx: <R>(fn: () => R) => R, holder: { pool?: WorkerPool }): AsyncGenerator<B> {
    if (batches.length === 0) return;
    if (this.iterating && this.persistentWorkers) throw new KilnError('DataLoader: with persistentWorkers, one epoch at a time (finish or leave the other loop first)');
    this.iterating = true;
    let pool: WorkerPool;
    try {
      this.spec ??= this.dataset.workerSpec!();
      const kept = this.persistentWorkers && this.kept.pool?.usable ? this.kept.pool : undefined;
      pool = kept ?? (await WorkerPool.start(this.spec, { numWorkers: this.numWorkers, seed: this.seed, timeout: this.timeout, length: this.dataset.length }));
    } catch (e) {
      this.iterating = false;
      throw e;
    }
    if (this.persistentWorkers) this.kept.pool = pool;
    else holder.pool = pool;
    try {
      const depth = this.numWorkers * this.prefetchFactor;
      const pending: Promise<unknown>[] = [];
      let next = 0;
      for (let k = 0; k < batches.length; k++) {
        while (next < batches.length && next < k + depth) {
          pending[next] = pool.request(next, epoch, batches[next]);
          next++;
        }
        const host = await pool.wait(k, pending[k]);
        delete pending[k];
        const batch = inCtx(() => this.applyTransform(batchTensors(host) as B));
        if (this.reuseBuffers) pool.giveBack(k, leafBuffers(host));
        this.workerStats = pool.stats();
        yield batch;
      }
    } finally {
      this.iterating = false;
      if (this.persistentWorkers && pool.usable) pool.abandon();
      else await pool.close();
    }
  }

  /** The worker threads this loader holds (persistentWorkers), for tests. */
  get workerThreadIds(): number[] {
    return this.kept.pool?.usable ? this.kept.pool.threadIds() : [];
  }

  /** End persistent workers (the next epoch starts new ones). Nothing to do otherwise. */
  async close(): Promise<void> {
    const pool = this.kept.pool;
    this.kept.pool = undefined;
    await pool?.close();
  }

  private async *iterate(batches: Int32Array[], epoch: number, inCtx: <R>(fn: () => R) => R): AsyncGenerator<B> {
    if (!this.prefetch) {
      for (const idx of batches) {
        await new Promise<void>((r) => setImmediate(r));
        yield inCtx(() => this.fetch(idx, epoch));
      }
      return;
    }
    const later = (k: number): Promise<B> => {
      const p = new Promise<B>((resolve, reject) => {
        setImmediate(() => {
          try {
            resolve(inCtx(() => this.fetch(batches[k], epoch)));
          } catch (e) {
            reject(e);
          }
        });
      });
      p.catch(() => undefined); // reported when awaited, never as an unhandled rejection
      return p;
    };
    let pending: Promise<B> | undefined = batches.length > 0 ? later(0) : undefined;
    let k = 0;
    try {
      while (pending) {
        const cur: B = await pending;
        pending = undefined;
        k++;
        if (k < batches.length) pending = later(k);
        yield cur;
      }
    } finally {
      // Stopped early: free the batch prepared ahead.
      if (pending) {
        const b = await pending.catch(() => undefined);
        if (b !== undefined) disposeBatch(b);
      }
    }
  }
}
