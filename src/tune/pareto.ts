/** Pareto dominance for multi-objective studies. */
import type { FrozenTrial, StudyDirection } from './types.js';

/** True when a is no worse than b in every objective and better in one (values already signed so smaller is better). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) better = true;
  }
  return better;
}

/** The trials no other trial dominates (ties kept), in their original order. */
export function paretoFront(trials: readonly FrozenTrial[], directions: readonly StudyDirection[]): FrozenTrial[] {
  const signed = trials.map((t) => t.values!.map((v, i) => (directions[i] === 'minimize' ? v : -v)));
  return trials.filter((_, i) => !signed.some((o, j) => j !== i && dominates(o, signed[i])));
}
