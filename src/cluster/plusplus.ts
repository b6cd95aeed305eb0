/**
 * k-means++ seeding as scikit-learn's _kmeans_plusplus (greedy): each new center is the best of
 * 2 + ln k candidates drawn in proportion to the squared distance to the nearest center so far,
 * the best being the one that lowers the total squared distance most. Distances are tensor ops
 * on the data's device; the cumulative sum and the draws are on the host (float64).
 */
import { noGrad } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { keep, scope } from '../memory.js';
import type { Tensor } from '../tensor.js';

/** Squared distances [c, n] from the rows `ids` of X to every row (clamped at 0). */
function sqDistFrom(X: Tensor, xSq: Tensor, ids: number[]): Tensor {
  const ix = tensor(Int32Array.from(ids), { dtype: 'int32', device: X.device });
  const C = X.indexSelect(0, ix);
  return xSq.indexSelect(0, ix).unsqueeze(1).add(xSq).sub(C.matmul(X.t()).mul(2)).clamp(0, null);
}

/** Row indices of the k seeds. X is the centered data, xSq its squared row norms. */
export function kmeansPlusPlus(X: Tensor, xSq: Tensor, k: number, rand: () => number): number[] {
  return noGrad(() => scope(() => {
    const n = X.shape[0];
    const trials = 2 + Math.floor(Math.log(k));
    const first = Math.floor(rand() * n);
    const ids = [first];
    let closest = keep(sqDistFrom(X, xSq, [first]).reshape([n]));
    let pot = scope(() => closest.sum().item());
    const cum = new Float64Array(n);
    for (let c = 1; c < k; c++) {
      const d = closest.toTypedArray();
      let s = 0;
      for (let i = 0; i < n; i++) cum[i] = s += d[i];
      const cand: number[] = [];
      for (let t = 0; t < trials; t++) cand.push(Math.min(searchsorted(cum, rand() * pot), n - 1));
      const next = scope(() => {
        const dist = sqDistFrom(X, xSq, cand).minimum(closest);
        const pots = dist.sum(1).toTypedArray();
        let best = 0;
        for (let t = 1; t < trials; t++) if (pots[t] < pots[best]) best = t;
        return { row: keep(dist.select(0, best).contiguous()), pot: pots[best], id: cand[best] };
      });
      closest.dispose();
      closest = next.row;
      pot = next.pot;
      ids.push(next.id);
    }
    closest.dispose();
    return ids;
  }));
}

/** The first index whose cumulative value is >= v (numpy's searchsorted, side 'left'). */
function searchsorted(cum: Float64Array, v: number): number {
  let lo = 0;
  let hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
