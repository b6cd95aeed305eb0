/**
 * Shape ops. reshape/transpose/permute/expand/squeeze/unsqueeze/narrow/select/slice return
 * views sharing storage when the layout allows; cat/stack/clone copy.
 */
import { record, traceOp } from '../autograd/engine.js';
import { type DType, isFloating, promoteTypes } from '../dtype.js';
import { check, checkInt, shapeStr } from '../errors.js';
import { native } from '../native.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes, checkShape, contiguous, contiguousStrides, disposeTemp, empty, normDim, sizeOf, splitAt } from './util.js';

function view(x: Tensor, shape: number[], strides: number[], offset: number): Tensor {
  x._checkAlive('view');
  const out = new Tensor(x.storage, shape, strides, offset);
  out._base = x._base ?? x;
  return out;
}

/** Resolves one -1 in a requested shape. */
function inferShape(shape: readonly number[], numel: number): number[] {
  const out = [...shape];
  const minus = out.indexOf(-1);
  check(out.lastIndexOf(-1) === minus, 'shape: only one dim can be -1');
  if (minus >= 0) {
    const rest = sizeOf(out.filter((_, i) => i !== minus));
    check(rest > 0 && numel % rest === 0, () => `shape: ${shapeStr(shape)} is invalid for a tensor of ${numel} elements`);
    out[minus] = numel / rest;
  }
  checkShape(out);
  check(sizeOf(out) === numel, () => `shape: ${shapeStr(shape)} is invalid for a tensor of ${numel} elements`);
  return out;
}

/** Strides for viewing x as `shape` without a copy, or null when the layout does not allow it. */
function viewStrides(x: Tensor, shape: number[]): number[] | null {
  if (x.isContiguous()) return contiguousStrides(shape);
  // merge x's dims into contiguous chunks, then split each chunk into the new dims (PyTorch's rule)
  const newStrides = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = x.strides[x.ndim - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = x.ndim - 1; d >= 0; d--) {
    tensorNumel *= x.shape[d];
    if (d === 0 || (x.shape[d - 1] !== 1 && x.strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        newStrides[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = x.strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return newStrides;
}

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  check(Array.isArray(shape), 'shape: expected an array of integers');
  const target = inferShape(shape, x.numel);
  const strides = viewStrides(x, target);
  let out: Tensor;
  if (strides !== null) out = view(x, target, strides, x.offset);
  else {
    const c = contiguous(x);
    out = view(c, target, contiguousStrides(target), c.offset);
    c.dispose();
  }
  return record(out, 'reshape', [x], { shape: [...x.shape] });
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim(startDim, x.ndim, 'startDim');
  const e = normDim(endDim, x.ndim, 'endDim');
  check(s <= e, 'flatten: startDim must not come after endDim');
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  check(Array.isArray(dims) && dims.length === x.ndim, () => `dims: expected a permutation of ${x.ndim} dims, got ${shapeStr(dims ?? [])}`);
  const norm = dims.map((d) => normDim(d, x.ndim, 'dims'));
  check(new Set(norm).size === norm.length, () => `dims: ${shapeStr(dims)} repeats a dim`);
  const out = view(x, norm.map((d) => x.shape[d]), norm.map((d) => x.strides[d]), x.offset);
  return record(out, 'permute', [x], { dims: norm });
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const perm = Array.from({ length: x.ndim }, (_, i) => i);
  const a = normDim(dim0, x.ndim, 'dim0');
  const b = normDim(dim1, x.ndim, 'dim1');
  [perm[a], perm[b]] = [perm[b], perm[a]];
  return permute(x, perm);
}

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  check(Array.isArray(shape) && shape.length >= x.ndim, () => `shape: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape ?? [])}`);
  const target = shape.map((d, i) => (d === -1 ? (x.shape[i - (shape.length - x.ndim)] ?? -1) : d));
  checkShape(target);
  const b = broadcastShapes(x.shape, target, 'expand');
  check(b.every((d, i) => d === target[i]), () => `expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  const lead = target.length - x.ndim;
  const strides = target.map((d, i) => (i < lead || x.shape[i - lead] !== d ? 0 : x.strides[i - lead]));
  const out = view(x, target, strides, x.offset);
  return record(out, 'expand', [x], { shape: [...x.shape] });
}

export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normDim(dim, x.ndim);
  if (x.shape[d] !== 1) return reshape(x, [...x.shape]);
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim(dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/** Elements start..start+length-1 of dim, as a view. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim(dim, x.ndim);
  checkInt(start, 'start');
  checkInt(length, 'length');
  const size = x.shape[d];
  const s = start < 0 ? start + size : start;
  check(s >= 0 && length >= 0 && s + length <= size, () => `narrow: start ${start} and length ${length} are out of range for dim ${d} of size ${size}`);
  return slice(x, d, s, s + length, 1);
}

/** x[..., start:end:step, ...] on dim, as a view (Python slice semantics, step > 0). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  const d = normDim(dim, x.ndim);
  checkInt(step, 'step');
  check(step > 0, () => `step: expected a positive integer, got ${step}`);
  const size = x.shape[d];
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const s = clampIdx(start);
  const e = clampIdx(end ?? size);
  const len = e > s ? Math.ceil((e - s) / step) : 0;
  const shape = [...x.shape];
  shape[d] = len;
  const strides = [...x.strides];
  strides[d] = x.strides[d] * step;
  const out = view(x, shape, strides, x.offset + (len > 0 ? s * x.strides[d] : 0));
  return record(out, 'slice', [x], { dim: d, start: s, step, length: len });
}

/** x[..., index, ...] on dim: a view with that dim removed. */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim(dim, x.ndim);
  checkInt(index, 'index');
  const size = x.shape[d];
  const i = index < 0 ? index + size : index;
  check(i >= 0 && i < size, () => `index: ${index} is out of range for dim ${d} of size ${size}`);
  return squeeze(slice(x, d, i, i + 1, 1), d);
}

export function clone(x: Tensor): Tensor {
  const out = empty(x.shape, x.dtype, x.device);
  native.stridedCopy(out.storage.handle, 0, x.storage.handle, x.offset, [...x.shape], [...x.strides]);
  return record(out, 'identity', [x]);
}

/** x laid out contiguously (x itself when it already is). */
export function makeContiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : clone(x);
}

/**
 * Writes src (shape [outer, k, inner], contiguous) into dst along the middle axis at rows
 * start, start+step, ... Used by the backward of slicing; dst is a fresh zeroed tensor.
 */
export function placeRows(dst: Tensor, d: number, src: Tensor, start: number, step: number): void {
  const [outer, n, inner] = splitAt(dst.shape, d);
  const k = src.shape.length === 0 ? 1 : src.shape[d];
  if (k === 0 || outer * inner === 0) return;
  const idx = empty([k], 'int32', dst.device);
  const rows = new Int32Array(k);
  for (let j = 0; j < k; j++) rows[j] = start + j * step;
  native.write(idx.storage.handle, 0, rows);
  const sc = contiguous(src);
  native.indexAdd(dst.storage.handle, dst.offset, sc.storage.handle, sc.offset, idx.storage.handle, 0, outer, n, inner, k);
  disposeTemp(sc, src);
  idx.dispose();
}

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  check(Array.isArray(tensors) && tensors.length > 0, 'tensors: expected a non-empty array of tensors');
  for (const t of tensors) check(t instanceof Tensor, 'tensors: expected an array of tensors');
  const first = tensors[0];
  check(first.ndim > 0, 'cat: zero-dimensional tensors cannot be concatenated (use stack)');
  const d = normDim(dim, first.ndim);
  for (const [i, t] of tensors.entries()) {
    check(t.ndim === first.ndim && t.shape.every((s: number, j: number) => j === d || s === first.shape[j]),
      () => `tensors[${i}]: shape ${shapeStr(t.shape)} does not match ${shapeStr(first.shape)} except in dim ${d}`);
    check(t.device === first.device, () => `tensors[${i}]: on ${t.device}, expected ${first.device}`);
  }
  // bool parts stay bool; otherwise the promoted dtype of all parts, bool counting as int32
  // (int32 parts stay int32, exact, only among themselves and bools)
  const dtype = tensors.reduce<DType>((d, t) => promoteTypes(d, t.dtype), first.dtype);
  const parts = tensors.map((t) => (t.dtype === dtype ? t : castTo(t, dtype)));
  const shape = [...first.shape];
  shape[d] = parts.reduce((s, t) => s + t.shape[d], 0);
  const out = empty(shape, dtype, first.device);
  // each part is one strided copy into its slab of out, read in its own layout (no contiguous
  // copy, no zero fill)
  const outStrides = contiguousStrides(shape);
  let start = 0;
  for (const p of parts) {
    if (p.numel > 0) {
      native.copyStrided(out.storage.handle, start * outStrides[d], p.storage.handle, p.offset, p.shape, outStrides, p.strides);
    }
    start += p.shape[d];
  }
  parts.forEach((p, i) => p !== tensors[i] && p.dispose());
  if (!isFloating(dtype)) return traceOp(out, 'cat', [...tensors], { dim: d });
  return record(out, 'cat', [...tensors], { dim: d, sizes: tensors.map((t) => t.shape[d]) });
}

export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  check(Array.isArray(tensors) && tensors.length > 0, 'tensors: expected a non-empty array of tensors');
  for (const t of tensors) check(t instanceof Tensor, 'tensors: expected an array of tensors');
  const d = normDim(dim, tensors[0].ndim + 1);
  for (const [i, t] of tensors.entries()) {
    check(t instanceof Tensor && t.shape.length === tensors[0].shape.length && t.shape.every((s: number, j: number) => s === tensors[0].shape[j]),
      () => `tensors[${i}]: all tensors must have the same shape`);
  }
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** A view sharing storage, outside the graph (not a view for autograd: in-place writes through it are not checked). */
export function detach(x: Tensor): Tensor {
  const out = view(x, [...x.shape], [...x.strides], x.offset);
  out._base = null;
  return out;
}

/**
 * Converts between float32, float64, int32 and bool: float to int toward zero (as PyTorch),
 * anything -> bool is `!= 0`, bool -> a number type gives 0 and 1. A cast between float dtypes is
 * recorded: its gradient is cast back.
 */
export function castTo(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  if (dtype === 'bool') {
    // x != 0 as a float mask, then its 0/1 into an int32-backed bool storage
    const src = isFloating(x.dtype) ? x : castTo(x, 'float32');
    const mask = src.ne(0);
    if (src !== x) src.dispose();
    const out = empty(x.shape, 'bool', x.device);
    native.cast(out.storage.handle, 0, mask.storage.handle, mask.offset, x.numel);
    mask.dispose();
    return out;
  }
  const xc = contiguous(x);
  const out = empty(x.shape, dtype, x.device);
  if (x.dtype === 'bool' && dtype === 'int32') {
    // both are int32 words natively: a plain copy
    if (x.numel > 0) native.copy(out.storage.handle, 0, xc.storage.handle, xc.offset, x.numel);
  } else {
    native.cast(out.storage.handle, 0, xc.storage.handle, xc.offset, x.numel);
  }
  disposeTemp(xc, x);
  return traceOp(isFloating(dtype) && isFloating(x.dtype) ? record(out, 'cast', [x]) : out, 'cast', [x], { dtype });
}
