/** Reductions over dims: sum, mean, max, min, argmax, argmin, var, std, logsumexp; sumTo. */
import { noGrad, record, traceOp } from '../autograd/engine.js';
import { isFloating } from '../dtype.js';
import { check, checkFinite, shapeStr } from '../errors.js';
import { checkOptions } from '../options.js';
import { ReduceOp, type ReduceOpName, native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { castTo } from './shape.js';
import { castRaw, viaFloat32 } from './bf16.js';
import { checkTensor, contiguous, disposeTemp, empty, normDim } from './util.js';

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
  return reduceDimRun(x, op, d, d);
}

/**
 * One native reduction over the adjacent dims first..last of a contiguous tensor (one run of
 * n = their product), keeping each as size 1: batch norm's [N, C, H, W] over H and W is one
 * pass over rows of H * W rather than a pass over rows of W and another over H.
 */
function reduceDimRun(x: Tensor, op: ReduceOpName, first: number, last: number): Tensor {
  if (x.dtype === 'bfloat16') return bf16Reduce(x, (w) => reduceDimRun(w, op, first, last));
  const xc = contiguous(x);
  const size = (from: number, to: number) => xc.shape.slice(from, to).reduce((p, s) => p * s, 1);
  const shape = [...xc.shape];
  for (let d = first; d <= last && d < shape.length; d++) shape[d] = 1;
  const arg = op === 'argmax' || op === 'argmin';
  const out = empty(shape, arg ? 'int32' : x.dtype, x.device);
  native.reduce(ReduceOp[op], out.storage.handle, 0, xc.storage.handle, xc.offset,
    size(0, first), size(first, last + 1), size(last + 1, xc.ndim));
  disposeTemp(xc, x);
  return out;
}

/** f on x widened to float32 (outside the graph); a float32 result is rounded back to bfloat16. */
function bf16Reduce(x: Tensor, f: (wide: Tensor) => Tensor): Tensor {
  const w = castRaw(x, 'float32');
  const y = f(w);
  w.dispose();
  if (y.dtype !== 'float32') return y;
  const out = castRaw(y, 'bfloat16');
  y.dispose();
  return out;
}

/** Reduction over several dims without recording (sum/mean/max/min compose dim by dim). */
export function reduceRaw(x: Tensor, op: 'sum' | 'mean' | 'max' | 'min', dims: number[], keepdim: boolean): Tensor {
  check(isFloating(x.dtype) || op === 'sum' || op === 'max' || op === 'min', () => `${op}: expected a float32 or float64 tensor, got ${x.dtype}`);
  // bfloat16: accumulated in float32 over every dim, rounded once
  if (x.dtype === 'bfloat16') return bf16Reduce(x, (w) => reduceRaw(w, op, dims, keepdim));
  // int32 stays int32 (PyTorch keeps integer sums and extrema integral): the native int32
  // reduction accumulates sums in int64, exact whenever the result fits in int32
  if (op !== 'sum') {
    for (const d of dims) check(x.shape[d] > 0, () => `${op}: cannot reduce over dim ${d} of size 0 (shape ${shapeStr(x.shape)})`);
  }
  // a bool sum counts (int32, as PyTorch's int64); bool max/min stay bool
  const src = x.dtype === 'bool' && op === 'sum' ? castTo(x, 'int32') : x;
  let cur = src;
  if (dims.length === 0 && x.ndim === 0) cur = reduceOneDim(src, op, 0);
  // the innermost run of adjacent dims first, so every step reads a contiguous input
  for (let i = dims.length - 1; i >= 0;) {
    let j = i;
    while (j > 0 && dims[j - 1] === dims[j] - 1) j--;
    const next = reduceDimRun(cur, op, dims[j], dims[i]);
    if (cur !== x) cur.dispose();
    cur = next;
    i = j - 1;
  }
  if (cur === x) cur = x.clone();
  else if (src !== x && src !== cur) src.dispose();
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
  // the gradient scatters through the index (a float32 kernel): the op runs on the widened tensor
  if (x.dtype === 'bfloat16' && x.requiresGrad) return viaFloat32([x], (w) => extremum(w, op, dim, keepdim));
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

export interface VarOptions {
  /** Divide by n - correction (default 1, Bessel's); PyTorch's newer name for unbiased. */
  correction?: number;
  /** true: correction 1, false: 0 (the older name; not with correction). */
  unbiased?: boolean;
  keepdim?: boolean;
}

function correctionOf(opts: VarOptions, what: string): number {
  checkOptions(opts, ['correction', 'unbiased', 'keepdim'], what);
  check(!(opts.correction !== undefined && opts.unbiased !== undefined), () => `${what}: pass correction or unbiased, not both`);
  if (opts.unbiased !== undefined) check(typeof opts.unbiased === 'boolean', 'unbiased: expected a boolean');
  const c = opts.correction ?? (opts.unbiased === false ? 0 : 1);
  checkFinite(c, 'correction');
  check(c >= 0, () => `correction: expected a non-negative number, got ${c}`);
  return c;
}

/** Variance over dims dividing by n - correction (Bessel's correction, 1, by default). */
export function variance(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  checkTensor(x, 'input');
  if (x.dtype === 'bfloat16') return viaFloat32([x], (w) => variance(w, dim, opts));
  const correction = correctionOf(opts, 'var');
  const keepdim = opts.keepdim ?? false;
  const dims = normDims(dim, x.ndim);
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const centered = x.sub(mean(x, dims, true));
  const ss = sum(centered.square(), dims, keepdim);
  // n - correction <= 0 gives inf or NaN, as PyTorch
  return ss.div(Math.max(n - correction, 0));
}

export function std(x: Tensor, dim?: Dims, opts: VarOptions = {}): Tensor {
  if (x?.dtype === 'bfloat16') return viaFloat32([x], (w) => std(w, dim, opts));
  correctionOf(opts, 'std');
  return variance(x, dim, opts).sqrt();
}

/**
 * The p-norm over dims (all when omitted): p 2 ('fro'), any positive p, Infinity (max |x|),
 * -Infinity (min |x|), 0 (count of nonzeros). The 2-norm's gradient is 0 where the norm is 0
 * (PyTorch's subgradient), not NaN.
 */
export function norm(x: Tensor, p: number | 'fro' = 2, dim?: Dims, keepdim = false): Tensor {
  checkTensor(x, 'input');
  if (x.dtype === 'bfloat16') return viaFloat32([x], (w) => norm(w, p, dim, keepdim));
  check(x.dtype === 'float32', () => `norm: expected a float32 or bfloat16 tensor, got ${x.dtype}`);
  const pv = p === 'fro' ? 2 : p;
  check(typeof pv === 'number' && !Number.isNaN(pv), () => `p: expected a number or 'fro', got ${String(p)}`);
  const dims = normDims(dim, x.ndim);
  if (pv === Infinity || pv === -Infinity) {
    let a = x.abs();
    for (const d of [...dims].reverse()) a = pv > 0 ? a.max(d, true) : a.min(d, true);
    return keepdim ? a : a.reshape(reducedShape(x.shape, dims, false));
  }
  if (pv === 0) return sum(x.ne(0), dims, keepdim);
  check(pv > 0, () => `p: expected a positive number, Infinity, -Infinity or 0, got ${pv}`);
  if (pv === 2) {
    const y = noGrad(() => {
      const sq = x.square();
      const s = sum(sq, dims, keepdim);
      const r = s.sqrt();
      sq.dispose();
      s.dispose();
      return r;
    });
    return record(y, 'norm2', [x], { dims, keepdim, out: y }, 1, null, [y]);
  }
  return sum(x.abs().pow(pv), dims, keepdim).pow(1 / pv);
}

/** log(sum(exp(x))) over dim, computed stably. */
export function logsumexp(x: Tensor, dim: number, keepdim = false): Tensor {
  checkTensor(x, 'input');
  if (x.dtype === 'bfloat16') return viaFloat32([x], (w) => logsumexp(w, dim, keepdim));
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
