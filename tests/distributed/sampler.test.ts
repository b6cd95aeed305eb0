// DistributedSampler: each rank's share of the indices against the definition (a permutation of
// (seed, epoch), padded or cut to a multiple of the ranks, every numReplicas-th from the rank
// on), and through a DataLoader.
import { describe, expect, it } from 'vitest';

import * as kiln from '../../src/index.js';

const { DistributedSampler, DataLoader, TensorDataset, seededPermutation } = kiln.data;
const ds = (n: number) => ({ length: n });

describe('DistributedSampler', () => {
  it('without shuffle: rank r takes r, r + R, ...; the tail is padded from the start', () => {
    const shares = [0, 1, 2].map((rank) => Array.from(new DistributedSampler(ds(10), { numReplicas: 3, rank, shuffle: false })));
    expect(shares).toEqual([[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]);
  });

  it('with dropLast the tail is cut instead', () => {
    const shares = [0, 1, 2].map((rank) => Array.from(new DistributedSampler(ds(10), { numReplicas: 3, rank, shuffle: false, dropLast: true })));
    expect(shares).toEqual([[0, 3, 6], [1, 4, 7], [2, 5, 8]]);
    expect(new DistributedSampler(ds(10), { numReplicas: 3, rank: 0, dropLast: true }).length).toBe(3);
  });

  it('with shuffle: the same permutation of (seed, epoch) on every rank, split among them', () => {
    for (const epoch of [0, 1, 5]) {
      const perm = Array.from(seededPermutation(11, 7, epoch));
      const padded = [...perm, perm[0]];
      const shares = [0, 1, 2, 3].map((rank) => {
        const s = new DistributedSampler(ds(11), { numReplicas: 4, rank, seed: 7 });
        s.setEpoch(epoch);
        return Array.from(s);
      });
      shares.forEach((share, rank) => expect(share).toEqual(padded.filter((_, i) => i % 4 === rank)));
      expect(new Set(shares.flat()).size).toBe(11); // every index is seen
    }
    const a = new DistributedSampler(ds(50), { numReplicas: 2, rank: 0 });
    const e0 = Array.from(a.indices(0));
    expect(Array.from(a.indices(1))).not.toEqual(e0);
  });

  it('drives a DataLoader: the loader\'s epoch picks the permutation', async () => {
    const x = kiln.arange(0, 20).reshape([20, 1]);
    const data = new TensorDataset(x);
    const sampler = new DistributedSampler(data, { numReplicas: 2, rank: 1, seed: 3 });
    const loader = new DataLoader(data, { batchSize: 4, sampler });
    expect(loader.length).toBe(3); // 10 samples in batches of 4
    loader.setEpoch(2);
    const seen: number[] = [];
    for await (const [b] of loader) seen.push(...Array.from(b.toTypedArray()));
    expect(seen).toEqual(Array.from(sampler.indices(2)));
    expect(() => new DataLoader(data, { sampler, shuffle: true })).toThrow(/sampler and shuffle exclude each other/);
    x.dispose();
  });

  it('bad options are KilnErrors', () => {
    expect(() => new DistributedSampler(ds(4))).toThrow(/pass numReplicas and rank, or initialize the process group/);
    expect(() => new DistributedSampler(ds(4), { numReplicas: 2, rank: 2 })).toThrow(/rank: expected an integer in \[0, 2\)/);
    expect(() => new DistributedSampler(ds(4), { numReplicas: 0, rank: 0 })).toThrow(/numReplicas: expected a positive integer/);
    expect(() => new DistributedSampler(null as any, { numReplicas: 1, rank: 0 })).toThrow(/dataset: expected a Dataset/);
    expect(() => new DistributedSampler(ds(4), { numReplicas: 1, rank: 0 }).setEpoch(-1)).toThrow(/setEpoch/);
  });
});
