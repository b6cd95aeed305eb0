/**
 * Host-side data: items made of typed arrays, and their collation into batches of plain typed
 * arrays. This is what DataLoader workers produce (they cannot make Kiln tensors); the main
 * thread turns each batch leaf into one tensor. No tensor dependency.
 *
 * An item is a number, a typed array (a 1-D row), a HostTensor ({ data, shape }), or an array
 * or plain object of these. A batch of B items has one leaf per position: numbers -> [B]
 * (int32 when all are integers that fit, else float32), typed arrays of length L -> [B, L],
 * HostTensors of shape S -> [B, ...S]. Float32Array/Float64Array give float32, integer arrays
 * give int32 (exact).
 */
import { KilnError } from '../errors.js';

export type HostArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint8ClampedArray;

/** An array with a shape: what a host item transform takes and returns. */
export interface HostTensor {
  data: HostArray;
  shape: number[];
}

/** A collated batch leaf, as sent from a worker: becomes one tensor on the main thread. */
export interface BatchLeaf {
  kilnLeaf: true;
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Where collation takes its output arrays from (a worker reuses returned buffers). */
export type Allocator = (dtype: 'float32' | 'int32', length: number) => Float32Array | Int32Array;

export const freshArrays: Allocator = (dtype, n) => (dtype === 'float32' ? new Float32Array(n) : new Int32Array(n));

function isHostArray(v: unknown): v is HostArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array);
}

/** A HostTensor, checked: the shape's product must equal the data length. */
export function hostTensor(data: HostArray, shape: readonly number[]): HostTensor {
  if (!isHostArray(data)) throw new KilnError('hostTensor: data must be a typed array (Float32Array, Int32Array, Uint8Array, ...)');
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new KilnError(`hostTensor: shape must be an array of non-negative integers, got ${String(shape)}`);
  }
  const n = shape.reduce((a, d) => a * d, 1);
  if (n !== data.length) throw new KilnError(`hostTensor: shape [${shape.join(', ')}] holds ${n} values, data has ${data.length}`);
  return { data, shape: [...shape] };
}

export function isHostTensor(v: unknown): v is HostTensor {
  return v !== null && typeof v === 'object' && isHostArray((v as HostTensor).data) && Array.isArray((v as HostTensor).shape);
}

export function isBatchLeaf(v: unknown): v is BatchLeaf {
  return v !== null && typeof v === 'object' && (v as BatchLeaf).kilnLeaf === true;
}

/** True when collateHost handles this item value as a leaf (a typed array or HostTensor). */
export function isHostLeafItem(v: unknown): boolean {
  return isHostArray(v) || isHostTensor(v);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v !== 'object') return typeof v;
  return (v as object).constructor?.name ?? 'object';
}

/** Stack same-shaped typed arrays / HostTensors into one leaf. */
export function collateLeaf(items: unknown[], alloc: Allocator, where = 'item'): BatchLeaf {
  const first = items[0];
  const shape0 = isHostTensor(first) ? first.shape : [(first as HostArray).length];
  const per = shape0.reduce((a, d) => a * d, 1);
  const float = isHostTensor(first) ? isFloat(first.data) : isFloat(first as HostArray);
  const out = alloc(float ? 'float32' : 'int32', items.length * per);
  items.forEach((x, b) => {
    const ht = isHostTensor(x) ? x : isHostArray(x) ? { data: x, shape: [x.length] } : null;
    if (ht === null) throw new KilnError(`collate: ${where} ${b} is a ${describe(x)}, item 0 a typed array`);
    if (isFloat(ht.data) !== float) throw new KilnError(`collate: ${where} ${b} is ${ht.data.constructor.name}, item 0 ${float ? 'float' : 'integer'} data: a batch needs one kind`);
    if (ht.shape.length !== shape0.length || ht.shape.some((d, k) => d !== shape0[k])) {
      throw new KilnError(`collate: ${where} ${b} has shape [${ht.shape.join(', ')}], item 0 [${shape0.join(', ')}]: items of a batch need one shape`);
    }
    out.set(ht.data, b * per);
  });
  return { kilnLeaf: true, dtype: float ? 'float32' : 'int32', shape: [items.length, ...shape0], data: out };
}

function isFloat(a: HostArray): boolean {
  return a instanceof Float32Array || a instanceof Float64Array;
}

/**
 * Collate host items into a batch of leaves (see the module comment). Anything else (a Kiln
 * Tensor in a worker, a class instance, a string) is a KilnError naming where it was.
 */
export function collateHost(items: unknown[], alloc: Allocator = freshArrays, where = 'item'): unknown {
  if (items.length === 0) throw new KilnError('collate: empty batch');
  const first = items[0];
  if (typeof first === 'number') {
    if (!items.every((x) => typeof x === 'number')) throw new KilnError(`collate: ${where}: a batch mixes numbers and other values`);
    const nums = items as number[];
    const isInt = nums.every((x) => Number.isInteger(x) && Math.abs(x) <= 2147483647);
    const out = alloc(isInt ? 'int32' : 'float32', nums.length);
    for (let i = 0; i < nums.length; i++) out[i] = nums[i];
    return { kilnLeaf: true, dtype: isInt ? 'int32' : 'float32', shape: [nums.length], data: out } satisfies BatchLeaf;
  }
  if (isHostLeafItem(first)) return collateLeaf(items, alloc, where);
  if (Array.isArray(first)) {
    const len = first.length;
    if (!items.every((x) => Array.isArray(x) && x.length === len)) throw new KilnError(`collate: ${where}: items are arrays of different lengths`);
    return first.map((_, k) => collateHost(items.map((x) => (x as unknown[])[k]), alloc, `${where}[${k}]`));
  }
  if (isPlain(first)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(first)) out[key] = collateHost(items.map((x) => (x as Record<string, unknown>)[key]), alloc, `${where}.${key}`);
    return out;
  }
  const kind = describe(first);
  const hint = kind === 'Tensor'
    ? ': Kiln tensors cannot be made in DataLoader workers yet; return typed arrays, numbers or { data, shape } from get()'
    : ': items may hold numbers, typed arrays, { data, shape } objects, arrays and plain objects of these';
  throw new KilnError(`collate: ${where} is a ${kind}${hint}`);
}

/** Every ArrayBuffer behind the leaves of a batch (what a worker transfers). */
export function leafBuffers(batch: unknown, out: ArrayBuffer[] = []): ArrayBuffer[] {
  if (isBatchLeaf(batch)) {
    if (batch.data.buffer instanceof ArrayBuffer && !out.includes(batch.data.buffer)) out.push(batch.data.buffer);
  } else if (Array.isArray(batch)) {
    for (const x of batch) leafBuffers(x, out);
  } else if (isPlain(batch)) {
    for (const x of Object.values(batch)) leafBuffers(x, out);
  }
  return out;
}
