/**
 * Gaussian-process regression in float64 for the GP sampler.
 *
 * Kernel: Matern 5/2 with ARD, k(x, x') = s (1 + t + t^2/3) e^-t, t = sqrt(5 q),
 * q = sum_d l_d (x_d - x'_d)^2 (l_d: inverse squared lengthscale; a categorical dimension adds
 * l_d when the choices differ). K = k(X, X) + noise I. Hyperparameters maximise the log marginal
 * likelihood plus weak priors (Gamma-like terms that keep lengthscales, scale and noise in a sane
 * range when 10 points cannot pin them down), in log space with L-BFGS.
 *
 * The Cholesky factorisation is ml-matrix's; the triangular solves and the inverse built from it
 * run here on flat Float64Arrays (the sampler calls them thousands of times per trial).
 *
 * Shapes: X [n, d] row-major, y [n], K and its inverse [n, n].
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { lbfgs } from '../../math/lbfgs.js';

export interface KernelParams {
  /** Inverse squared lengthscale per dimension [d]. */
  invSqLengthscales: Float64Array;
  scale: number;
  noise: number;
}

/** Matern 5/2 of q (squared scaled distance) and its derivative in q. */
export function matern52(q: number): number {
  const t = Math.sqrt(5 * q);
  return (1 + t + (t * t) / 3) * Math.exp(-t);
}
export function matern52Dq(q: number): number {
  const t = Math.sqrt(5 * q);
  return (-5 / 6) * (1 + t) * Math.exp(-t);
}

/** q between row i of A and row j of B. */
function sqDist(A: Float64Array, i: number, B: Float64Array, j: number, d: number, ls: Float64Array, nChoices: Int32Array): number {
  let q = 0;
  for (let k = 0; k < d; k++) {
    const diff = A[i * d + k] - B[j * d + k];
    q += nChoices[k] > 0 ? (diff !== 0 ? ls[k] : 0) : ls[k] * diff * diff;
  }
  return q;
}

/** Lower Cholesky factor of a symmetric matrix (flat [n, n]) via ml-matrix; null if not positive definite. */
export function cholesky(A: Float64Array, n: number): Float64Array | null {
  const M = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) M.set(i, j, A[i * n + j]);
  const chol = new CholeskyDecomposition(M);
  if (!chol.isPositiveDefinite()) return null;
  const L = chol.lowerTriangularMatrix;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[i * n + j] = L.get(i, j);
  for (let i = 0; i < n; i++) if (!(out[i * n + i] > 0)) return null;
  return out;
}

/** Solves L z = b in place (L lower triangular, flat [n, n]). */
export function forwardSolve(L: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= L[i * n + k] * b[k];
    b[i] = s / L[i * n + i];
  }
}

/** Solves L^T z = b in place. */
export function backSolve(L: Float64Array, n: number, b: Float64Array): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * b[k];
    b[i] = s / L[i * n + i];
  }
}

/** (L L^T)^-1 from L: columns of the identity through both triangular solves. */
function inverseFromCholesky(L: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    col.fill(0);
    col[j] = 1;
    forwardSolve(L, n, col);
    backSolve(L, n, col);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i];
  }
  // symmetrise the rounding
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) { const v = 0.5 * (inv[i * n + j] + inv[j * n + i]); inv[i * n + j] = v; inv[j * n + i] = v; }
  return inv;
}

export class GaussianProcess {
  readonly n: number;
  readonly d: number;
  readonly X: Float64Array;
  readonly y: Float64Array;
  readonly nChoices: Int32Array;
  readonly params: KernelParams;
  /** K^-1 [n, n] and K^-1 y [n]. */
  readonly Kinv: Float64Array;
  readonly alpha: Float64Array;

  /** Throws when K is not positive definite. */
  constructor(X: Float64Array, y: Float64Array, nChoices: Int32Array, params: KernelParams) {
    this.n = y.length;
    this.d = nChoices.length;
    this.X = X;
    this.y = y;
    this.nChoices = nChoices;
    this.params = params;
    const K = kernelMatrix(X, this.n, this.d, nChoices, params);
    const L = cholesky(K, this.n);
    if (!L) throw new Error('GaussianProcess: kernel matrix is not positive definite');
    this.Kinv = inverseFromCholesky(L, this.n);
    this.alpha = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      let s = 0;
      for (let j = 0; j < this.n; j++) s += this.Kinv[i * this.n + j] * y[j];
      this.alpha[i] = s;
    }
  }

  /** Posterior mean and variance of the latent function at x [d]. With grad (length 2d), also
   *  their derivatives in the continuous coordinates: grad[0..d) mean, grad[d..2d) variance. */
  posterior(x: Float64Array, grad?: Float64Array): { mean: number; variance: number } {
    const { n, d, X, nChoices, Kinv, alpha } = this;
    const ls = this.params.invSqLengthscales, s = this.params.scale;
    const k = new Float64Array(n), dkq = new Float64Array(n);
    let mean = 0;
    for (let i = 0; i < n; i++) {
      const q = sqDist(x, 0, X, i, d, ls, nChoices);
      k[i] = s * matern52(q);
      if (grad) dkq[i] = s * matern52Dq(q);
      mean += k[i] * alpha[i];
    }
    const v = new Float64Array(n); // K^-1 k
    let quad = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += Kinv[i * n + j] * k[j];
      v[i] = t;
      quad += k[i] * t;
    }
    const variance = Math.max(s - quad, 0);
    if (grad) {
      grad.fill(0);
      for (let kd = 0; kd < d; kd++) {
        if (nChoices[kd] > 0) continue;
        let gm = 0, gv = 0;
        for (let i = 0; i < n; i++) {
          const dk = dkq[i] * 2 * ls[kd] * (x[kd] - X[i * d + kd]);
          gm += alpha[i] * dk;
          gv -= 2 * v[i] * dk;
        }
        grad[kd] = gm;
        grad[d + kd] = gv;
      }
    }
    return { mean, variance };
  }
}

export function kernelMatrix(X: Float64Array, n: number, d: number, nChoices: Int32Array, p: KernelParams): Float64Array {
  const K = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    K[i * n + i] = p.scale + p.noise;
    for (let j = 0; j < i; j++) {
      const v = p.scale * matern52(sqDist(X, i, X, j, d, p.invSqLengthscales, nChoices));
      K[i * n + j] = v;
      K[j * n + i] = v;
    }
  }
  return K;
}

// ---- hyperparameters

export const MIN_NOISE = 1e-6;

/** Log prior of the kernel parameters (Gamma-shaped terms on each). */
function logPrior(p: KernelParams): number {
  let lp = 0;
  for (const l of p.invSqLengthscales) lp -= 0.1 / l + 0.1 * l;
  lp += Math.log(p.scale) - p.scale; // Gamma(2, 1)
  lp += 0.1 * Math.log(p.noise) - 30 * p.noise; // Gamma(1.1, 30)
  return lp;
}

/** raw = [log l_1..d, log s, log(noise - MIN_NOISE)] (the last absent when the noise is fixed). */
export function paramsFromRaw(raw: ArrayLike<number>, d: number, fixedNoise: number | null): KernelParams {
  const ls = new Float64Array(d);
  for (let k = 0; k < d; k++) ls[k] = Math.exp(raw[k]);
  return { invSqLengthscales: ls, scale: Math.exp(raw[d]), noise: fixedNoise ?? MIN_NOISE + Math.exp(raw[d + 1]) };
}

export function rawFromParams(p: KernelParams, fixedNoise: number | null): Float64Array {
  const d = p.invSqLengthscales.length;
  const raw = new Float64Array(d + (fixedNoise === null ? 2 : 1));
  for (let k = 0; k < d; k++) raw[k] = Math.log(p.invSqLengthscales[k]);
  raw[d] = Math.log(p.scale);
  if (fixedNoise === null) raw[d + 1] = Math.log(Math.max(p.noise - MIN_NOISE, 1e-12));
  return raw;
}

/**
 * -(log marginal likelihood + log prior) and its gradient in raw coordinates.
 * d logML / d theta = 1/2 tr((alpha alpha^T - K^-1) dK/dtheta).
 */
export function negLogPosterior(X: Float64Array, y: Float64Array, nChoices: Int32Array, raw: Float64Array, grad: Float64Array,
  fixedNoise: number | null): number {
  const n = y.length, d = nChoices.length;
  const p = paramsFromRaw(raw, d, fixedNoise);
  const K = kernelMatrix(X, n, d, nChoices, p);
  const L = cholesky(K, n);
  if (!L) return Infinity;
  const alpha = Float64Array.from(y);
  forwardSolve(L, n, alpha);
  let yKy = 0;
  for (let i = 0; i < n; i++) yKy += alpha[i] * alpha[i];
  backSolve(L, n, alpha);
  let logDet = 0;
  for (let i = 0; i < n; i++) logDet += 2 * Math.log(L[i * n + i]);
  const logMl = -0.5 * yKy - 0.5 * logDet - 0.5 * n * Math.log(2 * Math.PI);

  const Kinv = inverseFromCholesky(L, n);
  grad.fill(0);
  const ls = p.invSqLengthscales;
  let gScale = 0, trW = 0;
  for (let i = 0; i < n; i++) {
    trW += alpha[i] * alpha[i] - Kinv[i * n + i];
    for (let j = 0; j < i; j++) {
      const w = alpha[i] * alpha[j] - Kinv[i * n + j]; // W is symmetric: count the pair twice
      const q = sqDist(X, i, X, j, d, ls, nChoices);
      gScale += 2 * w * p.scale * matern52(q);
      const dq = 2 * w * p.scale * matern52Dq(q);
      for (let k = 0; k < d; k++) {
        const diff = X[i * d + k] - X[j * d + k];
        const sq = nChoices[k] > 0 ? (diff !== 0 ? 1 : 0) : diff * diff;
        grad[k] += dq * ls[k] * sq;
      }
    }
    gScale += (alpha[i] * alpha[i] - Kinv[i * n + i]) * p.scale;
  }
  for (let k = 0; k < d; k++) grad[k] = -(0.5 * grad[k] + (0.1 / ls[k] - 0.1 * ls[k]));
  grad[d] = -(0.5 * gScale + (1 - p.scale));
  if (fixedNoise === null) {
    const e = p.noise - MIN_NOISE;
    grad[d + 1] = -(0.5 * trW * e + (0.1 / p.noise - 30) * e);
  }
  return -(logMl + logPrior(p));
}

export interface FitOptions {
  /** Starting points tried (raw coordinates); the best optimum wins. */
  starts: Float64Array[];
  fixedNoise: number | null;
  maxIter?: number;
}

/** MAP kernel parameters by L-BFGS from each start, within wide box bounds. */
export function fitKernelParams(X: Float64Array, y: Float64Array, nChoices: Int32Array, opts: FitOptions): { raw: Float64Array; f: number } {
  const d = nChoices.length;
  const dim = d + (opts.fixedNoise === null ? 2 : 1);
  const lower = new Float64Array(dim), upper = new Float64Array(dim);
  for (let k = 0; k < d; k++) { lower[k] = Math.log(1e-4); upper[k] = Math.log(1e4); }
  lower[d] = Math.log(1e-3); upper[d] = Math.log(1e3);
  if (opts.fixedNoise === null) { lower[d + 1] = Math.log(1e-9); upper[d + 1] = Math.log(10); }
  let best: { raw: Float64Array; f: number } | null = null;
  for (const s0 of opts.starts) {
    const r = lbfgs((raw, g) => negLogPosterior(X, y, nChoices, raw, g, opts.fixedNoise), s0,
      { lower, upper, maxIter: opts.maxIter ?? 100, gtol: 1e-3, ftol: 1e-9 });
    if (Number.isFinite(r.f) && (best === null || r.f < best.f)) best = { raw: r.x, f: r.f };
  }
  if (best === null) throw new Error('GP: no starting point gave a positive-definite kernel matrix');
  return best;
}
