/**
 * The Dataset interface and Subset: no tensor dependency, so DataLoader workers rebuild them.
 */
import { KilnError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { ItemContext } from './seeded.js';
import type { WorkerSpec } from './worker-spec.js';

/**
 * A map-style dataset: `length` items, item i from `get(i, ctx)`. `ctx` (given by a
 * DataLoader) carries the epoch and randomness fixed by (loader seed, epoch, i), so random
 * augmentation repeats exactly and does not depend on which thread loads the item.
 */
export abstract class Dataset<T = Tensor[]> {
  abstract get length(): number;
  abstract get(i: number, ctx?: ItemContext): T;
  /**
   * Optional fast path: the whole batch for these item indices at once, already collated
   * (the DataLoader uses it instead of get() + collate when present, in its own thread).
   */
  getBatch?(indices: ArrayLike<number>): T;
  /**
   * Optional: how a DataLoader worker rebuilds this dataset (see worker-spec.ts). Kiln's
   * TensorDataset, ArrayDataset and Subset have it; a user dataset returns
   * `{ module, export, args }` naming where its class or factory lives.
   */
  workerSpec?(): WorkerSpec;
}

export function checkIndex(i: number, n: number, what: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new KilnError(`${what}: index ${i} out of range for length ${n}`);
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
    if (!dataset.workerSpec) this.workerSpec = undefined;
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number, ctx?: ItemContext): T {
    checkIndex(i, this.indices.length, 'Subset.get');
    return this.dataset.get(this.indices[i], ctx);
  }

  override workerSpec?(): WorkerSpec {
    const inner = this.dataset.workerSpec!();
    const shared = new Int32Array(new SharedArrayBuffer(this.indices.byteLength));
    shared.set(this.indices);
    return { kiln: 'subset', indices: shared, dataset: inner };
  }
}
