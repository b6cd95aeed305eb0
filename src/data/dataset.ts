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
import { AsyncResource } from 'node:async_hooks';
import { KilnError } from '../errors.js';
import { tensor } from '../creation.js';
import { Tensor } from '../tensor.js';
import { scope } from '../memory.js';
import { noGrad } from '../autograd/engine.js';
import { stack } from '../ops/shape.js';

/** A map-style dataset: `length` items, item i from `get(i)`. */
export abstract class Dataset<T = Tensor[]> {
  abstract get length(): number;
  abstract get(i: number): T;
  /**
   * Optional fast path: the whole batch for these item indices at once, already collated
   * (the DataLoader uses it instead of get() + collate when present).
   */
  getBatch?(indices: ArrayLike<number>): T;
}

function checkIndex(i: number, n: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new KilnError(`${what}: index ${i} out of range for length ${n}`);
}

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

/** The items of `dataset` at `indices`, in that order. */
export class Subset<T> extends Dataset<T> {
  readonly dataset: Dataset<T>;
  readonly indices: Int32Array;

  constructor(dataset: Dataset<T>, indices: ArrayLike<number>) {
    super();
    this.dataset = dataset;
    this.indices = Int32Array.from(indices);
    const n = dataset.length;
    for (const i of this.indices) checkIndex(i, n, 'Subset');
    if (dataset.getBatch) {
      const base = dataset.getBatch.bind(dataset);
      this.getBatch = (idx: ArrayLike<number>) => {
        const mapped = new Int32Array(idx.length);
        for (let k = 0; k < idx.length; k++) {
          checkIndex(idx[k], this.indices.length, 'Subset.getBatch');
          mapped[k] = this.indices[idx[k]];
        }
        return base(mapped);
      };
    }
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T {
    checkIndex(i, this.indices.length, 'Subset.get');
    return this.dataset.get(this.indices[i]);
  }
}

// ---- seeded shuffling (independent of the tensor RNG) -------------------------------------

/** A 32-bit mix (the murmur3 finalizer). */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFrom(seed: number, stream: number): number {
  // Combine both halves of a (possibly large) integer seed with the stream number.
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  return mix32(mix32(lo ^ 0x9e3779b9) ^ mix32(hi + 0x7f4a7c15) ^ mix32(stream + 0x1b873593));
}

/** A permutation of 0..n-1 (Fisher-Yates) determined by (seed, stream). */
export function seededPermutation(n: number, seed: number, stream = 0): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const rnd = mulberry32(seedFrom(seed, stream));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
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
 * tensor (int32 when all are integers, else float32); arrays and plain objects are collated
 * position by position / key by key.
 */
export function defaultCollate(items: unknown[]): any {
  if (items.length === 0) throw new KilnError('collate: empty batch');
  const first = items[0];
  if (first instanceof Tensor) {
    if (!items.every((x) => x instanceof Tensor)) throw new KilnError('collate: a batch mixes tensors and other values');
    return noGrad(() => stack(items as Tensor[], 0));
  }
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
  private readonly collate: (items: any[]) => B;
  private readonly transform?: (batch: B) => B;
  /** The epoch number the next iteration uses (starts at 0, +1 per iteration begun). */
  epoch = 0;

  constructor(dataset: Dataset<any>, opts: DataLoaderOptions<B> = {}) {
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

  /** Build one batch from item indices. */
  fetch(indices: ArrayLike<number>): B {
    const ds = this.dataset;
    let batch: B;
    if (ds.getBatch) {
      batch = ds.getBatch(indices) as B;
    } else {
      batch = scope(() => {
        const items: unknown[] = [];
        for (let k = 0; k < indices.length; k++) items.push(ds.get(indices[k]));
        return this.collate(items);
      });
    }
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
    const batches = this.batches(this.epoch++);
    for (const idx of batches) yield this.fetch(idx);
  }

  /**
   * Batches are built in the async context where iteration starts (where the `for await`
   * loop is), so a kiln.scope around the loop owns them, and a scope inside the loop body
   * never frees a batch the loader prepared ahead.
   */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    const ctx = new AsyncResource('kiln.DataLoader');
    return this.iterate(this.batches(this.epoch++), (fn) => ctx.runInAsyncScope(fn));
  }

  private async *iterate(batches: Int32Array[], inCtx: <R>(fn: () => R) => R): AsyncGenerator<B> {
    if (!this.prefetch) {
      for (const idx of batches) {
        await new Promise<void>((r) => setImmediate(r));
        yield inCtx(() => this.fetch(idx));
      }
      return;
    }
    const later = (k: number): Promise<B> => {
      const p = new Promise<B>((resolve, reject) => {
        setImmediate(() => {
          try {
            resolve(inCtx(() => this.fetch(batches[k])));
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
