/**
 * Seeded randomness for data loading, independent of the tensor RNG and of the thread that
 * loads: shuffles are fixed by (seed, epoch), an item's augmentation by (seed, epoch, index).
 * No tensor dependency (DataLoader workers import it).
 */

/** A 32-bit mix (the murmur3 finalizer). */
export function mix32(h: number): number {
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

export function seedFrom(seed: number, stream: number): number {
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

/** What a DataLoader passes to `get(i, ctx)`: the epoch, and randomness fixed for this item. */
export interface ItemContext {
  /** The item index the loader asked for. */
  readonly index: number;
  readonly epoch: number;
  /** Floats in [0, 1), a stream fixed by (loader seed, epoch, index): the same in any thread. */
  random(): number;
}

/** The context of item `index` in `epoch` of a loader seeded with `seed`. */
export function itemContext(seed: number, epoch: number, index: number): ItemContext {
  let rnd: (() => number) | undefined;
  return {
    index,
    epoch,
    random: () => (rnd ??= mulberry32(mix32(seedFrom(seed, epoch) ^ mix32(index + 0x632be5ab))))(),
  };
}
