/**
 * DeviceMesh: ranks laid out on a grid, with a process group along each dimension, for hybrid
 * layouts (as torch.distributed.device_mesh.init_device_mesh). Ranks fill the grid in row-major
 * order. `initDeviceMesh([2, 2], { dimNames: ['dp', 'pp'] })` on 4 ranks: ranks 0, 1 are data
 * replica 0's two pipeline stages and 2, 3 replica 1's; getGroup('pp') is this rank's pipeline
 * ({0, 1} or {2, 3}), getGroup('dp') the ranks holding the same stage ({0, 2} or {1, 3}).
 */
import { check } from '../errors.js';
import { type ProcessGroup, getRank, getWorldSize, newGroup } from './group.js';

export interface DeviceMeshOptions {
  dimNames?: string[];
  timeoutMs?: number;
}

export class DeviceMesh {
  /** @internal */
  constructor(
    readonly shape: readonly number[],
    readonly dimNames: readonly string[],
    /** This rank's coordinate along each dimension. */
    readonly coordinate: readonly number[],
    private readonly groups: ProcessGroup[],
  ) {}

  private dim(d: number | string): number {
    const i = typeof d === 'string' ? this.dimNames.indexOf(d) : d;
    check(Number.isInteger(i) && i >= 0 && i < this.shape.length,
      () => `dim: expected one of ${this.dimNames.map((n) => `'${n}'`).join(', ')} or an index below ${this.shape.length}, got ${String(d)}`);
    return i;
  }
  /** The group of the ranks that differ from this one along `dim` only. */
  getGroup(dim: number | string): ProcessGroup {
    return this.groups[this.dim(dim)];
  }
  /** This rank's index along `dim` (its rank in getGroup(dim)). */
  getLocalRank(dim: number | string): number {
    return this.coordinate[this.dim(dim)];
  }
}

export async function initDeviceMesh(shape: number[], options: DeviceMeshOptions = {}): Promise<DeviceMesh> {
  check(Array.isArray(shape) && shape.length > 0 && shape.every((d) => Number.isInteger(d) && d > 0),
    'shape: expected an array of positive integers');
  const world = getWorldSize();
  const total = shape.reduce((a, b) => a * b, 1);
  check(total === world, () => `shape: [${shape.join(', ')}] holds ${total} ranks, but the job has ${world}`);
  const names = options.dimNames ?? shape.map((_, i) => `dim${i}`);
  check(Array.isArray(names) && names.length === shape.length && new Set(names).size === names.length,
    () => `dimNames: expected ${shape.length} distinct names`);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const rank = getRank();
  const coordinate = shape.map((d, i) => Math.floor(rank / strides[i]) % d);
  const mine: ProcessGroup[] = [];
  // every rank creates every group, in the same order (newGroup's rule)
  for (let d = 0; d < shape.length; d++) {
    for (let base = 0; base < total; base++) {
      if (Math.floor(base / strides[d]) % shape[d] !== 0) continue; // one group per line along d
      const ranks = Array.from({ length: shape[d] }, (_, k) => base + k * strides[d]);
      const g = await newGroup(ranks, { timeoutMs: options.timeoutMs });
      if (g.isMember) mine[d] = g;
    }
  }
  return new DeviceMesh(shape, names, coordinate, mine);
}
