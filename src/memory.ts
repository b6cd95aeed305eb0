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

export class Storage {
  /** Serial of the next storage allocated; serials only grow. */
  static nextSerial = 0;
  readonly serial = Storage.nextSerial++;
  private refs = 0;
  released = false;

  constructor(
    readonly handle: Handle,
    readonly device: Device,
    readonly dtype: DType,
    readonly numel: number,
  ) {}

  static allocate(device: Device, dtype: DType, numel: number): Storage {
    if (device !== 'cpu') requireCuda(device);
    return new Storage(native.alloc(deviceId(device), dtypeCode[dtype], numel), device, dtype, numel);
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0 && !this.released) {
      this.released = true;
      native.release(this.handle);
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

const liveTensors = new Map<Device, number>();
const scopes = new AsyncLocalStorage<ScopeFrame>();

function countLive(device: Device, delta: number): void {
  liveTensors.set(device, (liveTensors.get(device) ?? 0) + delta);
}

const finalizer = new FinalizationRegistry<Storage>((storage) => {
  countLive(storage.device, -1);
  storage.release();
});

/** Called once for every tensor object created. */
export function track(t: Tracked): void {
  t.storage.retain();
  countLive(t.storage.device, 1);
  finalizer.register(t, t.storage, t);
  const frame = scopes.getStore();
  if (frame) {
    frame.tensors.add(t);
    t._scope = frame;
  }
}

/** Called by Tensor.dispose(), once. */
export function untrack(t: Tracked): void {
  finalizer.unregister(t);
  countLive(t.storage.device, -1);
  t._scope?.tensors.delete(t);
  t._scope = null;
  t.storage.release();
}

/** Takes t out of the scope it was created in, so the scope's end does not free it. */
export function keep<T extends Tracked>(t: T): T {
  t._scope?.tensors.delete(t);
  t._scope = null;
  return t;
}

function collect(value: unknown, out: Set<unknown>, depth: number): void {
  if (value === null || typeof value !== 'object' || depth > 4 || out.has(value)) return;
  out.add(value);
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, out, depth + 1);
  }
}

function endScope(frame: ScopeFrame, result: unknown): void {
  const returned = new Set<unknown>();
  collect(result, returned, 0);
  for (const t of [...frame.tensors]) {
    if (returned.has(t)) {
      t._scope = frame.parent ?? null;
      frame.parent?.tensors.add(t);
    } else if (!t.isDisposed) {
      t.dispose();
    }
  }
  frame.tensors.clear();
}

/**
 * Runs fn and frees every tensor created inside it that fn does not return (in an array or
 * plain object counts too). Works across await: pass an async function and await the result.
 */
export function scope<T>(fn: () => T): T {
  const frame: ScopeFrame = { tensors: new Set(), parent: scopes.getStore() };
  const result = scopes.run(frame, fn);
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
  /** Live native allocations and their bytes. */
  allocations: number;
  bytes: number;
  peakBytes: number;
}

export interface MemoryInfo extends DeviceMemory {
  devices: DeviceMemory[];
}

/** Live tensors and native bytes; the top-level numbers are the CPU's. */
export function memory(): MemoryInfo {
  const devices: DeviceMemory[] = native.memoryStats().map((s) => {
    const device = deviceFromId(s.device);
    return { device, tensors: liveTensors.get(device) ?? 0, allocations: s.count, bytes: s.bytes, peakBytes: s.peakBytes };
  });
  const cpu = devices.find((d) => d.device === 'cpu')!;
  return { ...cpu, devices };
}
