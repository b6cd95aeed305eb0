/**
 * The communication addons (native/dist, built by `npm run build:dist`): a typed declaration of
 * what they export, and their loaders. Loaded only when a process group is asked for, so the
 * rest of Kiln never needs them.
 *
 *   kiln_dist.node  process groups, the rendezvous store, MPI and NCCL (dlopen). Links nothing.
 *   kiln_gloo.node  the Gloo engine; links libgloo.so.0 (Debian libgloo0).
 *
 * Load order for each: KILN_DIST_BINARY / KILN_GLOO_BINARY (a path; when set, the only place
 * tried), native/dist/build/Release/, then prebuilds/<platform>-<arch>/dist/.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { KilnError } from '../errors.js';
import { packageRoot } from '../native.js';

/** Work settles as a Promise; a view is the core's storageView External. */
export interface DistAddon {
  setErrorClass(ctor: new (message: string) => Error): void;
  storeServe(port: number): [id: number, port: number];
  storeStop(id: number): void;
  /** op: 0 set, 1 get (waits for the key), 2 add, 3 check */
  storeRequest(op: number, host: string, port: number, key: string, value: Uint8Array | null, delta: number,
    timeoutMs: number): Promise<undefined | Uint8Array | number | boolean>;
  newGroup(options: {
    engine: 'gloo' | 'mpi' | 'nccl'; factory?: unknown; rank: number; size: number; ranks: number[]; prefix: string;
    timeoutMs: number; storeHost?: string; storePort?: number; hostname?: string; iface?: string; cudaDevice?: number;
    label?: string;
  }): [id: number, connected: Promise<void>];
  allReduce(group: number, view: unknown, op: number): Promise<void>;
  /** detached: no Promise; the caller blocks in waitAll before it lets go of the tensor */
  allReduce(group: number, view: unknown, op: number, detached: true): undefined;
  broadcast(group: number, view: unknown, root: number): Promise<void>;
  broadcast(group: number, view: unknown, root: number, detached: true): undefined;
  allGather(group: number, input: unknown, output: unknown, size: number): Promise<void>;
  reduceScatter(group: number, input: unknown, output: unknown, op: number, size: number): Promise<void>;
  barrier(group: number): Promise<void>;
  send(group: number, view: unknown, dst: number, tag: number): Promise<void>;
  recv(group: number, view: unknown, src: number, tag: number): Promise<void>;
  /** Blocks the JS thread until the group's queued work is done; throws its error. */
  waitAll(group: number, timeoutMs: number): void;
  destroyGroup(group: number, timeoutMs: number): void;
  /** [start, end, ...] of the detached works finished since the last call, in CLOCK_MONOTONIC
   * milliseconds (process.hrtime's clock). */
  takeWorkTimes(group: number): Float64Array;
  mpiProbe(): LibraryStatus;
  mpiInit(timeoutMs: number): Promise<{ rank: number; size: number; library: string }>;
  mpiFinalize(abort: boolean): void;
  ncclProbe(): LibraryStatus & { version: number };
}

export interface LibraryStatus {
  ok: boolean;
  reason: string;
  library: string;
}

export interface GlooAddon {
  engineFactory(): unknown;
  version: string;
}

const GLOO_PACKAGES = 'apt-get install libgloo0 (Debian/Ubuntu; libgloo-dev to build kiln_gloo.node)';

function candidates(file: string, envVar: string): string[] {
  const override = process.env[envVar];
  if (override) return [resolve(override)];
  return [
    join(packageRoot, 'native', 'dist', 'build', 'Release', file),
    join(packageRoot, 'prebuilds', `${process.platform}-${process.arch}`, 'dist', file),
  ];
}

function load<T>(file: string, envVar: string, notBuilt: string, failed: (path: string, message: string) => string): T {
  const require = createRequire(import.meta.url);
  const paths = candidates(file, envVar);
  for (const path of paths) {
    if (!existsSync(path)) continue;
    try {
      return require(path) as T;
    } catch (e) {
      throw new KilnError(failed(path, (e as Error).message));
    }
  }
  throw new KilnError(`${notBuilt} (looked in ${paths.join(', ')})`);
}

/** Why kiln_gloo.node failed to load, in terms of what to install. */
export function glooLoadError(path: string, message: string): string {
  if (/libgloo\.so/.test(message)) {
    return `distributed: Gloo is not installed: ${path} needs libgloo.so.0 (${message.trim()}); install it: ${GLOO_PACKAGES}`;
  }
  if (/lib(hiredis|ibverbs|nl-)/.test(message)) {
    return `distributed: a library Gloo depends on is missing (${message.trim()}); reinstall Gloo: ${GLOO_PACKAGES}`;
  }
  return `distributed: ${path} could not be loaded: ${message.trim()}`;
}

let dist: DistAddon | null = null;
let gloo: GlooAddon | null = null;

export function distAddon(): DistAddon {
  if (dist === null) {
    dist = load<DistAddon>('kiln_dist.node', 'KILN_DIST_BINARY',
      'distributed: the communication addon kiln_dist.node is not built: run `npm run build:dist` ' +
        '(Gloo also needs its headers: apt-get install libgloo-dev)',
      (path, message) => `distributed: ${path} could not be loaded: ${message.trim()}`);
    dist.setErrorClass(KilnError);
  }
  return dist;
}

export function glooAddon(): GlooAddon {
  if (gloo === null) {
    gloo = load<GlooAddon>('kiln_gloo.node', 'KILN_GLOO_BINARY',
      `distributed: the Gloo engine kiln_gloo.node is not built: install Gloo (apt-get install libgloo-dev) and run \`npm run build:dist\``,
      glooLoadError);
  }
  return gloo;
}
