/**
 * Parameter importances by a one-way analysis of variance (the correlation ratio eta^2): the
 * complete trials are grouped by each parameter — numeric ones into equal-count bins of their
 * (log-scaled when log) values, about sqrt(n) bins but 2 to 10; categoricals by choice — and a
 * parameter's importance is the share of the objective's variance explained by its group means,
 * less what k groups explain by chance (epsilon^2 = (SS_between - (k - 1) MS_within) / SS_total,
 * at least 0; plain eta^2 would give a parameter with no effect about (k - 1) / (n - 1)).
 * The shares are normalised to sum to 1. Main effects only: fANOVA would also split interactions.
 */
import type { Distribution } from '../distributions.js';
import { intersectionSearchSpace } from '../samplers/sampler.js';
import type { FrozenTrial } from '../types.js';

/** eta^2, or epsilon^2 (chance-corrected, >= 0) when adjusted. */
export function etaSquared(groups: number[], y: number[], adjusted = false): number {
  const n = y.length;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  let total = 0;
  for (const v of y) total += (v - mean) ** 2;
  if (!(total > 0)) return 0;
  const sums = new Map<number, [number, number]>();
  groups.forEach((g, i) => {
    const s = sums.get(g) ?? [0, 0];
    s[0] += y[i]; s[1] += 1;
    sums.set(g, s);
  });
  let between = 0;
  for (const [sum, count] of sums.values()) between += count * (sum / count - mean) ** 2;
  if (!adjusted) return between / total;
  const k = sums.size;
  if (n <= k) return 0;
  const msWithin = (total - between) / (n - k);
  return Math.max(0, (between - (k - 1) * msWithin) / total);
}

/** Group index of each value: choices for categoricals, equal-count bins otherwise. */
export function groupsOf(values: number[], dist: Distribution): number[] {
  if (dist.kind === 'categorical') return values;
  const x = values.map((v) => (dist.log ? Math.log(v) : v));
  const bins = Math.min(10, Math.max(2, Math.round(Math.sqrt(x.length))));
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const out = new Array<number>(x.length);
  order.forEach((idx, rank) => { out[idx] = Math.floor((rank * bins) / x.length); });
  // equal values must share a bin
  for (let r = 1; r < order.length; r++) if (x[order[r]] === x[order[r - 1]]) out[order[r]] = out[order[r - 1]];
  return out;
}

/** name -> importance in [0, 1] (summing to 1 when any parameter explains variance), most important first. */
export function paramImportances(trials: readonly FrozenTrial[], objective = 0): Record<string, number> {
  const done = trials.filter((t) => t.state === 'COMPLETE' && t.values && Number.isFinite(t.values[objective]));
  const space = intersectionSearchSpace(done);
  const y = done.map((t) => t.values![objective]);
  const raw: [string, number][] = Object.entries(space).map(([name, d]) => {
    const vals = done.map((t) => d.toInternal(t.params[name]));
    return [name, y.length > 1 ? etaSquared(groupsOf(vals, d), y, true) : 0];
  });
  const total = raw.reduce((a, [, v]) => a + v, 0);
  return Object.fromEntries(raw.map(([k, v]) => [k, total > 0 ? v / total : 0] as [string, number]).sort((a, b) => b[1] - a[1]));
}
