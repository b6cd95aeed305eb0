/**
 * Process groups, as torch.distributed: `initProcessGroup` makes the default group of every rank
 * of the job (reading torchrun's or OpenMPI's environment), `newGroup(ranks)` makes sub-groups
 * (every rank calls it, in the same order, members or not), `destroyProcessGroup` ends them.
 *
 * Rendezvous: rank 0 serves a TCP key-value store at MASTER_ADDR:MASTER_PORT (native, on a thread
 * of its own); Gloo's full-mesh connect and NCCL's unique id go through it. MPI needs none: ranks
 * come from MPI itself. Every group has its own connections and its own ordered communication
 * thread (native/dist/group.cc). Every wait has the group's timeout (default 30 minutes, as
 * PyTorch): a dead or hung rank makes the others fail with a KilnError, never hang.
 */
import { hostname as osHostname } from 'node:os';
import { type Device, type DeviceLike, deviceId, parseDevice } from '../device.js';
import { KilnError, check } from '../errors.js';
import { setCurrentWorld } from './current.js';
import { type RankEnv, readRankEnv } from './env.js';
import { distAddon, glooAddon } from './native.js';

export type Backend = 'gloo' | 'mpi' | 'nccl';
const BACKENDS: readonly Backend[] = ['gloo', 'mpi', 'nccl'];

/** PyTorch's default process-group timeout. */
export const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;

export interface InitProcessGroupOptions {
  /** 'gloo' (default; CPU tensors), 'mpi' (CPU tensors, under mpirun) or 'nccl' (CUDA tensors). */
  backend?: Backend;
  /** Every rendezvous and operation of the group fails after this long (default 30 minutes). */
  timeoutMs?: number;
  /** Override the environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). */
  rank?: number;
  worldSize?: number;
  masterAddr?: string;
  masterPort?: number;
  /** Gloo: the address the other ranks reach this one at (default: 127.0.0.1 when MASTER_ADDR is a
   * loopback address, else this machine's host name; env KILN_GLOO_HOSTNAME). */
  hostname?: string;
  /** Gloo: the network interface to use instead (env GLOO_SOCKET_IFNAME, as PyTorch). */
  iface?: string;
  /** NCCL: this rank's GPU (default 'cuda:<LOCAL_RANK>'). */
  device?: DeviceLike;
}

export interface NewGroupOptions {
  timeoutMs?: number;
  backend?: Backend;
}

/** A set of ranks that run collectives together. Non-members hold one too, with rank -1. */
export class ProcessGroup {
  /** @internal */ nativeId: number;
  /** @internal set when an operation of this group failed (the group is then unusable) */ failed = false;
  private destroyed = false;

  /** @internal made by initProcessGroup and newGroup */
  constructor(
    readonly backend: Backend,
    /** The members' global ranks, in group-rank order. */
    readonly ranks: readonly number[],
    /** This process's rank in the group; -1 when it is not a member. */
    readonly rank: number,
    readonly timeoutMs: number,
    nativeId: number,
    /** NCCL: the GPU of this rank's tensors; 'cpu' for Gloo and MPI. */
    readonly device: Device,
  ) {
    this.nativeId = nativeId;
  }

  get size(): number {
    return this.ranks.length;
  }
  get isMember(): boolean {
    return this.rank >= 0;
  }
  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** @internal the group rank of a global rank (PyTorch's collectives name peers by global rank) */
  groupRankOf(global: number, name: string): number {
    check(Number.isInteger(global), () => `${name}: expected an integer rank, got ${String(global)}`);
    const r = this.ranks.indexOf(global);
    check(r >= 0, () => `${name}: rank ${global} is not a member of this group (ranks ${this.ranks.join(', ')})`);
    return r;
  }

  /** @internal the native id, after checking the group can be used */
  use(what: string): number {
    check(!this.destroyed, () => `${what}: the process group has been destroyed`);
    check(this.isMember, () => `${what}: this process (rank ${world?.rank}) is not a member of the group (ranks ${this.ranks.join(', ')})`);
    return this.nativeId;
  }

  /** @internal */
  destroy(timeoutMs: number): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.nativeId >= 0) distAddon().destroyGroup(this.nativeId, timeoutMs);
  }
}

interface World {
  backend: Backend;
  rank: number;
  size: number;
  env: RankEnv;
  timeoutMs: number;
  hostname: string;
  iface: string;
  device: Device;
  serverId: number;
  groupCount: number;
  defaultGroup: ProcessGroup;
  groups: Set<ProcessGroup>;
}

let world: World | null = null;

function requireWorld(what: string): World {
  if (world === null) throw new KilnError(`${what}: the default process group is not initialized (await distributed.initProcessGroup() first)`);
  return world;
}

/** @internal the group an operation runs on */
export function resolveGroup(group: ProcessGroup | undefined, what: string): ProcessGroup {
  if (group === undefined) return requireWorld(what).defaultGroup;
  check(group instanceof ProcessGroup, () => `group: expected a ProcessGroup in ${what}`);
  return group;
}

function checkTimeout(ms: unknown, name = 'timeoutMs'): number {
  check(Number.isInteger(ms) && (ms as number) > 0, () => `${name}: expected a positive integer number of milliseconds, got ${String(ms)}`);
  return ms as number;
}

function checkBackend(b: unknown): Backend {
  check(BACKENDS.includes(b as Backend), () => `backend: expected 'gloo', 'mpi' or 'nccl', got ${JSON.stringify(b)}`);
  return b as Backend;
}

const isLoopback = (addr: string) => addr === 'localhost' || addr.startsWith('127.') || addr === '::1';

async function connect(w: Pick<World, 'env' | 'hostname' | 'iface' | 'device'>, backend: Backend, ranks: number[],
  groupRank: number, index: number, timeoutMs: number): Promise<number> {
  const addon = distAddon();
  if (backend === 'nccl') {
    const s = addon.ncclProbe();
    if (!s.ok) throw new KilnError(`distributed: ${s.reason}`);
  }
  const [id, connected] = addon.newGroup({
    engine: backend,
    factory: backend === 'gloo' ? glooAddon().engineFactory() : undefined,
    rank: groupRank,
    size: ranks.length,
    ranks,
    prefix: `kiln/${index}/`,
    timeoutMs,
    storeHost: w.env.masterAddr,
    storePort: w.env.masterPort,
    hostname: w.hostname,
    iface: w.iface,
    cudaDevice: w.device === 'cpu' ? undefined : deviceId(w.device) - 1,
    label: `${backend} group ${index} (rank ${groupRank} of ${ranks.length})`,
  });
  try {
    await connected;
  } catch (e) {
    addon.destroyGroup(id, 1000);
    throw e;
  }
  return id;
}

/**
 * Joins this process to the job: reads its rank and the world size, meets the other ranks, and
 * makes the default group. Resolves once every rank has connected.
 */
export async function initProcessGroup(options: InitProcessGroupOptions = {}): Promise<void> {
  check(options !== null && typeof options === 'object', 'options: expected an object');
  check(world === null, 'initProcessGroup: the default process group is already initialized (destroyProcessGroup() first)');
  const backend = checkBackend(options.backend ?? 'gloo');
  const timeoutMs = checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const addon = distAddon();
  let env = readRankEnv(options);
  if (backend === 'mpi') {
    // ranks come from MPI itself; the environment only has to agree with it
    const w = await addon.mpiInit(timeoutMs);
    env = { ...env, rank: w.rank, worldSize: w.size, localRank: env.source === 'mpirun' ? env.localRank : w.rank };
  }
  const hostname = options.hostname ?? process.env.KILN_GLOO_HOSTNAME ?? (isLoopback(env.masterAddr) ? '127.0.0.1' : osHostname());
  const iface = options.iface ?? process.env.GLOO_SOCKET_IFNAME ?? '';
  const device: Device = backend === 'nccl' ? parseDevice(options.device ?? `cuda:${env.localRank}`) : 'cpu';
  check(backend !== 'nccl' || device !== 'cpu', "device: an NCCL group works on a CUDA device ('cuda:N')");
  let serverId = -1;
  if (backend !== 'mpi' && env.rank === 0) serverId = addon.storeServe(env.masterPort)[0];
  const all = Array.from({ length: env.worldSize }, (_, i) => i);
  let id: number;
  try {
    id = await connect({ env, hostname, iface, device }, backend, all, env.rank, 0, timeoutMs);
  } catch (e) {
    if (serverId >= 0) addon.storeStop(serverId);
    if (backend === 'mpi') addon.mpiFinalize(false);
    throw e;
  }
  const defaultGroup = new ProcessGroup(backend, all, env.rank, timeoutMs, id, device);
  world = {
    backend, rank: env.rank, size: env.worldSize, env, timeoutMs, hostname, iface, device, serverId, groupCount: 0,
    defaultGroup, groups: new Set([defaultGroup]),
  };
  setCurrentWorld({ rank: env.rank, size: env.worldSize });
  if (!exitHooked) {
    exitHooked = true;
    // a script that ends without destroyProcessGroup still leaves MPI and the threads cleanly
    // (briefly: an exiting process should not wait out a 30-minute timeout for a peer)
    process.on('exit', () => {
      try {
        if (world !== null) destroyWorld(Math.min(2000, world.timeoutMs));
      } catch {
        // exiting anyway; the error was the group's, already reported to whoever awaited it
      }
    });
  }
}

let exitHooked = false;

/**
 * A group of the given global ranks (all ranks when omitted). Every rank of the job must call it,
 * in the same order, including the ranks that are not members (they get a group with rank -1).
 */
export async function newGroup(ranks?: readonly number[], options: NewGroupOptions = {}): Promise<ProcessGroup> {
  const w = requireWorld('newGroup');
  const backend = checkBackend(options.backend ?? w.backend);
  check(backend !== 'mpi' || w.backend === 'mpi', "newGroup: an 'mpi' group needs MPI as the default backend (initProcessGroup({ backend: 'mpi' }))");
  const timeoutMs = checkTimeout(options.timeoutMs ?? w.timeoutMs);
  let list: number[];
  if (ranks === undefined) {
    list = Array.from({ length: w.size }, (_, i) => i);
  } else {
    check(Array.isArray(ranks) && ranks.length > 0, 'ranks: expected a non-empty array of global ranks');
    for (const r of ranks) {
      check(Number.isInteger(r) && r >= 0 && r < w.size, () => `ranks: expected integers in [0, ${w.size}), got ${String(r)}`);
    }
    list = [...new Set(ranks)].sort((a, b) => a - b);
    check(list.length === ranks.length, () => `ranks: a rank appears twice in [${ranks.join(', ')}]`);
  }
  const index = ++w.groupCount;
  const groupRank = list.indexOf(w.rank);
  const device = backend === 'nccl' ? w.device : 'cpu';
  if (groupRank < 0) return new ProcessGroup(backend, list, -1, timeoutMs, -1, device);
  const id = await connect(w, backend, list, groupRank, index, timeoutMs);
  const g = new ProcessGroup(backend, list, groupRank, timeoutMs, id, device);
  w.groups.add(g);
  return g;
}

/**
 * Ends a group (or, with no argument, every group, the rendezvous store and MPI). Waits for the
 * group's queued work first, up to its timeout.
 */
export function destroyProcessGroup(group?: ProcessGroup): void {
  const w = requireWorld('destroyProcessGroup');
  if (group !== undefined && group !== w.defaultGroup) {
    check(group instanceof ProcessGroup, 'group: expected a ProcessGroup');
    group.destroy(group.timeoutMs);
    w.groups.delete(group);
    return;
  }
  destroyWorld();
}

function destroyWorld(timeoutMs?: number): void {
  const w = world!;
  world = null;
  setCurrentWorld(null);
  let failed = false;
  let first: unknown = null;
  for (const g of w.groups) {
    failed ||= g.failed;
    try {
      g.destroy(timeoutMs ?? g.timeoutMs);
    } catch (e) {
      first ??= e;
    }
  }
  if (w.serverId >= 0) distAddon().storeStop(w.serverId);
  // after a failure MPI_Finalize would wait for the dead rank: abort (mpirun ends the job)
  if (w.backend === 'mpi') distAddon().mpiFinalize(failed);
  if (first !== null) throw first;
}

export function isInitialized(): boolean {
  return world !== null;
}

/** This process's rank in the group (default: the world); -1 when it is not a member. */
export function getRank(group?: ProcessGroup): number {
  return resolveGroup(group, 'getRank').rank;
}

export function getWorldSize(group?: ProcessGroup): number {
  return resolveGroup(group, 'getWorldSize').size;
}

export function getBackend(group?: ProcessGroup): Backend {
  return resolveGroup(group, 'getBackend').backend;
}

/** The default group (the whole job). */
export function getDefaultGroup(): ProcessGroup {
  return requireWorld('getDefaultGroup').defaultGroup;
}

/** LOCAL_RANK and LOCAL_WORLD_SIZE (or OpenMPI's): this rank's place on its machine. */
export function getLocalRank(): number {
  return requireWorld('getLocalRank').env.localRank;
}
export function getLocalWorldSize(): number {
  return requireWorld('getLocalWorldSize').env.localWorldSize;
}
