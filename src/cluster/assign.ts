/**
 * The fused k-means op (ops.def kmeansAssign, native/cpu/kernels/kmeans.cc): in one sweep over
 * the rows, each row's nearest center (sklearn's expansion ||c||^2 - 2 x.c, lowest index at
 * ties), its exact squared distance (float64, from the differences), the inertia, and with
 * `sums` each cluster's float64 row sum and count. No autograd: k-means labels have no gradient.
 */
import { check, shapeStr } from '../errors.js';
import { checkKeys } from './util.js';
import { native } from '../native.js';
import { checkSameDevice, checkTensor, contiguous, disposeTemp, empty } from '../ops/util.js';
import type { Tensor } from '../tensor.js';

export interface Assignment {
  labels: Tensor;          // int32 [n]
  minDist: Tensor | null;  // float64 [n] (with `dist`)
  sums: Tensor | null;     // float64 [k, d] (with `sums`)
  counts: Tensor | null;   // float64 [k] (with `sums`)
  inertia: Tensor;         // float64 [1]: the sum of the rows' squared distances
}

export interface AssignOptions {
  /** Also return each row's squared distance to its center. */
  dist?: boolean;
  /** Also return each cluster's row sum and count. */
  sums?: boolean;
}

/** Rows of X [n, d] against centers [k, d] (one float dtype and device). */
export function kmeansAssign(X: Tensor, centers: Tensor, options: AssignOptions = {}): Assignment {
  const o = checkKeys(options, ['dist', 'sums'], 'kmeansAssign');
  checkTensor(X, 'X');
  checkTensor(centers, 'centers');
  check(X.dtype === 'float32' || X.dtype === 'float64', () => `kmeansAssign: X: expected a float32 or float64 tensor, got ${X.dtype}`);
  check(X.ndim === 2, () => `kmeansAssign: X: expected shape [n, d], got ${shapeStr(X.shape)}`);
  check(centers.dtype === X.dtype, () => `kmeansAssign: centers: expected ${X.dtype} (the dtype of X), got ${centers.dtype}`);
  check(centers.ndim === 2 && centers.shape[1] === X.shape[1] && centers.shape[0] > 0,
    () => `kmeansAssign: centers: expected shape [k >= 1, ${X.shape[1]}], got ${shapeStr(centers.shape)}`);
  checkSameDevice(X, centers, 'kmeansAssign');
  const [n, d] = X.shape;
  const k = centers.shape[0];
  const dev = X.device;
  const xc = contiguous(X);
  const cc = contiguous(centers);
  const labels = empty([n], 'int32', dev);
  const minDist = o.dist === true ? empty([n], 'float64', dev) : null;
  const sums = o.sums === true ? empty([k, d], 'float64', dev) : null;
  const counts = o.sums === true ? empty([k], 'float64', dev) : null;
  const inertia = empty([1], 'float64', dev);
  native.kmeansAssign(labels.storage.handle, 0, minDist?.storage.handle ?? null, 0, sums?.storage.handle ?? null, 0,
    counts?.storage.handle ?? null, 0, inertia.storage.handle, 0, xc.storage.handle, xc.offset, cc.storage.handle, cc.offset, n, d, k);
  disposeTemp(xc, X);
  disposeTemp(cc, centers);
  return { labels, minDist, sums, counts, inertia };
}
