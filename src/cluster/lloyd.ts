/**
 * Lloyd's steps on the fused native op (assign.ts): one sweep per iteration gives each row's
 * nearest center, the per-cluster sums and counts and the inertia. Works on every backend.
 */
import { noGrad } from '../autograd/engine.js';
import { zeros } from '../creation.js';
import { keep, scope } from '../memory.js';
import type { Tensor } from '../tensor.js';
import { kmeansAssign } from './assign.js';

export interface LloydStep {
  labels: Tensor;   // int32 [n]
  sums: Tensor;     // float64 [k, d]
  counts: Tensor;   // float64 [k]
  inertia: number;  // against the centers the step assigned to
}

/** Labels and inertia only (predict, score, the final assignment). */
export function assign(X: Tensor, centers: Tensor): { labels: Tensor; inertia: number } {
  return noGrad(() => scope(() => {
    const a = kmeansAssign(X, centers);
    return { labels: keep(a.labels), inertia: a.inertia.item() };
  }));
}

/** Each row's squared distance to its nearest center (float64 [n]; the relocation of empty clusters). */
export function nearestDistances(X: Tensor, centers: Tensor): Tensor {
  return noGrad(() => scope(() => keep(kmeansAssign(X, centers, { dist: true }).minDist!)));
}

/** sum of ||x||^2 over the rows: the inertia of one center at the origin (one read, no temporary). */
export function sumSquares(X: Tensor): number {
  return noGrad(() => scope(() => kmeansAssign(X, zeros([1, X.shape[1]], { dtype: X.dtype, device: X.device })).inertia.item()));
}

/** A full step: labels, then every cluster's row sum and count, in one sweep. */
export function lloydStep(X: Tensor, centers: Tensor): LloydStep {
  return noGrad(() => scope(() => {
    const a = kmeansAssign(X, centers, { sums: true });
    return { labels: keep(a.labels), sums: keep(a.sums!), counts: keep(a.counts!), inertia: a.inertia.item() };
  }));
}

/** sum over rows of ||x - center[label]||^2 for given labels, computed from the differences. */
export function inertiaOf(X: Tensor, centers: Tensor, labels: Tensor): number {
  return noGrad(() => scope(() => {
    const n = X.shape[0];
    const step = Math.max(256, Math.min(n, Math.floor((1 << 20) / Math.max(X.shape[1], 1))));
    let total = 0;
    for (let s = 0; s < n; s += step) {
      const len = Math.min(step, n - s);
      const c = centers.indexSelect(0, labels.narrow(0, s, len));
      total += X.narrow(0, s, len).sub(c).square().sum().item();
    }
    return total;
  }));
}
