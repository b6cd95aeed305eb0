/**
 * Language-modelling windows over a token sequence: item i is (x, y) with x = tokens[s, s + T)
 * and y = tokens[s + 1, s + T + 1), s = i * stride. getBatch stacks items into [B, T] int32
 * tensors in one copy each (the DataLoader's fast path).
 */
import { KilnError } from '../../errors.js';
import { tensor } from '../../creation.js';
import type { Tensor } from '../../tensor.js';
import { Dataset, checkIndex } from '../dataset-base.js';

export class TokenWindowDataset extends Dataset<Tensor[]> {
  readonly tokens: Int32Array;
  readonly stride: number;

  constructor(tokens: ArrayLike<number>, readonly blockSize: number, opts: { stride?: number } = {}) {
    super();
    if (opts === null || typeof opts !== 'object') throw new KilnError('TokenWindowDataset: expected an options object');
    const unknown = Object.keys(opts).filter((k) => k !== 'stride');
    if (unknown.length) throw new KilnError(`TokenWindowDataset: unknown option '${unknown[0]}' (known: stride)`);
    if (!Number.isInteger(blockSize) || blockSize < 1) throw new KilnError(`blockSize: expected a positive integer, got ${String(blockSize)}`);
    this.stride = opts.stride ?? blockSize;
    if (!Number.isInteger(this.stride) || this.stride < 1) throw new KilnError(`stride: expected a positive integer, got ${String(this.stride)}`);
    this.tokens = tokens instanceof Int32Array ? tokens : Int32Array.from(tokens);
    if (this.tokens.length < blockSize + 1) {
      throw new KilnError(`tokens: ${this.tokens.length} tokens cannot fill one window of ${blockSize} plus its next token`);
    }
  }

  get length(): number {
    return Math.floor((this.tokens.length - this.blockSize - 1) / this.stride) + 1;
  }

  /** The window starting at token offset s (any s with s + blockSize < tokens.length). */
  windowAt(s: number): [Int32Array, Int32Array] {
    if (!Number.isInteger(s) || s < 0 || s + this.blockSize >= this.tokens.length) {
      throw new KilnError(`offset: ${s} is out of range [0, ${this.tokens.length - this.blockSize - 1}]`);
    }
    return [this.tokens.subarray(s, s + this.blockSize), this.tokens.subarray(s + 1, s + this.blockSize + 1)];
  }

  get(i: number): Tensor[] {
    checkIndex(i, this.length, 'TokenWindowDataset.get');
    const [x, y] = this.windowAt(i * this.stride);
    return [tensor(x, { dtype: 'int32' }), tensor(y, { dtype: 'int32' })];
  }

  override getBatch(indices: ArrayLike<number>): Tensor[] {
    for (let k = 0; k < indices.length; k++) checkIndex(indices[k], this.length, 'TokenWindowDataset.getBatch');
    return this.batchAt(Array.from(indices, (i) => i * this.stride));
  }

  /** [x, y] of shape [B, blockSize] for windows starting at the given token offsets. */
  batchAt(offsets: ArrayLike<number>): Tensor[] {
    const T = this.blockSize;
    const xs = new Int32Array(offsets.length * T);
    const ys = new Int32Array(offsets.length * T);
    for (let k = 0; k < offsets.length; k++) {
      const [x, y] = this.windowAt(offsets[k]);
      xs.set(x, k * T);
      ys.set(y, k * T);
    }
    return [tensor(xs, { dtype: 'int32', shape: [offsets.length, T] }), tensor(ys, { dtype: 'int32', shape: [offsets.length, T] })];
  }
}
