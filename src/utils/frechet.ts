/**
 * The Frechet distance between two Gaussians fitted to feature sets (the FID recipe: features of a
 * fixed classifier for real and generated images):
 *
 *   d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))
 *
 * Everything runs on the host in float64: the means and covariances (a float32 sum over 10 000
 * rows would lose digits), and the trace of the square root, taken as tr((A S2 A)^(1/2)) with
 * A = S1^(1/2). A S2 A is symmetric positive semi-definite with the eigenvalues of S1 S2, so two
 * symmetric eigen-decompositions (ml-matrix, Householder + QL) replace the general matrix square
 * root that scipy.linalg.sqrtm computes; eigenvalues that rounding makes slightly negative are
 * taken as 0.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { check, shapeStr } from '../errors.js';
import { Tensor } from '../tensor.js';

/** Mean and covariance (unbiased, N - 1, as numpy.cov) of a feature set, in float64. */
export interface GaussianStats {
  readonly dim: number;
  readonly count: number;
  readonly mean: Float64Array;
  /** [dim, dim], row-major */
  readonly cov: Float64Array;
}

/** The mean and covariance of the rows of features [N, D] (N >= 2), in float64. */
export function gaussianStats(features: Tensor): GaussianStats {
  check(features instanceof Tensor, 'features: expected a Tensor [N, D]');
  check(features.dtype === 'float32' && features.ndim === 2,
    () => `features: expected a float32 tensor [N, D], got ${features.dtype} ${shapeStr(features.shape)}`);
  const [N, D] = features.shape;
  check(N >= 2 && D >= 1, () => `features: expected at least 2 rows and 1 column, got ${shapeStr(features.shape)}`);
  const x = features.toTypedArray();
  for (let i = 0; i < x.length; i++) check(Number.isFinite(x[i]), () => `features: row ${Math.floor(i / D)} has a non-finite value (${x[i]})`);
  const mean = new Float64Array(D);
  for (let n = 0; n < N; n++) for (let j = 0; j < D; j++) mean[j] += x[n * D + j];
  for (let j = 0; j < D; j++) mean[j] /= N;
  // upper triangle of sum (x - mean)(x - mean)^T, one centred row at a time
  const cov = new Float64Array(D * D);
  const r = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < D; j++) r[j] = x[n * D + j] - mean[j];
    for (let i = 0; i < D; i++) {
      const ri = r[i];
      if (ri === 0) continue;
      const row = i * D;
      for (let j = i; j < D; j++) cov[row + j] += ri * r[j];
    }
  }
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      const v = cov[i * D + j] / (N - 1);
      cov[i * D + j] = v;
      cov[j * D + i] = v;
    }
  }
  return { dim: D, count: N, mean, cov };
}

function asStats(v: Tensor | GaussianStats, name: string): GaussianStats {
  if (v instanceof Tensor) return gaussianStats(v);
  check(v !== null && typeof v === 'object' && v.mean instanceof Float64Array && v.cov instanceof Float64Array &&
    v.cov.length === v.mean.length * v.mean.length,
  () => `${name}: expected a Tensor [N, D] or gaussianStats() of one`);
  return v;
}

function toMatrix(a: Float64Array, d: number): Matrix {
  const m = new Matrix(d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) m.set(i, j, a[i * d + j]);
  return m;
}

/** Symmetric eigen-decomposition of a (symmetrised to remove rounding asymmetry). */
function symEig(m: Matrix): { values: number[]; vectors: Matrix } {
  const s = m.add(m.transpose()).mul(0.5);
  const e = new EigenvalueDecomposition(s, { assumeSymmetric: true });
  return { values: e.realEigenvalues, vectors: e.eigenvectorMatrix };
}

/** tr((S1 S2)^(1/2)) for symmetric positive semi-definite S1, S2. */
export function traceSqrtProduct(s1: Float64Array, s2: Float64Array, d: number): number {
  const e1 = symEig(toMatrix(s1, d));
  // A = V diag(sqrt(l)) V^T
  const v = e1.vectors;
  const vs = v.clone();
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(Math.max(e1.values[j], 0));
    for (let i = 0; i < d; i++) vs.set(i, j, vs.get(i, j) * s);
  }
  const a = vs.mmul(v.transpose());
  const m = a.mmul(toMatrix(s2, d)).mmul(a);
  return symEig(m).values.reduce((t, l) => t + Math.sqrt(Math.max(l, 0)), 0);
}

/**
 * The Frechet distance between Gaussians fitted to two feature sets [N, D] (or their
 * gaussianStats). The FID is this on a classifier's features.
 */
export function frechetDistance(a: Tensor | GaussianStats, b: Tensor | GaussianStats): number {
  const sa = asStats(a, 'a');
  const sb = asStats(b, 'b');
  const d = sa.mean.length;
  check(sb.mean.length === d, () => `b: expected ${d} features (as a), got ${sb.mean.length}`);
  let diff = 0;
  for (let j = 0; j < d; j++) diff += (sa.mean[j] - sb.mean[j]) ** 2;
  let tr = 0;
  for (let j = 0; j < d; j++) tr += sa.cov[j * d + j] + sb.cov[j * d + j];
  return diff + tr - 2 * traceSqrtProduct(sa.cov, sb.cov, d);
}
