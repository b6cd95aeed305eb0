/** Reductions over dims: sum, mean, max, min, argmax, argmin, var, std, logsumexp; sumTo. */
import { record, traceOp } from '../autograd/engine.js';
import { isFloating } from '../dtype.js';
import { check, shapeStr } from '../errors.js';
import { ReduceOp, type ReduceOpName, native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { checkTensor, contiguous, disposeTemp, empty, normDim, splitAt } from './util.js';

export type Dims = number | number[] | undefined | null;

/** Sorted, de-duplicated, non-negative dims; all dims when none are given. */
export function normDims(dims: Dims, ndim: number): number[] {
  if (dims === undefined || dims === null) return Array.from({ length: ndim }, (_, i) => i);
  const list = Array.isArray(dims) ? dims : [dims];
  const out = [...new Set(list.map((d) => normDim(d, ndim)))].sort((a, b) => a - b);
  return out;
}

function reducedShape(shape: readonly number[], dims: number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!dims.includes(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** One native reduction over one dim, keeping it as size 1. */
function reduceOneDim(x: Tensor, op: ReduceOpName, d: number): Tensor {
  const xc = contiguous(x);
  const [outer, n, inner] = splitAt(xc.shape, d);
  const shape = [...xc.shape];
  if (shape.length > 0) shape[d] = 1;
  const arg = op === 'argmax' || op === 'argmin';
  const out = empty(shape, arg ? 'int32' : x.dtype, x.device);
  native.reduce(ReduceOp[op], out.storage.handle, 0, xc.storage.handle, xc.offset, outer, n, inner);
  disposeTemp(xc, x);
  return out;
}

/** Reduction over several dims without recording (sum/mean/max/min compose dim by dim). */
export function reduceRaw(x: Tensor, op: 'sum' | 'mean' | 'max' | 'min', dims: number[], keepdim: boolean): Tensor {
  check(isFloating(x.dtype) || op === 'sum' || op === 'max' || op === 'min', () => `${op}: expected a float32 or float64 tensor, got ${x.dtype}`);
  // int32 stays int32 (PyTorch keeps integer sums and extrema integral): the native int32
  // reduction accumulates sums in int64, exact whenever the result fits in int32
  if (op !== 'sum') {
    for (const d of dims) check(x.shape[d] > 0, () => `${op}: cannot reduce over dim ${d} of size 0 (shape ${shapeStr(x.shape)})`);
  }
  let cur = x;
  if (dims.length === 0 && x.ndim === 0) cur = reduceOneDim(x, op, 0);
  // the innermost dims first, so every step reads a contiguous input
  for (let i = dims.length - 1; i >= 0; i--) {
    const next = reduceOneDim(cur, op, dims[i]);
    if (cur !== x) cur.dispose();
    cur = next;
  }
  if (cur === x) cur = x.clone();
  const shape = reducedShape(x.shape, dims, keepdim);
  const out = cur.reshape(shape);
  if (out !== cur) cur.dispose();
  return out;
}

export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  checkTensor(x, 'input');
  const dims = normDims(dim, x.ndim);
  const out = reduceRaw(x, 'sum', dims, keepdim);
  return record(out, 'sum', [x], { dims, keepdim });
}

export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  checkTensor(x, 'input');
  const dims = normDims(dim, x.ndim);
  const out = reduceRaw(x, 'mean', dims, keepdim);
  return record(out, 'mean', [x], { dims, keepdim });
}

/** Max over one dim (or all elements) of a float32 tensor; returns the values. */
export function max(x: Tensor, dim?: number, keepdim = false): Tensor {
  return extremum(x, 'max', dim, keepdim);
}

export function min(x: Tensor, dim?: number, keepdim = false): Tensor {
  return extremum(x, 'min', dim, keepdim);
}

function extremum(x: Tensor, op: 'max' | 'min', dim: number | undefined, keepdim: boolean): Tensor {
  checkTensor(x, 'input');
  if (dim === undefined || dim === null) {
    const flat = x.reshape([x.numel]);
    const out = extremum(flat, op, 0, false);
    return keepdim ? out.reshape(x.shape.map(() => 1)) : out;
  }
  const d = normDim(dim, x.ndim);
  const out = reduceRaw(x, op, [d], keepdim);
  if (!x.requiresGrad) return traceOp(out, 'maxmin', [x], { dim: d, keepdim, op });
  const index = argReduce(x, op === 'max' ? 'argmax' : 'argmin', d, true);
  return record(out, 'maxmin', [x], { dim: d, keepdim, index, op }, 0, [index]);
}

function argReduce(x: Tensor, op: 'argmax' | 'argmin', d: number, keepdim: boolean): Tensor {
  checkTensor(x, 'input');
  check(x.shape.length === 0 || x.shape[d] > 0, () => `${op}: cannot reduce over an empty dim`);
  const r = traceOp(reduceOneDim(x, op, d), 'argReduce', [x], { op, dim: d });
  if (keepdim) return r;
  const out = r.reshape(reducedShape(x.shape, [d], false));
  if (out !== r) r.dispose();
  return out;
}

/** Index of the max (first one on ties) along dim, or over all elements when dim is omitted. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  checkTensor(x, 'input');
  if (dim === undefined || dim === null) return argReduce(x.reshape([x.numel]), 'argmax', 0, false);
  return argReduce(x, 'argmax', normDim(dim, x.ndim), keepdim);
}

export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  checkTensor(x, 'input');
  if (dim === undefined || dim === null) return argReduce(x.reshape([x.numel]), 'argmin', 0, false);
  return argReduce(x, 'argmin', normDim(dim, x.ndim), keepdim);
}

/** Variance with Bessel's correction when unbiased (PyTorch's default). */
export function variance(x: Tensor, dim?: Dims, { unbiased = true, keepdim = false } = {}): Tensor {
  const dims = normDims(dim, x.ndim);
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const centered = x.sub(mean(x, dims, true));
  const ss = sum(centered.square(), dims, keepdim);
  return ss.div(Math.max(unbiased ? n - 1 : n, 0));
}

export function std(x: Tensor, dim?: Dims, opts: { unbiased?: boolean; keepdim?: boolean } = {}): Tensor {
  return variance(x, dim, opts).sqrt();
}

/** log(sum(exp(x))) over dim, computed stably. */
export function logsumexp(x: Tensor, dim: number, keepdim = false): Tensor {
  checkTensor(x, 'input');
  const d = normDim(dim, x.ndim);
  // constant shift: no gradient needed through it (traced for export all the same)
  const m = traceOp(reduceRaw(x, 'max', [d], true), 'maxmin', [x], { dim: d, keepdim: true, op: 'max' });
  const out = x.sub(m).exp().sum(d, true).log().add(m);
  return keepdim ? out : out.squeeze(d);
}

/** Sums a broadcast gradient back to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = sum(g, dims, true);
  return s.reshape([...shape]);
}
