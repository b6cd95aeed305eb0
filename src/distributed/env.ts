/**
 * Where a rank learns its place in the job: torchrun's environment (RANK, WORLD_SIZE,
 * LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT; `kiln launch` sets the same) or
 * OpenMPI's (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK, _LOCAL_SIZE, under mpirun). Explicit
 * options win over both.
 */
import { KilnError } from '../errors.js';

export interface RankEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
  /** Where the values came from, for messages. */
  source: 'options' | 'torchrun' | 'mpirun' | 'single';
}

export interface RankEnvOptions {
  rank?: number;
  worldSize?: number;
  masterAddr?: string;
  masterPort?: number;
}

/** torchrun's defaults when MASTER_ADDR / MASTER_PORT are absent (a one-machine job). */
export const DEFAULT_MASTER_ADDR = '127.0.0.1';
export const DEFAULT_MASTER_PORT = 29500;

function intFrom(value: string | number | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new KilnError(`${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return n;
}

export function readRankEnv(opts: RankEnvOptions = {}, env: NodeJS.ProcessEnv = process.env): RankEnv {
  const torchrun = env.RANK !== undefined || env.WORLD_SIZE !== undefined;
  const mpirun = env.OMPI_COMM_WORLD_RANK !== undefined;
  const pick = (opt: number | undefined, optName: string, t: string, m: string) =>
    intFrom(opt, optName, 0) ?? (torchrun ? intFrom(env[t], t, 0) : undefined) ?? (mpirun ? intFrom(env[m], m, 0) : undefined);
  const rank = pick(opts.rank, 'rank', 'RANK', 'OMPI_COMM_WORLD_RANK') ?? 0;
  const worldSize = pick(opts.worldSize, 'worldSize', 'WORLD_SIZE', 'OMPI_COMM_WORLD_SIZE') ?? 1;
  if (worldSize < 1) throw new KilnError(`worldSize: expected at least 1, got ${worldSize}`);
  if (rank >= worldSize) {
    throw new KilnError(`rank: expected a rank below the world size ${worldSize}, got ${rank}` +
      (torchrun ? ' (check RANK and WORLD_SIZE)' : ''));
  }
  const localRank = (torchrun ? intFrom(env.LOCAL_RANK, 'LOCAL_RANK', 0) : undefined) ??
    (mpirun ? intFrom(env.OMPI_COMM_WORLD_LOCAL_RANK, 'OMPI_COMM_WORLD_LOCAL_RANK', 0) : undefined) ?? rank;
  const localWorldSize = (torchrun ? intFrom(env.LOCAL_WORLD_SIZE, 'LOCAL_WORLD_SIZE', 1) : undefined) ??
    (mpirun ? intFrom(env.OMPI_COMM_WORLD_LOCAL_SIZE, 'OMPI_COMM_WORLD_LOCAL_SIZE', 1) : undefined) ?? worldSize;
  const masterAddr = opts.masterAddr ?? env.MASTER_ADDR ?? DEFAULT_MASTER_ADDR;
  if (typeof masterAddr !== 'string' || masterAddr.length === 0) throw new KilnError('masterAddr: expected a host name or address');
  const masterPort = intFrom(opts.masterPort, 'masterPort', 1, 65535) ?? intFrom(env.MASTER_PORT, 'MASTER_PORT', 1, 65535) ??
    DEFAULT_MASTER_PORT;
  const source = opts.rank !== undefined || opts.worldSize !== undefined ? 'options' : torchrun ? 'torchrun' : mpirun ? 'mpirun' : 'single';
  return { rank, worldSize, localRank, localWorldSize, masterAddr, masterPort, source };
}
