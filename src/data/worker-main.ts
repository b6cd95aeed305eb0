/**
 * A DataLoader worker thread (started by worker-pool.ts). It rebuilds the dataset from its
 * spec, then answers each request with one collated batch of plain typed arrays, transferred
 * (not copied) to the main thread, which makes the tensors. Buffers the main thread hands back
 * are reused for later batches. It imports nothing that loads Kiln's native addon, and refuses
 * to let a user module load it (not yet safe in worker threads).
 */
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { realpathSync } from 'node:fs';
import { sep } from 'node:path';
import { collateHost, leafBuffers, type Allocator } from './host.js';
import { itemContext } from './seeded.js';
import { buildDataset, type HostDataset, type WorkerSpec } from './worker-spec.js';

export interface WorkerInit {
  spec: WorkerSpec;
  id: number;
  seed: number;
  /** Kiln's package root: its build/, build-cuda/ and prebuilds/ hold the addon. */
  root: string;
}

export interface BatchRequest {
  type: 'batch';
  /** Request id (unique in the pool), and the batch's position in its epoch. */
  id: number;
  k: number;
  epoch: number;
  indices: Int32Array;
  /** Buffers of earlier batches, handed back for reuse. */
  buffers: ArrayBuffer[];
}

export type WorkerMessage =
  | { type: 'ready'; length: number; threadId: number }
  | { type: 'batch'; id: number; batch: unknown; allocated: number; reused: number }
  | { type: 'error'; id: number; k: number; name: string; message: string };

const ADDON_MSG =
  "the dataset module loaded Kiln's native addon (it imports 'kiln' or Kiln's tensor code); Kiln tensors cannot be made in " +
  "DataLoader workers yet. Import from 'kiln/data-host' instead and return numbers and typed arrays from get()";

/** Make loading Kiln's own .node files fail in this thread (other addons load as usual). */
function guardAddon(packageRoot: string): { tripped: boolean } {
  const state = { tripped: false };
  const root = realpathSync(packageRoot);
  const owned = ['build', 'build-cuda', 'prebuilds'].map((d) => root + sep + d + sep);
  const override = process.env.KILN_BINARY;
  const dlopen = process.dlopen;
  process.dlopen = function guarded(module: unknown, filename: string, ...rest: unknown[]) {
    let real = filename;
    try { real = realpathSync(filename); } catch { /* let dlopen report it */ }
    if (owned.some((p) => real.startsWith(p)) || (override !== undefined && real === override)) {
      state.tripped = true;
      throw new Error(ADDON_MSG);
    }
    return (dlopen as (...a: unknown[]) => unknown).call(process, module, filename, ...rest);
  } as typeof process.dlopen;
  return state;
}

function errorMessage(e: unknown, guard: { tripped: boolean }): { name: string; message: string } {
  if (guard.tripped) return { name: 'KilnError', message: ADDON_MSG };
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}

async function main(): Promise<void> {
  const port = parentPort!;
  const init = workerData as WorkerInit;
  const guard = guardAddon(init.root);
  let ds: HostDataset;
  try {
    ds = await buildDataset(init.spec);
  } catch (e) {
    port.postMessage({ type: 'error', id: -1, k: -1, ...errorMessage(e, guard) } satisfies WorkerMessage);
    return;
  }
  port.postMessage({ type: 'ready', length: ds.length, threadId } satisfies WorkerMessage);

  // Returned buffers by size; a batch takes one of exactly its size, else a new one.
  const free = new Map<number, ArrayBuffer[]>();
  let allocated = 0;
  let reused = 0;
  const alloc: Allocator = (dtype, n) => {
    const bytes = 4 * n;
    const buf = free.get(bytes)?.pop();
    if (buf) reused++;
    else allocated++;
    const b = buf ?? new ArrayBuffer(bytes);
    return dtype === 'float32' ? new Float32Array(b, 0, n) : new Int32Array(b, 0, n);
  };

  port.on('message', (m: BatchRequest) => {
    for (const b of m.buffers) {
      const list = free.get(b.byteLength) ?? [];
      list.push(b);
      free.set(b.byteLength, list);
    }
    try {
      const items: unknown[] = [];
      for (let j = 0; j < m.indices.length; j++) items.push(ds.get(m.indices[j], itemContext(init.seed, m.epoch, m.indices[j])));
      const batch = collateHost(items, alloc);
      port.postMessage({ type: 'batch', id: m.id, batch, allocated, reused } satisfies WorkerMessage, leafBuffers(batch));
    } catch (e) {
      port.postMessage({ type: 'error', id: m.id, k: m.k, ...errorMessage(e, guard) } satisfies WorkerMessage);
    }
  });
}

if (!isMainThread && parentPort) void main();
