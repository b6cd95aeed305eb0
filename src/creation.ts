/** Creating tensors: from data, constants, ranges and random distributions. */
import { traceOp } from './autograd/engine.js';
import { checkOptions } from './options.js';
import { type DeviceLike, parseDevice } from './device.js';
import { type DType, allocTyped, parseDType } from './dtype.js';
import { check, checkFinite, checkInt, shapeStr } from './errors.js';
import { native } from './native.js';
import { castTo } from './ops/shape.js';
import { checkShape, empty, sizeOf } from './ops/util.js';
import { takeCounters } from './random.js';
import type { Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: DeviceLike;
  requiresGrad?: boolean;
}

export type NestedArray = number | boolean | NestedArray[];

const TENSOR_KEYS = ['dtype', 'device', 'requiresGrad'];

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function inferShapeOf(data: NestedArray, shape: number[] = []): number[] {
  if (Array.isArray(data)) {
    shape.push(data.length);
    if (data.length > 0) inferShapeOf(data[0], shape);
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    check(!Array.isArray(data), () => `data: ragged nested array (expected shape ${shapeStr(shape)})`);
    check(typeof data === 'number' || typeof data === 'boolean', () => `data: expected numbers, got ${typeof data}`);
    out.push(Number(data));
    return;
  }
  check(Array.isArray(data) && data.length === shape[depth], () => `data: ragged nested array (expected shape ${shapeStr(shape)})`);
  for (const d of data as NestedArray[]) flattenInto(d, shape, depth + 1, out);
}

/** A tensor from nested arrays or a typed array (with opts.shape; default: 1-D). */
export function tensor(
  data: NestedArray | Float32Array | Int32Array | ArrayLike<number>,
  opts: TensorOptions & { shape?: number[] } = {},
): Tensor {
  checkOptions(opts, [...TENSOR_KEYS, 'shape'], 'tensor');
  const device = parseDevice(opts.device);
  let values: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  if (ArrayBuffer.isView(data)) {
    const view: unknown = data;
    check(view instanceof Float32Array || view instanceof Int32Array || view instanceof Float64Array || view instanceof Uint8Array,
      'data: expected a Float32Array, Int32Array, Float64Array or Uint8Array');
    values = data as ArrayLike<number>;
    dtype = opts.dtype ? parseDType(opts.dtype) : data instanceof Int32Array ? 'int32' : 'float32';
    shape = opts.shape ? checkShape(opts.shape) : [values.length];
    check(sizeOf(shape) === values.length, () => `shape: ${shapeStr(shape)} holds ${sizeOf(shape)} elements, data has ${values.length}`);
  } else {
    check(typeof data === 'number' || typeof data === 'boolean' || Array.isArray(data), 'data: expected a number, a nested array or a typed array');
    const inferred = inferShapeOf(data as NestedArray);
    const flat: number[] = [];
    flattenInto(data as NestedArray, inferred, 0, flat);
    values = flat;
    shape = opts.shape ? checkShape(opts.shape) : inferred;
    check(sizeOf(shape) === flat.length, () => `shape: ${shapeStr(shape)} holds ${sizeOf(shape)} elements, data has ${flat.length}`);
    dtype = opts.dtype ? parseDType(opts.dtype) : 'float32';
  }
  if (dtype === 'bfloat16') {
    // float32 data rounds once to bfloat16; any other numbers are taken as float64 and rounded
    // once from there (the native cast: nearest, ties to even)
    const wide = values instanceof Float32Array ? values : Float64Array.from(values);
    const tmp = empty(shape, wide instanceof Float32Array ? 'float32' : 'float64', device);
    if (wide.length > 0) native.write(tmp.storage.handle, 0, wide);
    const t = empty(shape, 'bfloat16', device);
    if (wide.length > 0) native.cast(t.storage.handle, 0, tmp.storage.handle, 0, wide.length);
    tmp.dispose();
    return finish(t, opts);
  }
  const t = empty(shape, dtype, device);
  let host: Float32Array | Int32Array | Float64Array;
  if (dtype === 'bool') {
    host = Int32Array.from(values, (v) => (v !== 0 ? 1 : 0)); // NaN counts as true, as in PyTorch
  } else if (dtype === 'int32') {
    host = values instanceof Int32Array ? values : Int32Array.from(values, (v) => Math.trunc(v));
  } else if (dtype === 'float64') {
    host = values instanceof Float64Array ? values : Float64Array.from(values);
  } else {
    host = values instanceof Float32Array ? values : Float32Array.from(values);
  }
  if (host.length > 0) native.write(t.storage.handle, 0, host);
  return finish(t, opts);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'full');
  const s = checkShape(shape);
  check(typeof value === 'number', () => `value: expected a number, got ${typeof value}`);
  const dtype = opts.dtype ? parseDType(opts.dtype) : 'float32';
  const t = empty(s, dtype, parseDevice(opts.device));
  if (t.numel > 0) native.fill(t.storage.handle, 0, t.numel, dtype === 'bool' ? Number(value !== 0) : value);
  return finish(t, opts);
}

export const zeros = (shape: readonly number[], opts: TensorOptions = {}) => full(shape, 0, opts);
export const ones = (shape: readonly number[], opts: TensorOptions = {}) => full(shape, 1, opts);

function likeOpts(t: Tensor, opts: TensorOptions): TensorOptions {
  checkOptions(opts, TENSOR_KEYS, 'zerosLike/onesLike/fullLike');
  return { dtype: opts.dtype ?? t.dtype, device: opts.device ?? t.device, requiresGrad: opts.requiresGrad };
}
export const zerosLike = (t: Tensor, opts: TensorOptions = {}) => full(t.shape, 0, likeOpts(t, opts));
export const onesLike = (t: Tensor, opts: TensorOptions = {}) => full(t.shape, 1, likeOpts(t, opts));
export const fullLike = (t: Tensor, value: number, opts: TensorOptions = {}) => full(t.shape, value, likeOpts(t, opts));

/**
 * The random generators draw float32 (Philox); a float64 request casts those draws (so its
 * values are float32 numbers held in float64, the same on every backend).
 */
function randomDType(opts: TensorOptions): 'float32' | 'float64' | 'bfloat16' {
  const d = opts.dtype === undefined ? 'float32' : parseDType(opts.dtype);
  check(d !== 'int32', 'dtype: random floats need float32, float64 or bfloat16 (randint draws int32)');
  return d as 'float32' | 'float64' | 'bfloat16';
}

function castDraw(t: Tensor, dtype: 'float32' | 'float64' | 'bfloat16'): Tensor {
  if (dtype === 'float32') return t;
  const out = castTo(t, dtype);
  t.dispose();
  return out;
}

/** Uniform on [low, high). */
export function uniform(shape: readonly number[], low = 0, high = 1, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'uniform');
  checkFinite(low, 'low');
  checkFinite(high, 'high');
  const dtype = randomDType(opts);
  const t = empty(checkShape(shape), 'float32', parseDevice(opts.device));
  const [seed, offset] = takeCounters(t.numel);
  if (t.numel > 0) native.randomUniform(t.storage.handle, 0, t.numel, seed, offset, low, high);
  // an export trace refuses draws its outputs need (onnx/ops.ts UNSUPPORTED_HINT)
  return finish(castDraw(traceOp(t, 'random', [], { distribution: 'uniform' }), dtype), opts);
}

export const rand = (shape: readonly number[], opts: TensorOptions = {}) => uniform(shape, 0, 1, opts);

/** Normal with the given mean and standard deviation. */
export function normal(shape: readonly number[], mean = 0, std = 1, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'normal');
  checkFinite(mean, 'mean');
  checkFinite(std, 'std');
  check(std >= 0, () => `std: expected a non-negative number, got ${std}`);
  const dtype = randomDType(opts);
  const t = empty(checkShape(shape), 'float32', parseDevice(opts.device));
  const [seed, offset] = takeCounters(t.numel);
  if (t.numel > 0) native.randomNormal(t.storage.handle, 0, t.numel, seed, offset, mean, std);
  return finish(castDraw(traceOp(t, 'random', [], { distribution: 'normal' }), dtype), opts);
}

export const randn = (shape: readonly number[], opts: TensorOptions = {}) => normal(shape, 0, 1, opts);

/** Integers uniform on [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'randint');
  checkInt(low, 'low');
  checkInt(high, 'high');
  check(high > low, () => `high: expected high > low, got low=${low} high=${high}`);
  check(high - low <= 1 << 24, 'randint: the range high - low must be at most 2^24');
  // truncation is floor on [0, high - low)
  const u = uniform(shape, 0, high - low, { device: opts.device });
  const k = u.int();
  u.dispose();
  if (low === 0) return k;
  const out = k.add(low);
  k.dispose();
  return out;
}

/** Values start, start+step, ... below end. Integer arguments give int32, as PyTorch's int64. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'arange');
  if (end === undefined) [start, end] = [0, start];
  checkFinite(start, 'start');
  checkFinite(end, 'end');
  checkFinite(step, 'step');
  check(step !== 0, 'step: must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = opts.dtype === undefined ? (allInt ? 'int32' : 'float32') : parseDType(opts.dtype);
  const host = allocTyped(dtype, n);
  for (let i = 0; i < n; i++) host[i] = start + i * step;
  // reported to an export trace, so a range sized from a dynamic axis follows it (ONNX Range)
  return traceOp(tensor(host, { ...opts, dtype, shape: [n] }), 'arange', [], { start, end, step, dtype });
}

export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'linspace');
  checkInt(steps, 'steps');
  check(steps >= 0, 'steps: expected a non-negative integer');
  const host = new Float64Array(steps);
  for (let i = 0; i < steps; i++) host[i] = steps === 1 ? start : start + ((end - start) * i) / (steps - 1);
  return tensor(host, { ...opts, dtype: opts.dtype ?? 'float32', shape: [steps] });
}

export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'eye');
  checkInt(n, 'n');
  checkInt(m, 'm');
  check(n >= 0 && m >= 0, 'eye: n and m must be non-negative');
  const host = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) host[i * m + i] = 1;
  return tensor(host, { ...opts, shape: [n, m] });
}

/** A random permutation of 0..n-1 (int32), drawn from the global generator. */
export function randperm(n: number, opts: TensorOptions = {}): Tensor {
  checkOptions(opts, TENSOR_KEYS, 'randperm');
  checkInt(n, 'n');
  check(n >= 0, 'n: expected a non-negative integer');
  const keys = uniform([n]);
  const k = keys.toTypedArray();
  keys.dispose();
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => k[a] - k[b] || a - b);
  return tensor(order, { ...opts, dtype: 'int32', shape: [n] });
}
