/**
 * One Lloyd step over all rows: each row's nearest center (squared Euclidean distance), that
 * distance, and the per-cluster sums and counts of the rows (the next centers' numerators).
 * Tensor ops in row chunks (so the [rows, clusters] distances stay small): one GEMM per chunk,
 * argmin, then the sums by indexAdd. Works on every backend (no fused native kernel yet).
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

/** A full step: assignment plus the per-cluster sums and counts of the assigned rows. */
export function lloydStep(X: Tensor, xSq: Tensor, centers: Tensor): LloydStep {
  const { labels } = assignRows(X, xSq, centers, false);
  return noGrad(() => {
    const k = centers.shape[0];
    const sums = indexAddInto([k, X.shape[1]], 0, labels, X);
    const ones = full([X.shape[0]], 1, { dtype: X.dtype, device: X.device });
    const counts = indexAddInto([k], 0, labels, ones);
    ones.dispose();
    return { labels, minDist: null, sums, counts };
  });
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
