/**
 * DistributedSampler, as torch.utils.data.DistributedSampler: each of `numReplicas` ranks gets
 * its own share of a dataset's indices, every epoch. With shuffle, all ranks draw the same
 * permutation of (seed, epoch) and rank r takes every numReplicas-th index from r on; without
 * dropLast the permutation is padded with its own first indices to a multiple of numReplicas
 * (so every rank has the same number of samples), with dropLast the tail is dropped instead.
 *
 *   const sampler = new data.DistributedSampler(ds, { shuffle: true, seed: 0 });
 *   const loader = new data.DataLoader(ds, { batchSize: 32, sampler });
 *
 * Given to a DataLoader, the loader's epoch picks the permutation (fit sets it each epoch; a
 * loop's iterations count it up), so no setEpoch call is needed; setEpoch sets the epoch for
 * iterating the sampler itself, as in PyTorch.
 */
import { check } from '../errors.js';
import { type Dataset, seededPermutation } from '../data/dataset.js';
import { currentWorld } from './current.js';

export interface DistributedSamplerOptions {
  /** Default: the world size of the default process group. */
  numReplicas?: number;
  /** Default: this process's rank. */
  rank?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Default 0; every rank must use the same. */
  seed?: number;
  /** Drop the tail that does not divide evenly instead of padding. Default false. */
  dropLast?: boolean;
}

export class DistributedSampler implements Iterable<number> {
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Samples this rank gets per epoch. */
  readonly length: number;
  /** The epoch used when the sampler is iterated directly. */
  epoch = 0;
  private readonly size: number;

  constructor(dataset: Dataset<any> | { length: number }, options: DistributedSamplerOptions = {}) {
    check(dataset !== null && typeof dataset === 'object' && Number.isInteger(dataset.length) && dataset.length >= 0,
      'dataset: expected a Dataset (with a length)');
    const world = currentWorld();
    check(world !== null || (options.numReplicas !== undefined && options.rank !== undefined),
      'DistributedSampler: pass numReplicas and rank, or initialize the process group first');
    this.numReplicas = options.numReplicas ?? world!.size;
    this.rank = options.rank ?? world!.rank;
    check(Number.isInteger(this.numReplicas) && this.numReplicas >= 1, () => `numReplicas: expected a positive integer, got ${String(this.numReplicas)}`);
    check(Number.isInteger(this.rank) && this.rank >= 0 && this.rank < this.numReplicas,
      () => `rank: expected an integer in [0, ${this.numReplicas}), got ${String(this.rank)}`);
    this.shuffle = options.shuffle ?? true;
    this.seed = options.seed ?? 0;
    check(Number.isInteger(this.seed) && this.seed >= 0, () => `seed: expected a non-negative integer, got ${String(this.seed)}`);
    this.dropLast = options.dropLast ?? false;
    this.size = dataset.length;
    this.length = this.dropLast && this.size % this.numReplicas !== 0
      ? Math.floor(this.size / this.numReplicas)
      : Math.ceil(this.size / this.numReplicas);
  }

  setEpoch(epoch: number): void {
    check(Number.isInteger(epoch) && epoch >= 0, () => `setEpoch: expected a non-negative integer, got ${String(epoch)}`);
    this.epoch = epoch;
  }

  /** This rank's indices for an epoch (default: the sampler's own epoch). */
  indices(epoch = this.epoch): Int32Array {
    const n = this.size;
    const order = this.shuffle ? seededPermutation(n, this.seed, epoch) : Int32Array.from({ length: n }, (_, i) => i);
    const out = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++) {
      const i = this.rank + k * this.numReplicas; // position in the padded (or cut) order
      out[k] = order[i < n ? i : (i - n) % Math.max(n, 1)];
    }
    return out;
  }

  [Symbol.iterator](): Iterator<number> {
    return this.indices()[Symbol.iterator]();
  }
}
