/** Shape arithmetic and small helpers shared by the ops. */
import type { Device } from '../device.js';
import { type DType, isFloating } from '../dtype.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { Storage } from '../memory.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

export function checkShape(shape: unknown, name = 'shape'): number[] {
  check(Array.isArray(shape), () => `${name}: expected an array of non-negative integers, got ${String(shape)}`);
  for (const d of shape as unknown[]) {
    check(Number.isInteger(d) && (d as number) >= 0, () => `${name}: expected non-negative integers, got ${shapeStr(shape as number[])}`);
  }
  check(shape.length <= 8, () => `${name}: at most 8 dims are supported, got ${shape.length}`);
  return [...(shape as number[])];
}

/** Normalises a possibly negative dim into [0, ndim). */
export function normDim(dim: number, ndim: number, name = 'dim'): number {
  check(Number.isInteger(dim), () => `${name}: expected an integer, got ${String(dim)}`);
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  check(dim >= lo && dim <= hi, () => `${name}: ${dim} is out of range for a tensor with ${ndim} dims (expected ${lo}..${hi})`);
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], what = 'operands'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new KilnError(`${what}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast together (dim ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read t as if broadcast to `shape` (0 on broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const n = shape.length;
  const off = n - t.shape.length;
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < t.shape.length; i++) {
    out[off + i] = t.shape[i] === 1 && shape[off + i] !== 1 ? 0 : t.strides[i];
  }
  return out;
}

export function empty(shape: readonly number[], dtype: DType, device: Device): Tensor {
  const s = [...shape];
  return new Tensor(Storage.allocate(device, dtype, sizeOf(s)), s, contiguousStrides(s), 0);
}

/** t itself when it is laid out contiguously, else a contiguous copy. */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  const out = empty(t.shape, t.dtype, t.device);
  native.stridedCopy(out.storage.handle, 0, t.storage.handle, t.offset, [...t.shape], [...t.strides]);
  return out;
}

/** Disposes `tmp` unless it is `keep` (used after contiguous()). */
export function disposeTemp(tmp: Tensor, keep: Tensor): void {
  if (tmp !== keep) tmp.dispose();
}

export function checkSameDevice(a: Tensor, b: Tensor, what: string): void {
  check(a.device === b.device, () => `${what}: tensors are on different devices (${a.device} and ${b.device})`);
}

/** Rejects non-tensors (a string, a plain array) with the argument's name, before any property access. */
export function checkTensor(t: unknown, name: string): asserts t is Tensor {
  check(t instanceof Tensor, () => `${name}: expected a Tensor, got ${t === null ? 'null' : Array.isArray(t) ? 'an array' : typeof t}`);
}

export function checkFloat(t: Tensor, name: string): void {
  checkTensor(t, name);
  check(t.dtype === 'float32', () => `${name}: expected a float32 tensor, got ${t.dtype}` +
    (t.dtype === 'float64' ? ' (this op is float32 only; float64 covers elementwise math, reductions, softmax, matmul and linalg)' : '') +
    (t.dtype === 'bfloat16' ? ' (this op has no bfloat16 path; compute it in float32 with float())' : ''));
}

/** float32 or float64 (the ops that have float64 kernels). */
export function checkFloating(t: Tensor, name: string): void {
  checkTensor(t, name);
  check(isFloating(t.dtype), () => `${name}: expected a float32, float64 or bfloat16 tensor, got ${t.dtype}`);
}

/** [outer, n, inner] view of dim d of a shape (see native/include/backend.h). */
export function splitAt(shape: readonly number[], d: number): [number, number, number] {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape.length === 0 ? 1 : shape[d], inner];
}
