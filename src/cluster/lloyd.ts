/**
 * Lloyd's algorithm as tensor ops: each row's nearest center (squared Euclidean distance) by
 * chunked GEMM + argmin (chunks keep the [rows, clusters] block small), the per-cluster sums and
 * counts by one indexAdd. Works on every backend (no fused native kernel yet).
 */
import { noGrad } from '../autograd/engine.js';
import { full } from '../creation.js';
import { keep, scope } from '../memory.js';
import { indexAddInto } from '../ops/indexing.js';
import { cat } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';

export interface LloydStep {
  labels: Tensor;   // int32 [n]
  minDist: Tensor | null;  // [n], squared distance to the nearest center (when asked)
  sums: Tensor;     // [k, d]
  counts: Tensor;   // [k]
}

/** Rows per chunk so a chunk's distance block holds about 2^20 values. */
function chunkRows(n: number, k: number): number {
  return Math.max(256, Math.min(n, Math.floor((1 << 20) / Math.max(k, 1))));
}

/** Labels and distances only (predict, transform, the final assignment). */
export function assign(X: Tensor, xSq: Tensor, centers: Tensor): { labels: Tensor; minDist: Tensor } {
  return assignRows(X, xSq, centers, true) as { labels: Tensor; minDist: Tensor };
}

/** Labels, and with `withDist` the squared distances (a Lloyd step needs them only for empty clusters). */
function assignRows(X: Tensor, xSq: Tensor, centers: Tensor, withDist: boolean): { labels: Tensor; minDist: Tensor | null } {
  return noGrad(() => scope(() => {
    const n = X.shape[0];
    const k = centers.shape[0];
    const cT = centers.t().mul(-2);
    const cSq = centers.square().sum(1);
    const step = chunkRows(n, k);
    const labels: Tensor[] = [];
    const dists: Tensor[] = [];
    for (let s = 0; s < n; s += step) {
      const len = Math.min(step, n - s);
      // ||c||^2 - 2 x.c: the row's own ||x||^2 does not change its argmin
      const d = X.narrow(0, s, len).matmul(cT).add(cSq);
      labels.push(d.argmin(1));
      if (withDist) dists.push(d.min(1).add(xSq.narrow(0, s, len)).clamp(0, null));
    }
    const out = {
      labels: keep(labels.length === 1 ? labels[0] : cat(labels)),
      minDist: withDist ? keep(dists.length === 1 ? dists[0] : cat(dists)) : null,
    };
    return out;
  }));
}

/** X with a column of ones [n, d + 1]: a Lloyd step's distances and counts then come from X alone. */
export function withOnes(X: Tensor): Tensor {
  return noGrad(() => scope(() => cat([X, full([X.shape[0], 1], 1, { dtype: X.dtype, device: X.device })], 1)));
}

/**
 * A full step from Xa = withOnes(X): labels from one GEMM per chunk ([x, 1] . [-2c, ||c||^2] =
 * ||c||^2 - 2 x.c) and argmin, then one indexAdd of Xa gives the sums and, in its last column,
 * the counts.
 */
export function lloydStep(Xa: Tensor, centers: Tensor): LloydStep {
  return noGrad(() => scope(() => {
    const [n, d1] = Xa.shape;
    const k = centers.shape[0];
    const cA = cat([centers.mul(-2), centers.square().sum(1, true)], 1).t().contiguous();
    const step = chunkRows(n, k);
    const parts: Tensor[] = [];
    for (let s = 0; s < n; s += step) parts.push(Xa.narrow(0, s, Math.min(step, n - s)).matmul(cA).argmin(1));
    const labels = keep(parts.length === 1 ? parts[0] : cat(parts));
    const acc = indexAddInto([k, d1], 0, labels, Xa);
    return { labels, minDist: null, sums: keep(acc.narrow(1, 0, d1 - 1).contiguous()), counts: keep(acc.select(1, d1 - 1).contiguous()) };
  }));
}

/** sum over rows of ||x - center[label]||^2, computed from the differences (not the expansion). */
export function inertiaOf(X: Tensor, centers: Tensor, labels: Tensor): number {
  return noGrad(() => scope(() => {
    const n = X.shape[0];
    const step = chunkRows(n, X.shape[1]);
    let total = 0;
    for (let s = 0; s < n; s += step) {
      const len = Math.min(step, n - s);
      const c = centers.indexSelect(0, labels.narrow(0, s, len));
      total += X.narrow(0, s, len).sub(c).square().sum().item();
    }
    return total;
  }));
}
