/**
 * Log expected improvement and its maximisation over the unit cube.
 *
 * For a minimised, standardised objective with best value f*, posterior mean mu and standard
 * deviation sigma at x: EI = sigma h(z), z = (f* - mu) / sigma, h(z) = phi(z) + z Phi(z); we work
 * with log EI = log sigma + log h(z) (normal.ts keeps it finite far from the incumbent, where EI
 * itself underflows and gives no gradient).
 *
 * Maximisation: 2048 uniform candidates, the best 10 (plus the best observed point) as starts
 * for bounded L-BFGS on the continuous coordinates; categorical coordinates then take each of
 * their choices in turn, keeping the best, and the continuous search is repeated once.
 */
import { dLogH, logH } from '../../math/normal.js';
import { lbfgs } from '../../math/lbfgs.js';
import type { Rng } from '../../rng.js';
import type { GaussianProcess } from './gp.js';

/** Keeps sigma > 0 where the posterior collapses onto an observed point. */
const VAR_FLOOR = 1e-12;

/** log EI at x; with grad [d], its derivative in the continuous coordinates. */
export function logEi(gp: GaussianProcess, fBest: number, x: Float64Array, grad?: Float64Array): number {
  const d = gp.d;
  const pg = grad ? new Float64Array(2 * d) : undefined;
  const { mean, variance } = gp.posterior(x, pg);
  const v = variance + VAR_FLOOR, sigma = Math.sqrt(v);
  const z = (fBest - mean) / sigma;
  const value = Math.log(sigma) + logH(z);
  if (grad && pg) {
    const dh = dLogH(z);
    for (let k = 0; k < d; k++) {
      const dSigma = pg[d + k] / (2 * sigma);
      const dz = -pg[k] / sigma - (z * dSigma) / sigma;
      grad[k] = dSigma / sigma + dh * dz;
    }
  }
  return value;
}

export interface AcquisitionOptions {
  nCandidates: number;
  nLocalSearch: number;
  /** Extra starting points (e.g. the best observed x), in model coordinates. */
  starts: Float64Array[];
}

/** The x in [0, 1]^d (categoricals: indices) with the highest log EI found. */
export function maximizeLogEi(gp: GaussianProcess, fBest: number, rng: Rng, opts: AcquisitionOptions): { x: Float64Array; value: number } {
  const d = gp.d, nc = gp.nChoices;
  const randomPoint = () => {
    const x = new Float64Array(d);
    for (let k = 0; k < d; k++) x[k] = nc[k] > 0 ? rng.int(nc[k]) : rng.random();
    return x;
  };
  const scored: { x: Float64Array; value: number }[] = [];
  for (let i = 0; i < opts.nCandidates; i++) {
    const x = randomPoint();
    scored.push({ x, value: logEi(gp, fBest, x) });
  }
  scored.sort((a, b) => b.value - a.value);
  const starts = [...scored.slice(0, opts.nLocalSearch).map((s) => s.x), ...opts.starts];
  let best = scored[0];
  for (const s of starts) {
    const r = localSearch(gp, fBest, Float64Array.from(s));
    if (r.value > best.value) best = r;
  }
  return best;
}

function localSearch(gp: GaussianProcess, fBest: number, x: Float64Array): { x: Float64Array; value: number } {
  const d = gp.d, nc = gp.nChoices;
  const cont: number[] = [];
  for (let k = 0; k < d; k++) if (nc[k] === 0) cont.push(k);
  let value = logEi(gp, fBest, x);

  const continuous = () => {
    if (cont.length === 0) return;
    const full = Float64Array.from(x), g = new Float64Array(d);
    const r = lbfgs((u, gu) => {
      for (let i = 0; i < cont.length; i++) full[cont[i]] = u[i];
      const v = logEi(gp, fBest, full, g);
      for (let i = 0; i < cont.length; i++) gu[i] = -g[cont[i]];
      return -v;
    }, cont.map((k) => x[k]), { lower: cont.map(() => 0), upper: cont.map(() => 1), maxIter: 100, gtol: 1e-5, ftol: 1e-10 });
    if (-r.f > value) {
      for (let i = 0; i < cont.length; i++) x[cont[i]] = r.x[i];
      value = -r.f;
    }
  };
  const categorical = (): boolean => {
    let changed = false;
    for (let k = 0; k < d; k++) {
      if (nc[k] === 0) continue;
      const keep = x[k];
      let bestC = keep;
      for (let c = 0; c < nc[k]; c++) {
        if (c === keep) continue;
        x[k] = c;
        const v = logEi(gp, fBest, x);
        if (v > value) { value = v; bestC = c; }
      }
      x[k] = bestC;
      if (bestC !== keep) changed = true;
    }
    return changed;
  };

  continuous();
  if (categorical()) continuous();
  return { x, value };
}
