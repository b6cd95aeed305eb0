/**
 * The main thread's side of DataLoader workers: starts N worker threads (worker-main), sends
 * batch k to worker k % N, and resolves each request with that worker's collated batch.
 *
 * Failure never hangs: a worker's error, a crash, an unexpected exit or a message that cannot
 * be read rejects the requests waiting on it with a KilnError (and the pool stays failed); a
 * `timeout` bounds each wait for a batch. Workers hold the process open only while a request is
 * outstanding (unref otherwise), and close() terminates them.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../errors.js';
import { leafBuffers } from './host.js';
import type { BatchRequest, WorkerInit, WorkerMessage } from './worker-main.js';
import type { WorkerSpec } from './worker-spec.js';

interface Pending {
  resolve: (batch: unknown) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Buffers to hand back with the next request. */
  giveBack: ArrayBuffer[];
  allocated: number;
  reused: number;
  threadId: number;
}

/** The worker entry: dist/data/worker-main.js, or a build of the .ts sources (worker-source.ts). */
async function entry(): Promise<URL> {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./worker-main.js', here);
  const { workerEntryFromSource } = await import('./worker-source.js');
  return workerEntryFromSource();
}

/** The package root (its build/ and prebuilds/ hold the native addon workers must not load). */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface PoolOptions {
  numWorkers: number;
  seed: number;
  /** Milliseconds a request may take; 0: no limit. */
  timeout: number;
  /** The dataset length the main thread sees (the rebuilt one must match). */
  length: number;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private failure: KilnError | null = null;
  private closed = false;
  private nextId = 0;

  private constructor(private readonly opts: PoolOptions) {}

  /** Start the workers and wait until each has rebuilt the dataset. */
  static async start(spec: WorkerSpec, opts: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    const url = await entry();
    const ready: Promise<void>[] = [];
    for (let id = 0; id < opts.numWorkers; id++) {
      const init: WorkerInit = { spec, id, seed: opts.seed, root: packageRoot };
      let worker: Worker;
      try {
        worker = new Worker(url, { workerData: init });
      } catch (e) {
        await pool.close();
        throw new KilnError(`DataLoader: cannot start worker ${id} (${(e as Error).message})`);
      }
      const slot: Slot = { worker, pending: new Map(), giveBack: [], allocated: 0, reused: 0, threadId: -1 };
      pool.slots.push(slot);
      ready.push(pool.watch(slot, id));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    for (const s of pool.slots) s.worker.unref();
    return pool;
  }

  /** Wire a worker's events; resolves when it reports ready. */
  private watch(slot: Slot, id: number): Promise<void> {
    return new Promise<void>((ready, notReady) => {
      const w = slot.worker;
      const fail = (msg: string) => {
        const err = new KilnError(`DataLoader worker ${id}: ${msg}`);
        notReady(err);
        this.fail(err);
      };
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          slot.threadId = m.threadId;
          if (m.length !== this.opts.length) fail(`the dataset it rebuilt has ${m.length} items, the loader's has ${this.opts.length}`);
          else ready();
        } else if (m.type === 'batch') {
          slot.allocated = m.allocated;
          slot.reused = m.reused;
          // A batch nobody waits for any more (its epoch ended early): keep its buffers.
          if (!slot.pending.has(m.id)) slot.giveBack.push(...leafBuffers(m.batch));
          this.settle(slot, m.id, (p) => p.resolve(m.batch));
        } else if (m.type === 'error') {
          const err = new KilnError(`DataLoader worker ${id}: ${m.k < 0 ? 'building the dataset' : `batch ${m.k}`} failed: ${m.name === 'KilnError' ? '' : `${m.name}: `}${m.message}`);
          if (m.k < 0) {
            notReady(err);
            this.fail(err);
          } else {
            this.settle(slot, m.id, (p) => p.reject(err));
          }
        }
      });
      w.on('error', (e) => fail(`crashed: ${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`));
      w.on('messageerror', (e) => fail(`sent a message that cannot be read (${(e as Error).message})`));
      w.on('exit', (code) => {
        if (!this.closed) fail(`exited unexpectedly (code ${code})`);
      });
    });
  }

  private settle(slot: Slot, id: number, fn: (p: Pending) => void): void {
    const p = slot.pending.get(id);
    if (!p) return;
    slot.pending.delete(id);
    if (slot.pending.size === 0) slot.worker.unref();
    fn(p);
  }

  /** Reject everything outstanding; later requests reject at once. */
  private fail(err: KilnError): void {
    if (this.failure) return;
    this.failure = err;
    for (const s of this.slots) {
      for (const [id] of s.pending) this.settle(s, id, (p) => p.reject(err));
    }
  }

  /** Batch k (of `epoch`), built by worker k % N from these item indices. */
  request(k: number, epoch: number, indices: Int32Array): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new KilnError('DataLoader: the workers have been shut down'));
    const slot = this.slots[k % this.slots.length];
    const id = this.nextId++;
    const p = new Promise<unknown>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
    });
    p.catch(() => undefined); // reported when awaited, never as an unhandled rejection
    slot.worker.ref();
    const buffers = slot.giveBack;
    slot.giveBack = [];
    const msg: BatchRequest = { type: 'batch', id, k, epoch, indices, buffers };
    slot.worker.postMessage(msg, buffers);
    return p;
  }

  /**
   * Wait for batch k, failing the pool when it has not come `timeout` ms after this call (the
   * time the loop waits, as PyTorch's timeout; not the time the request sat in the queue).
   */
  async wait(k: number, p: Promise<unknown>): Promise<unknown> {
    const ms = this.opts.timeout;
    if (!(ms > 0)) return p;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new KilnError(`DataLoader worker ${k % this.slots.length}: batch ${k} took longer than the ${ms} ms timeout`);
        this.fail(err);
        reject(err);
      }, ms);
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Hand a batch's buffers back to the worker that made batch k, for reuse. */
  giveBack(k: number, buffers: ArrayBuffer[]): void {
    this.slots[k % this.slots.length]?.giveBack.push(...buffers);
  }

  /** Buffers the workers allocated and reused so far (their last reports). */
  stats(): { allocated: number; reused: number } {
    return {
      allocated: this.slots.reduce((a, s) => a + s.allocated, 0),
      reused: this.slots.reduce((a, s) => a + s.reused, 0),
    };
  }

  /** True when the pool can serve another epoch (not failed, not closed). */
  get usable(): boolean {
    return !this.failure && !this.closed;
  }

  /** Thread ids of the workers (for tests: persistent workers keep theirs). */
  threadIds(): number[] {
    return this.slots.map((s) => s.threadId);
  }

  /**
   * Forget outstanding requests (an epoch left early, with persistent workers): their batches
   * are dropped when they come, their buffers kept for reuse; idle workers hold nothing open.
   */
  abandon(): void {
    for (const s of this.slots) {
      s.pending.clear();
      s.worker.unref();
    }
  }

  /** Terminate every worker; outstanding requests reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new KilnError('DataLoader: the workers have been shut down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }
}
