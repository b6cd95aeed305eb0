/** Samplers and pruners rebuilt from their specs in worker processes (a closure cannot be sent). */
import { KilnError } from '../errors.js';
import { HyperbandPruner } from './pruners/hyperband.js';
import { MedianPruner, PercentilePruner } from './pruners/median.js';
import { NopPruner, type Pruner, type PrunerSpec } from './pruners/pruner.js';
import { SuccessiveHalvingPruner } from './pruners/successive-halving.js';
import { GPSampler } from './samplers/gp/sampler.js';
import { GridSampler, type GridSearchSpace } from './samplers/grid.js';
import { RandomSampler } from './samplers/random.js';
import type { Sampler, SamplerSpec } from './samplers/sampler.js';
import { TPESampler } from './samplers/tpe/sampler.js';

/** Worker `rank` gets seed + rank * 7919 so seeded workers do not draw the same points. */
export function samplerFromSpec(spec: SamplerSpec, rank: number): Sampler {
  const o = { ...spec.options };
  if (typeof o.seed === 'number') o.seed = (o.seed + rank * 7919) % 2 ** 32;
  switch (spec.kind) {
    case 'RandomSampler': return new RandomSampler(o);
    case 'TPESampler': return new TPESampler(o);
    case 'GPSampler': return new GPSampler(o);
    case 'GridSampler': return new GridSampler(o.searchSpace as GridSearchSpace, { seed: o.seed as number | undefined });
    default: throw new KilnError(`worker: unknown sampler kind '${spec.kind}'`);
  }
}

export function prunerFromSpec(spec: PrunerSpec): Pruner {
  const o = spec.options as Record<string, never>;
  switch (spec.kind) {
    case 'NopPruner': return new NopPruner();
    case 'MedianPruner': return new MedianPruner(o);
    case 'PercentilePruner': return new PercentilePruner((spec.options as { percentile: number }).percentile, o);
    case 'SuccessiveHalvingPruner': return new SuccessiveHalvingPruner(o);
    case 'HyperbandPruner': return new HyperbandPruner(o);
    default: throw new KilnError(`worker: unknown pruner kind '${spec.kind}'`);
  }
}
