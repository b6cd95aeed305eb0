/**
 * The "below" set of multi-objective TPE: whole Pareto fronts (non-dominated sorting) in rank
 * order while they fit in nBelow, then the most isolated members of the next front by crowding
 * distance (as NSGA-II). Optuna's MOTPE picks that last part by hypervolume subset selection and
 * weights the below set by hypervolume contribution; Kiln keeps uniform weights. Values are
 * signed so that smaller is better in every objective.
 */
import { dominates } from '../../pareto.js';

/** Front index of each point (0 = non-dominated). */
export function nondominatedRanks(values: readonly number[][]): number[] {
  const n = values.length;
  const rank = new Array<number>(n).fill(-1);
  let remaining = n, r = 0;
  while (remaining > 0) {
    const front: number[] = [];
    for (let i = 0; i < n; i++) {
      if (rank[i] !== -1) continue;
      let dominated = false;
      for (let j = 0; j < n && !dominated; j++) if (j !== i && rank[j] === -1 && dominates(values[j], values[i])) dominated = true;
      if (!dominated) front.push(i);
    }
    for (const i of front) rank[i] = r;
    remaining -= front.length;
    r++;
  }
  return rank;
}

/** NSGA-II crowding distance of each member of one front (boundary points: Infinity). */
export function crowdingDistance(values: readonly number[][]): number[] {
  const n = values.length;
  const dist = new Array<number>(n).fill(0);
  if (n === 0) return dist;
  for (let k = 0; k < values[0].length; k++) {
    const order = values.map((_, i) => i).sort((a, b) => values[a][k] - values[b][k]);
    const lo = values[order[0]][k], hi = values[order[n - 1]][k];
    dist[order[0]] = dist[order[n - 1]] = Infinity;
    if (hi === lo) continue;
    for (let p = 1; p < n - 1; p++) dist[order[p]] += (values[order[p + 1]][k] - values[order[p - 1]][k]) / (hi - lo);
  }
  return dist;
}

/** Indices (ascending) of the nBelow points forming the below set. */
export function multiObjectiveBelow(values: readonly number[][], nBelow: number): number[] {
  const rank = nondominatedRanks(values);
  const below: number[] = [];
  for (let r = 0; below.length < nBelow; r++) {
    const front = rank.map((x, i) => (x === r ? i : -1)).filter((i) => i >= 0);
    if (front.length === 0) break;
    if (below.length + front.length <= nBelow) {
      below.push(...front);
      continue;
    }
    const cd = crowdingDistance(front.map((i) => values[i]));
    const byCrowding = front.map((i, p) => [i, cd[p]] as const).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    below.push(...byCrowding.slice(0, nBelow - below.length).map(([i]) => i));
  }
  return below.sort((a, b) => a - b);
}
