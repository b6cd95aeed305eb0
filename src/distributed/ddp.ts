/**
 * DistributedDataParallel, as torch.nn.parallel.DistributedDataParallel: every rank holds the
 * whole model and a share of each batch; after backward every parameter's gradient is the
 * average over the ranks, so the optimizers of all ranks take the same step.
 *
 * - At wrap time the parameters (and buffers) of rank 0 are broadcast to every rank, after a check
 *   that every rank wraps the same shapes.
 * - Gradients are averaged in buckets of about `bucketCapMb` (the first 1 MB, so the first
 *   all-reduce starts early), filled in reverse parameter order, the order backward produces them.
 * - Overlap: where tensors have `registerPostAccumulateGradHook`, a bucket's all-reduce starts on
 *   the communication thread as soon as its last gradient is final, while backward goes on with
 *   the rest of the graph; the hook of the last bucket waits for all of them and writes the
 *   averages back, so after `loss.backward()` the gradients are averaged, as in PyTorch.
 *   Without that hook, call `ddp.syncGradients()` after backward (fit does): it all-reduces every
 *   bucket then. Forwarding again without it is an error, never a silent divergence.
 * - `noSync(fn)`: backward passes inside fn only accumulate (gradient accumulation); the next
 *   backward outside averages the accumulated gradients.
 * - `findUnusedParameters`: parameters the forward's graph does not reach count as ready (with a
 *   zero gradient) once backward starts, so their buckets are not waited for forever.
 * - `broadcastBuffers`: each forward first copies rank 0's buffers (BatchNorm statistics).
 *
 * Buckets are all-reduced in bucket order on every rank, so no rank's collectives can interleave
 * differently from another's. Buckets' flat buffers are allocated once, at wrap time; a bucket of
 * one parameter is all-reduced in place in the gradient itself (no copy).
 */
import { noGrad, isGradEnabled } from '../autograd/engine.js';
import { gradOnlyHooks } from '../autograd/hooks.js';
import { KilnError, check } from '../errors.js';
import { tensor, zeros } from '../creation.js';
import { keep } from '../memory.js';
import { Module } from '../nn/module.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { allReduceDetached, broadcastDetached, waitAll } from './collectives.js';
import { type ProcessGroup, resolveGroup } from './group.js';
import { distAddon } from './native.js';

export interface DistributedDataParallelOptions {
  /** Bucket size in MiB (default 25, as PyTorch). */
  bucketCapMb?: number;
  /** Copy rank 0's buffers to every rank before each forward (default true). */
  broadcastBuffers?: boolean;
  /** Let parameters the forward does not use count as ready (default false). */
  findUnusedParameters?: boolean;
  /** The ranks that replicate the model (default: the whole job). */
  processGroup?: ProcessGroup;
  /**
   * 'auto' (default): all-reduce during backward when tensors have post-accumulate-grad hooks,
   * else after it (syncGradients). 'afterBackward' forces the latter (tests, benchmarks).
   */
  gradSync?: 'auto' | 'afterBackward';
}

const FIRST_BUCKET_BYTES = 1024 * 1024; // PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES

interface Bucket {
  params: Tensor[];
  offsets: number[];
  numel: number;
  /** The flat buffer (null for a bucket of one parameter: reduced in place). */
  flat: Tensor | null;
  ready: number;
  launched: boolean;
}

/** Timings of the last synchronised backward, for benchmarks (milliseconds). */
export interface DDPStats {
  /** Blocked waiting for all-reduces after the last bucket was launched. */
  waitMs: number;
  /** Copying gradients into the buckets and the averages back. */
  copyMs: number;
  /** The buckets' all-reduces on the communication thread, start to end, summed. */
  commMs: number;
  /** The part of commMs that ran before backward was done (hidden behind it). */
  hiddenMs: number;
  buckets: number;
}

/** process.hrtime's clock (CLOCK_MONOTONIC), the one the native side stamps works with. */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

export class DistributedDataParallel extends Module {
  readonly module: Module;
  /** @internal not a Module field: keeps Module's walks (to, parameters) away from it */
  private readonly state: {
    group: ProcessGroup;
    buckets: Bucket[];
    bucketOf: Map<Tensor, number>;
    options: Required<Omit<DistributedDataParallelOptions, 'processGroup'>>;
    hooks: boolean;
    sync: boolean;
    armed: boolean;
    backwardStarted: boolean;
    finalized: boolean;
    nextLaunch: number;
    unused: Set<Tensor>;
    readyParams: Set<Tensor>;
    handles: { remove(): void }[];
    stats: DDPStats;
  };

  constructor(module: Module, options: DistributedDataParallelOptions = {}) {
    super();
    check(module instanceof Module, 'module: expected an nn.Module');
    check(options !== null && typeof options === 'object', 'options: expected an object');
    const cap = options.bucketCapMb ?? 25;
    check(typeof cap === 'number' && cap > 0 && Number.isFinite(cap), () => `bucketCapMb: expected a positive number, got ${String(cap)}`);
    const gradSync = options.gradSync ?? 'auto';
    check(gradSync === 'auto' || gradSync === 'afterBackward', () => `gradSync: expected 'auto' or 'afterBackward', got ${String(gradSync)}`);
    const group = resolveGroup(options.processGroup, 'DistributedDataParallel');
    group.use('DistributedDataParallel');
    this.module = module;
    const params = module.parameters().filter((p) => p.requiresGrad);
    for (const p of params) {
      check(p.device === group.device,
        () => `DistributedDataParallel: parameters must be on ${group.device} for a ${group.backend} group (move the model before wrapping it)`);
    }
    const hookable = params.length > 0 && typeof (params[0] as any).registerPostAccumulateGradHook === 'function';
    this.state = {
      group,
      buckets: [],
      bucketOf: new Map(),
      options: {
        bucketCapMb: cap, broadcastBuffers: options.broadcastBuffers ?? true,
        findUnusedParameters: options.findUnusedParameters ?? false, gradSync,
      },
      hooks: hookable && gradSync === 'auto',
      sync: true,
      armed: false,
      backwardStarted: false,
      finalized: true,
      nextLaunch: 0,
      unused: new Set(),
      readyParams: new Set(),
      handles: [],
      stats: { waitMs: 0, copyMs: 0, commMs: 0, hiddenMs: 0, buckets: 0 },
    };
    this.checkSameModel(params);
    this.broadcastState(params);
    this.makeBuckets(params, cap);
    if (this.state.hooks) {
      for (const p of params) {
        const hook = () => this.gradReady(p);
        gradOnlyHooks.add(hook); // it only reads p.grad: backward may call it before the input gradient
        this.state.handles.push((p as any).registerPostAccumulateGradHook(hook));
      }
    }
  }

  /** True when gradients are averaged during backward (post-accumulate-grad hooks). */
  get overlapsBackward(): boolean {
    return this.state.hooks;
  }
  get processGroup(): ProcessGroup {
    return this.state.group;
  }
  get stats(): DDPStats {
    return { ...this.state.stats };
  }
  /** The parameters of each bucket, in all-reduce order (the order the ranks agree on). */
  get bucketParameters(): Tensor[][] {
    return this.state.buckets.map((b) => [...b.params]);
  }

  // ---- wrap time ----

  /** Every rank must wrap the same parameter shapes: compare a summary across ranks. */
  private checkSameModel(params: Tensor[]): void {
    let hash = 17;
    for (const p of params) for (const d of [p.ndim, ...p.shape]) hash = (Math.imul(hash, 31) + d) | 0;
    const numel = params.reduce((n, p) => n + p.numel, 0);
    const mine = [params.length, numel % 2 ** 31, hash];
    const g = this.state.group;
    // on the group's device: an NCCL group reduces CUDA tensors only
    const hi = tensor(Int32Array.from(mine), { device: g.device });
    const lo = tensor(Int32Array.from(mine), { device: g.device });
    try {
      allReduceDetached(hi, 'max', g, 'DistributedDataParallel');
      allReduceDetached(lo, 'min', g, 'DistributedDataParallel');
      waitAll(g, 'DistributedDataParallel');
      const a = Array.from(hi.toTypedArray());
      const b = Array.from(lo.toTypedArray());
      if (a.some((v, i) => v !== b[i])) {
        throw new KilnError('DistributedDataParallel: the ranks wrap different models (parameter count, sizes or shapes differ)');
      }
    } finally {
      hi.dispose();
      lo.dispose();
    }
  }

  /** Rank 0's parameters and buffers to every rank. */
  private broadcastState(params: Tensor[]): void {
    const g = this.state.group;
    const src = g.ranks[0];
    const tensors = [...params, ...(this.state.options.broadcastBuffers ? this.module.buffers() : [])];
    for (const t of tensors) broadcastDetached(t, src, g, 'DistributedDataParallel');
    waitAll(g, 'DistributedDataParallel');
  }

  private makeBuckets(params: Tensor[], capMb: number): void {
    const cap = capMb * 1024 * 1024;
    const st = this.state;
    let cur: Tensor[] = [];
    let bytes = 0;
    const close = () => {
      if (cur.length === 0) return;
      const offsets: number[] = [];
      let numel = 0;
      for (const p of cur) {
        offsets.push(numel);
        numel += p.numel;
      }
      const flat = cur.length > 1 ? keep(zeros([numel], { device: st.group.device })) : null;
      cur.forEach((p) => st.bucketOf.set(p, st.buckets.length));
      st.buckets.push({ params: cur, offsets, numel, flat, ready: 0, launched: false });
      cur = [];
      bytes = 0;
    };
    for (let i = params.length - 1; i >= 0; i--) {
      cur.push(params[i]);
      bytes += params[i].numel * 4;
      if (bytes >= (st.buckets.length === 0 ? Math.min(FIRST_BUCKET_BYTES, cap) : cap)) close();
    }
    close();
    st.stats.buckets = st.buckets.length;
  }

  // ---- each step ----

  forward(...args: any[]): any {
    const st = this.state;
    if (st.armed && !st.finalized) {
      if (!st.hooks) {
        throw new KilnError('DistributedDataParallel: the gradients of the last backward were not averaged: this Kiln has no ' +
          'post-accumulate-grad hooks, so call ddp.syncGradients() after backward() (fit does), or forward under noGrad');
      }
      if (st.backwardStarted) {
        const missing = st.buckets.flatMap((b) => b.params).filter((p) => !st.readyParams.has(p))
          .map((p) => this.nameOf(p)).slice(0, 8);
        throw new KilnError('DistributedDataParallel: the last backward did not produce gradients for every parameter ' +
          `(e.g. ${missing.join(', ')}): pass { findUnusedParameters: true } when the forward does not use them all`);
      }
    }
    if (st.options.broadcastBuffers) {
      const buffers = this.module.buffers();
      if (buffers.length > 0 && st.group.size > 1) {
        for (const b of buffers) broadcastDetached(b, st.group.ranks[0], st.group, 'DistributedDataParallel forward');
        waitAll(st.group, 'DistributedDataParallel forward');
      }
    }
    const out = this.module.forward(...args);
    if (this.training && isGradEnabled() && st.sync) this.arm(out);
    return out;
  }

  private arm(out: unknown): void {
    const st = this.state;
    st.armed = true;
    st.finalized = false;
    st.backwardStarted = false;
    st.nextLaunch = 0;
    for (const b of st.buckets) {
      b.ready = 0;
      b.launched = false;
    }
    st.stats.waitMs = 0;
    st.stats.copyMs = 0;
    st.readyParams.clear();
    distAddon().takeWorkTimes(st.group.nativeId); // only this backward's all-reduces count
    st.unused = st.options.findUnusedParameters ? this.unreached(out) : new Set();
  }

  /** The parameters no output's graph reaches. */
  private unreached(out: unknown): Set<Tensor> {
    const reached = new Set<Tensor>();
    const seen = new Set<unknown>();
    const stack: unknown[] = [];
    const pushOutputs = (v: unknown, depth: number) => {
      if (v instanceof Tensor) stack.push(v);
      else if (depth < 4 && Array.isArray(v)) v.forEach((x) => pushOutputs(x, depth + 1));
      else if (depth < 4 && v !== null && typeof v === 'object') Object.values(v).forEach((x) => pushOutputs(x, depth + 1));
    };
    pushOutputs(out, 0);
    // Walks tensors and graph nodes: a node's edges are `next` (nodes or leaves) or `inputs` (tensors).
    while (stack.length > 0) {
      const v = stack.pop();
      if (v === null || v === undefined || seen.has(v)) continue;
      seen.add(v);
      if (v instanceof Tensor) {
        if (v.gradFn) stack.push(v.gradFn);
        else if (v.requiresGrad) reached.add(v);
      } else if (typeof v === 'object') {
        const node = v as { next?: unknown[]; inputs?: unknown[] };
        for (const e of node.next ?? node.inputs ?? []) stack.push(e);
      }
    }
    return new Set(this.state.buckets.flatMap((b) => b.params).filter((p) => !reached.has(p)));
  }

  /** A parameter's gradient is final for this backward (post-accumulate-grad hook). */
  private gradReady(p: Tensor): void {
    const st = this.state;
    if (!st.armed || st.finalized || !st.sync) return;
    const now = monotonicMs(); // when this is the last gradient, backward's compute ends here
    if (!st.backwardStarted) {
      st.backwardStarted = true;
      for (const u of st.unused) this.markReady(u);
    }
    if (!st.unused.has(p)) this.markReady(p);
    if (st.nextLaunch === st.buckets.length) this.finish(now);
  }

  private markReady(p: Tensor): void {
    const st = this.state;
    if (st.readyParams.has(p)) return;
    st.readyParams.add(p);
    const b = st.buckets[st.bucketOf.get(p)!];
    b.ready++;
    // launch in bucket order only, so every rank issues the same sequence of all-reduces
    while (st.nextLaunch < st.buckets.length && st.buckets[st.nextLaunch].ready === st.buckets[st.nextLaunch].params.length) {
      this.launch(st.buckets[st.nextLaunch++]);
    }
  }

  private launch(b: Bucket): void {
    const st = this.state;
    const t0 = performance.now();
    let target: Tensor;
    if (b.flat === null) {
      const p = b.params[0];
      if (p.grad === null) p.grad = keep(zeros([...p.shape], { device: p.device }));
      target = p.grad;
      check(target.isContiguous(), 'DistributedDataParallel: expected contiguous gradients');
    } else {
      target = b.flat;
      b.params.forEach((p, i) => {
        const g = p.grad;
        if (g === null) native.fill(b.flat!.storage.handle, b.offsets[i], p.numel, 0);
        else {
          check(g.isContiguous(), 'DistributedDataParallel: expected contiguous gradients');
          native.copy(b.flat!.storage.handle, b.offsets[i], g.storage.handle, g.offset, p.numel);
        }
      });
    }
    st.stats.copyMs += performance.now() - t0;
    b.launched = true;
    allReduceDetached(target, 'avg', st.group, 'DistributedDataParallel'); // errors surface in finish()
  }

  /** Waits for every bucket's all-reduce and writes the averages into the gradients. */
  private finish(backwardDone = monotonicMs()): void {
    const st = this.state;
    const t0 = performance.now();
    waitAll(st.group, 'DistributedDataParallel');
    const t1 = performance.now();
    const times = distAddon().takeWorkTimes(st.group.nativeId);
    let comm = 0;
    let hidden = 0;
    for (let i = 0; i + 1 < times.length; i += 2) {
      comm += times[i + 1] - times[i];
      hidden += Math.max(0, Math.min(times[i + 1], backwardDone) - times[i]);
    }
    st.stats.commMs = comm;
    st.stats.hiddenMs = hidden;
    noGrad(() => {
      for (const b of st.buckets) {
        if (b.flat === null) continue;
        b.params.forEach((p, i) => {
          if (p.grad === null) p.grad = keep(zeros([...p.shape], { device: p.device }));
          native.copy(p.grad.storage.handle, p.grad.offset, b.flat!.storage.handle, b.offsets[i], p.numel);
        });
      }
    });
    st.stats.waitMs = t1 - t0;
    st.stats.copyMs += performance.now() - t1;
    st.finalized = true;
    st.armed = false;
  }

  /**
   * Averages the gradients of the last backward now, when they were not averaged during it (no
   * post-accumulate-grad hooks, or gradSync 'afterBackward'); a no-op when they already were.
   * Missing gradients count as zeros. Every rank must call it at the same point.
   */
  syncGradients(): void {
    const st = this.state;
    if (!st.armed || st.finalized) return;
    const backwardDone = monotonicMs(); // backward is over: nothing launched from here is hidden
    st.backwardStarted = true;
    while (st.nextLaunch < st.buckets.length) this.launch(st.buckets[st.nextLaunch++]);
    this.finish(backwardDone);
  }

  /**
   * Runs fn with gradient averaging off: its backward passes only accumulate into .grad (e.g.
   * gradient accumulation over several micro-steps); the next backward outside averages the sum.
   * fn may be async.
   */
  noSync<T>(fn: () => T): T {
    check(typeof fn === 'function', 'noSync: expected a function');
    const st = this.state;
    const before = st.sync;
    st.sync = false;
    let result: T;
    try {
      result = fn();
    } catch (e) {
      st.sync = before;
      throw e;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        st.sync = before;
      }) as T;
    }
    st.sync = before;
    return result;
  }

  private nameOf(p: Tensor): string {
    return this.module.namedParameters().find(([, q]) => q === p)?.[0] ?? '?';
  }

  /** Removes the hooks and frees the buckets (the wrapped module stays usable). */
  dispose(): void {
    for (const h of this.state.handles) h.remove();
    this.state.handles = [];
    for (const b of this.state.buckets) b.flat?.dispose();
    this.state.buckets = [];
  }
}
