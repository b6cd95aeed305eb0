/**
 * What kiln.fit does differently when the model is a DistributedDataParallel: each rank trains
 * on its share of a Dataset (a DistributedSampler; a DataLoader is used as given), gradients are
 * averaged after each backward (a no-op where DDP already did it during backward), the epoch's
 * metrics are summed over the ranks, and only rank 0 prints, writes the report and checkpoints,
 * while the others wait at a barrier so that no rank runs ahead of a checkpoint.
 */
import { tensor } from '../creation.js';
import { DataLoader, type Dataset } from '../data/dataset.js';
import type { Module } from '../nn/module.js';
import { EpochMeter } from '../train/metrics.js';
import { allReduce, barrier } from './collectives.js';
import { DistributedDataParallel } from './ddp.js';
import { DistributedSampler } from './sampler.js';

export interface FitDistributed {
  rank: number;
  size: number;
  /** Rank 0: prints, reports, checkpoints. */
  isMain: boolean;
  afterBackward(): void;
  shard(data: Dataset<any>, batchSize: number, shuffle: boolean): DataLoader;
  /** The meter of all ranks together. */
  reduce(meter: EpochMeter): Promise<EpochMeter>;
  barrier(): Promise<void>;
}

export function fitDistributed(model: Module): FitDistributed | null {
  if (!(model instanceof DistributedDataParallel)) return null;
  const group = model.processGroup;
  return {
    rank: group.rank,
    size: group.size,
    isMain: group.rank === 0,
    afterBackward: () => model.syncGradients(),
    shard: (data, batchSize, shuffle) => new DataLoader(data, {
      batchSize, sampler: new DistributedSampler(data, { numReplicas: group.size, rank: group.rank, shuffle }),
    }),
    async reduce(meter) {
      // float64 totals would be exact; float32 is within 1e-7 of them for any realistic epoch
      const t = tensor(meter.totals());
      try {
        await allReduce(t, { group });
        return EpochMeter.fromTotals(t.toTypedArray());
      } finally {
        t.dispose();
      }
    },
    barrier: () => barrier({ group }),
  };
}
