/**
 * Native memory ownership.
 *
 * A Storage is one native allocation, shared by a tensor and its views (reference counted).
 * Tensors are freed by dispose(), by the kiln.scope() they were created in, or, as a backstop,
 * by a FinalizationRegistry when garbage-collected. The addon reports every allocation to V8,
 * so unreleased tensors create real GC pressure.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { requireCuda } from './backend-info.js';
import { type Device, deviceFromId, deviceId } from './device.js';
import { type DType, dtypeCode } from './dtype.js';
import { type Handle, native } from './native.js';

/** What the GC backstop needs to free a storage: nothing that keeps the Storage alive. */
interface StorageCell {
  handle: Handle;
  device: Device;
  /** Tracked tensors of this storage not yet disposed. */
  refs: number;
  released: boolean;
  /** The GC backstop: 0 none, 1 asked for (waiting in `pendingBackstop`), 2 registered. */
  backstop: 0 | 1 | 2;
}

export class Storage {
  /** Serial of the next storage allocated; serials only grow. */
  static nextSerial = 0;
  readonly serial = Storage.nextSerial++;
  /** In-place writes so far: autograd's version counter, shared by every view of this storage. */
  version = 0;
  /** The version written by the last in-place op recorded in a graph (older views' history is stale). */
  rebased = 0;
  private readonly cell: StorageCell;

  constructor(
    readonly handle: Handle,
    readonly device: Device,
    readonly dtype: DType,
    readonly numel: number,
  ) {
    this.cell = { handle, device, refs: 0, released: false, backstop: 0 };
  }

  /**
   * The GC backstop, registered once per allocation and only when needed: a tensor made inside
   * a kiln.scope is freed by the scope unless it escapes (returned, keep()), which registers it.
   */
  ensureBackstop(): void {
    const c = this.cell;
    if (c.backstop === 0 && !c.released) {
      c.backstop = 1;
      deferBackstop(this);
    }
  }

  /** @internal registers the backstop now, unless the storage was released while it waited */
  _registerBackstop(): void {
    const c = this.cell;
    if (c.backstop === 1 && !c.released) {
      c.backstop = 2;
      finalizer.register(this, c, c);
    }
  }

  static allocate(device: Device, dtype: DType, numel: number): Storage {
    if (device !== 'cpu') requireCuda(device);
    return new Storage(native.alloc(deviceId(device), dtypeCode[dtype], numel), device, dtype, numel);
  }

  get released(): boolean {
    return this.cell.released;
  }

  /** Tracked tensors (views included) that still hold this storage. */
  get refs(): number {
    return this.cell.refs;
  }

  retain(): void {
    this.cell.refs++;
  }

  release(): void {
    const c = this.cell;
    if (--c.refs === 0 && !c.released) {
      c.released = true;
      if (c.backstop === 2) finalizer.unregister(c);
      native.release(c.handle);
    }
  }
}

/** What the tracker needs of a tensor (tensor.ts implements it). */
export interface Tracked {
  readonly storage: Storage;
  readonly isDisposed: boolean;
  dispose(): void;
  _scope: ScopeFrame | null;
}

interface ScopeFrame {
  tensors: Set<Tracked>;
  parent: ScopeFrame | undefined;
}

/** Live tracked tensors: CPU apart, other devices by name. */
let liveCpu = 0;
const liveOther = new Map<Device, number>();
const scopes = new AsyncLocalStorage<ScopeFrame>();

function countLive(device: Device, delta: number): void {
  if (device === 'cpu') liveCpu += delta;
  else liveOther.set(device, (liveOther.get(device) ?? 0) + delta);
}

function liveCount(device: Device): number {
  return device === 'cpu' ? liveCpu : liveOther.get(device) ?? 0;
}

/** Tensors the garbage collector released because nothing disposed them, by device (running totals). */
const collectedByGc = new Map<Device, number>();

// A storage collected by GC took its undisposed tensors with it.
const finalizer = new FinalizationRegistry<StorageCell>((cell) => {
  if (cell.released) return;
  countLive(cell.device, -cell.refs);
  collectedByGc.set(cell.device, (collectedByGc.get(cell.device) ?? 0) + cell.refs);
  cell.refs = 0;
  cell.released = true;
  native.release(cell.handle);
});

// Registering with the FinalizationRegistry (and unregistering at dispose) costs about a
// microsecond, and most storages that ask for the backstop are released soon after: a new .grad
// every step, disposed by the next zeroGrad. So they wait here, held strongly (GC cannot take one
// before it is registered), and those still live are registered in batches: when 256 wait, and in
// a microtask (at the latest when the running synchronous code returns).
const pendingBackstop: Storage[] = [];
const BACKSTOP_BATCH = 256;

function flushBackstops(): void {
  for (let i = 0; i < pendingBackstop.length; i++) pendingBackstop[i]._registerBackstop();
  pendingBackstop.length = 0;
}

function deferBackstop(s: Storage): void {
  if (pendingBackstop.length === 0) queueMicrotask(flushBackstops);
  pendingBackstop.push(s);
  if (pendingBackstop.length >= BACKSTOP_BATCH) flushBackstops();
}

/** Called once for every tensor object created. */
export function track(t: Tracked): void {
  t.storage.retain();
  countLive(t.storage.device, 1);
  const frame = scopes.getStore();
  if (frame) {
    frame.tensors.add(t);
    t._scope = frame;
  } else {
    t.storage.ensureBackstop();
  }
}

/** Called by Tensor.dispose(), once. */
export function untrack(t: Tracked): void {
  countLive(t.storage.device, -1);
  if (t._scope !== null) {
    t._scope.tensors.delete(t);
    t._scope = null;
  }
  t.storage.release();
}

/** Takes t out of the scope it was created in, so the scope's end does not free it. */
export function keep<T extends Tracked>(t: T): T {
  t._scope?.tensors.delete(t);
  t._scope = null;
  t.storage.ensureBackstop();
  return t;
}

// The Tensor class, registered by tensor.ts (which imports this file): `instanceof` reads no
// property of v, so a value whose property reads have effects (a Proxy, a getter) is safe to test.
let tensorClass: (abstract new (...args: any[]) => Tracked) | null = null;
/** @internal */
export function registerTensorClass(cls: abstract new (...args: any[]) => Tracked): void {
  tensorClass = cls;
}

function isTracked(v: object): v is Tracked {
  return tensorClass !== null && v instanceof tensorClass;
}

/**
 * The frame's tensors reachable from `result` through data: array elements, Map keys and
 * values, Set members, and every own data property of any other object (plain or a class
 * instance; string or symbol keys, enumerable or not), at any depth, cycles included. Not
 * seen: closures, #private fields, values behind getters (never called: they may have effects),
 * WeakMap/WeakRef contents. A tensor is a leaf: its graph and .grad are not searched.
 * An explicit stack, so a deep structure cannot overflow the call stack.
 */
function reachable(result: unknown, frame: ScopeFrame): Set<Tracked> {
  const found = new Set<Tracked>();
  if (frame.tensors.size === 0) return found;
  const seen = new Set<object>();
  const stack: unknown[] = [result];
  while (stack.length > 0 && found.size < frame.tensors.size) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (isTracked(v)) {
      if (frame.tensors.has(v)) found.add(v);
      continue;
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof SharedArrayBuffer) continue;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push(v[i]);
      continue;
    }
    try {
      if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
      else if (v instanceof Set) for (const x of v) stack.push(x);
      for (const key of Reflect.ownKeys(v)) {
        const d = Object.getOwnPropertyDescriptor(v, key);
        if (d !== undefined && 'value' in d) stack.push(d.value);
      }
    } catch {
      // a Proxy whose traps throw (a test library's assertion object): nothing to find in it
    }
  }
  return found;
}

function endScope(frame: ScopeFrame, result: unknown): void {
  const returned = reachable(result, frame);
  for (const t of [...frame.tensors]) {
    if (returned.has(t)) {
      t._scope = frame.parent ?? null;
      if (frame.parent) frame.parent.tensors.add(t);
      else t.storage.ensureBackstop();
    } else if (!t.isDisposed) {
      t.dispose();
    }
  }
  frame.tensors.clear();
}

/**
 * Runs fn and frees every tensor created inside it that fn does not return. A tensor counts as
 * returned when it is reachable from the return value through data: arrays, Maps, Sets, plain
 * objects and class instances, at any depth (see `reachable`). Tensors held only by a closure,
 * a #private field or a WeakMap are not seen and are freed: keep() them. Works across await:
 * pass an async function and await the result.
 */
export function scope<T>(fn: () => T): T {
  const frame: ScopeFrame = { tensors: new Set(), parent: scopes.getStore() };
  let result: T;
  try {
    result = scopes.run(frame, fn);
  } catch (e) {
    endScope(frame, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        endScope(frame, v);
        return v;
      },
      (e) => {
        endScope(frame, undefined);
        throw e;
      },
    ) as T;
  }
  endScope(frame, result);
  return result;
}

export interface DeviceMemory {
  device: Device;
  /** Live Tensor objects (views count separately). */
  tensors: number;
  /**
   * Tensors the garbage collector has released because nothing disposed them, a running total.
   * A collection lowers `tensors` at a moment nobody chose; `tensors + collected` only grows
   * with leaks, so a loop that keeps it flat disposes everything it makes.
   */
  collected: number;
  /** Live native allocations and their bytes. */
  allocations: number;
  bytes: number;
  peakBytes: number;
  /** Bytes of released buffers kept for reuse (not live; kiln.emptyCache() frees them). */
  cachedBytes: number;
}

export interface MemoryInfo extends DeviceMemory {
  devices: DeviceMemory[];
}

/** Live tensors and native bytes; the top-level numbers are the CPU's. */
export function memory(): MemoryInfo {
  const devices: DeviceMemory[] = native.memoryStats().map((s) => {
    const device = deviceFromId(s.device);
    return {
      device, tensors: liveCount(device), collected: collectedByGc.get(device) ?? 0,
      allocations: s.count, bytes: s.bytes, peakBytes: s.peakBytes, cachedBytes: s.cachedBytes,
    };
  });
  const cpu = devices.find((d) => d.device === 'cpu')!;
  return { ...cpu, devices };
}

/** Frees the CPU buffers cached for reuse by released tensors; live tensors are untouched. */
export function emptyCache(): void {
  native.emptyCache();
}

/** Starts peak tracking afresh: every device's peakBytes becomes its current live bytes. */
export function resetPeak(): void {
  native.resetPeak();
}
