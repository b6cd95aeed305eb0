/**
 * L-BFGS over plain Float64Arrays, with optional box bounds handled by projection: the
 * two-loop direction is taken on the free variables (those not held at a bound by the
 * gradient), and the backtracking Armijo search moves along the projected path. The GP sampler
 * uses it unbounded for its kernel hyperparameters (log space) and bounded on [0, 1]^d for
 * the acquisition. Kiln's optim.LBFGS works on float32 tensors; this needs float64.
 */
export type ValueAndGrad = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  lower?: ArrayLike<number>;
  upper?: ArrayLike<number>;
  /** Iterations (each one line search). Default 200. */
  maxIter?: number;
  /** History pairs. Default 10. */
  memory?: number;
  /** Stop when the largest projected-gradient component falls below this. Default 1e-5. */
  gtol?: number;
  /** Stop when an iteration lowers f by less than ftol * max(|f|, 1). Default 1e-12. */
  ftol?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function lbfgs(fg: ValueAndGrad, x0: ArrayLike<number>, opts: LbfgsOptions = {}): LbfgsResult {
  const n = x0.length;
  const lo = opts.lower, hi = opts.upper;
  const maxIter = opts.maxIter ?? 200, m = opts.memory ?? 10, gtol = opts.gtol ?? 1e-5, ftol = opts.ftol ?? 1e-12;
  const clip = (v: number, i: number) => Math.min(Math.max(v, lo ? lo[i] : -Infinity), hi ? hi[i] : Infinity);

  let x = Float64Array.from(x0, clip);
  let g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const pg = new Float64Array(n), d = new Float64Array(n), alpha = new Float64Array(m);
  let xn = new Float64Array(n), gn = new Float64Array(n);
  let converged = false, it = 0;
  if (!Number.isFinite(f)) return { x, f, iterations: 0, evaluations, converged: false };

  for (; it < maxIter; it++) {
    // projected gradient: components pushing against an active bound are dropped
    let pgMax = 0;
    for (let i = 0; i < n; i++) {
      const atLo = lo !== undefined && x[i] <= lo[i] && g[i] > 0;
      const atHi = hi !== undefined && x[i] >= hi[i] && g[i] < 0;
      pg[i] = atLo || atHi ? 0 : g[i];
      pgMax = Math.max(pgMax, Math.abs(pg[i]));
    }
    if (pgMax < gtol) { converged = true; break; }

    // two-loop recursion on the free components
    d.set(pg);
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], d);
      for (let i = 0; i < n; i++) d[i] -= alpha[k] * Y[k][i];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], d);
      for (let i = 0; i < n; i++) d[i] += S[k][i] * (alpha[k] - beta);
    }
    for (let i = 0; i < n; i++) d[i] = pg[i] === 0 ? 0 : -d[i];
    if (dot(d, pg) >= 0) {
      // not a descent direction (stale curvature): restart from steepest descent
      S.length = 0; Y.length = 0; rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -pg[i];
    }

    let step = S.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(pg, pg))) : 1;
    let fn = NaN, accepted = false;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xn[i] = clip(x[i] + step * d[i], i);
      fn = fg(xn, gn);
      evaluations++;
      let decrease = 0;
      for (let i = 0; i < n; i++) decrease += g[i] * (xn[i] - x[i]);
      if (Number.isFinite(fn) && fn <= f + 1e-4 * decrease) { accepted = true; break; }
      step *= 0.5;
    }
    if (!accepted) break;

    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) { s[i] = xn[i] - x[i]; y[i] = gn[i] - g[i]; }
    const sy = dot(s, y);
    if (sy > 1e-10 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (S.length === m) { S.shift(); Y.shift(); rho.shift(); }
      S.push(s); Y.push(y); rho.push(1 / sy);
    }
    const fPrev = f;
    [x, xn] = [xn, x];
    [g, gn] = [gn, g];
    f = fn;
    if (fPrev - f <= ftol * Math.max(Math.abs(f), Math.abs(fPrev), 1)) { converged = true; it++; break; }
  }
  return { x, f, iterations: it, evaluations, converged };
}
