/** Scans and sorting along a dim: cumsum, cumprod, logcumsumexp, sort, argsort, topk. */
import { record } from '../autograd/engine.js';
import { check, checkInt } from '../errors.js';
import { ScanOp, type ScanOpName, native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { scatterAddInto } from './indexing.js';
import { castTo } from './shape.js';
import { anyBf16, viaFloat32 } from './bf16.js';
import { checkTensor, contiguous, disposeTemp, empty, normDim, splitAt } from './util.js';

/** The native scan along dim d, without recording. */
export function scanRaw(x: Tensor, op: ScanOpName, d: number, reverse: boolean): Tensor {
  const xc = contiguous(x);
  const [outer, n, inner] = splitAt(x.shape, d);
  const y = empty(x.shape, 'float32', x.device);
  native.scan(ScanOp[op], y.storage.handle, 0, xc.storage.handle, xc.offset, outer, n, inner, reverse);
  disposeTemp(xc, x);
  return y;
}

/** A recorded scan (its rule: rules.ts 'scan'). */
export function scanOp(x: Tensor, op: ScanOpName, d: number, reverse: boolean): Tensor {
  const y = scanRaw(x, op, d, reverse);
  return op === 'sum'
    ? record(y, 'scan', [x], { op, dim: d, reverse })
    : record(y, 'scan', [x], { op, dim: d, reverse, out: y }, 1, null, [y]);
}

function scanInput(x: Tensor, dim: number, what: string): [Tensor, number] {
  checkTensor(x, 'input');
  const d = normDim(dim, x.ndim);
  if (x.dtype === 'float32') return [x, d];
  // int32 / bool: float32 (exact up to 2^24), as PyTorch's int64 would not be here
  check(x.dtype === 'int32' || x.dtype === 'bool', () => `${what}: expected a numeric tensor, got ${x.dtype}`);
  return [castTo(x, 'float32'), d];
}

/** Running sum along dim (int32 and bool inputs give float32). */
export function cumsum(x: Tensor, dim: number): Tensor {
  if (anyBf16(x)) return viaFloat32([x], (w) => cumsum(w, dim));
  const [xf, d] = scanInput(x, dim, 'cumsum');
  return scanOp(xf, 'sum', d, false);
}

/** Running product along dim; its gradient is exact where x holds zeros. */
export function cumprod(x: Tensor, dim: number): Tensor {
  if (anyBf16(x)) return viaFloat32([x], (w) => cumprod(w, dim));
  const [xf, d] = scanInput(x, dim, 'cumprod');
  return scanOp(xf, 'prod', d, false);
}

/** log(cumsum(exp(x))) along dim, computed stably. */
export function logcumsumexp(x: Tensor, dim: number): Tensor {
  if (anyBf16(x)) return viaFloat32([x], (w) => logcumsumexp(w, dim));
  const [xf, d] = scanInput(x, dim, 'logcumsumexp');
  return scanOp(xf, 'logsumexp', d, false);
}

/** cumprod's first-order gradient (native, exact with zeros). */
export function cumprodGrad(x: Tensor, dy: Tensor, d: number): Tensor {
  const xc = contiguous(x);
  const dyc = contiguous(dy);
  const [outer, n, inner] = splitAt(x.shape, d);
  const dx = empty(x.shape, 'float32', x.device);
  native.cumprodBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, xc.storage.handle, xc.offset, outer, n, inner);
  disposeTemp(xc, x);
  disposeTemp(dyc, dy);
  return dx;
}

/**
 * logcumsumexp's gradient dx[k] = sum_{j >= k} dy[j] exp(x[k] - y[j]) (j <= k when reversed), composed of recorded ops:
 * the positive and negative parts of dy each through a reversed logcumsumexp, so nothing overflows.
 */
export function logcumsumexpGrad(x: Tensor, y: Tensor, dy: Tensor, d: number, reverse: boolean): Tensor {
  const part = (g: Tensor) => scanOp(g.log().sub(y), 'logsumexp', d, !reverse).add(x).exp();
  return part(dy.relu()).sub(part(dy.neg().relu()));
}

export interface SortResult {
  values: Tensor;
  indices: Tensor;
}

/** Values sorted along dim (ascending unless descending) and their int32 indices; stable, NaN last. */
export function sort(x: Tensor, dim = -1, descending = false): SortResult {
  checkTensor(x, 'input');
  check(typeof descending === 'boolean', 'descending: expected a boolean');
  const d = normDim(dim, x.ndim);
  // the native sort is float32: a float64 input would come back rounded, so it is refused
  check(x.dtype !== 'float64', 'sort: float64 input is not supported (the kernel sorts float32; cast with float())');
  const xf = x.dtype === 'float32' ? x : castTo(x, 'float32');
  const xc = contiguous(xf);
  const [outer, n, inner] = splitAt(x.shape, d);
  const values = empty(x.shape, 'float32', x.device);
  const indices = empty(x.shape, 'int32', x.device);
  native.sort(values.storage.handle, 0, indices.storage.handle, 0, xc.storage.handle, xc.offset, outer, n, inner, descending);
  disposeTemp(xc, xf);
  if (xf !== x) xf.dispose();
  const v = record(values, 'sortValues', [x], { dim: d, index: indices }, 0, null, [indices]);
  // int32 / bool inputs sort exactly below 2^24 and come back in their dtype
  return { values: x.dtype === 'float32' ? v : castTo(v, x.dtype), indices };
}

export function argsort(x: Tensor, dim = -1, descending = false): Tensor {
  const { values, indices } = sort(x, dim, descending);
  if (values.gradFn === null) values.dispose();
  return indices;
}

/** The k largest (or smallest) values along dim and their indices, sorted (as torch.topk). */
export function topk(x: Tensor, k: number, dim = -1, largest = true): SortResult {
  checkTensor(x, 'input');
  checkInt(k, 'k');
  const d = normDim(dim, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[d];
  check(k >= 0 && k <= n, () => `k: expected 0 <= k <= ${n} (the size of dim ${d}), got ${k}`);
  const { values, indices } = sort(x, d, largest);
  if (x.ndim === 0) return { values, indices };
  const v = values.narrow(d, 0, k);
  const i = indices.narrow(d, 0, k).contiguous();
  // the full sort's indices stay alive while its node (which reads them) may run
  if (values.gradFn === null) {
    values.dispose();
    indices.dispose();
  }
  return { values: v, indices: i };
}

/** sort's gradient: dy scattered back to where each value came from. */
export function sortGrad(xShape: readonly number[], d: number, index: Tensor, dy: Tensor): Tensor {
  return scatterAddInto(xShape, d, index, dy);
}
