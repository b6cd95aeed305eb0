/**
 * The EM steps of a Gaussian mixture as batched tensor ops (scikit-learn 1.2's formulas).
 *
 * Rows are processed in chunks; each chunk is read once per iteration by both steps: the E-step
 * gives its log-responsibilities (log-sum-exp over components) and the M-step adds its weighted
 * sums into accumulators. For 'full' covariances both steps use the chunk's outer products
 * XX = [x x^T], upper triangle only (x_i x_j, i <= j: d(d+1)/2 columns, half of d*d, since both
 * sides are symmetric), as one [rows, d(d+1)/2] matrix, so each is one GEMM against all
 * components at once:
 *   E: (x - mu_k)^T L_k (x - mu_k) = XX . L'_k - 2 x . (L_k mu_k) + mu_k . L_k mu_k
 *      (L_k = P_k P_k^T; L'_k its upper triangle with the off-diagonal entries doubled)
 *   M: S_k = sum_n r_nk x x^T / N_k - mu_k mu_k^T + regCovar I  (the triangle mirrored)
 * The data are centered on their mean first (the estimators shift them back), which keeps this
 * moment form accurate; 'tied', 'diag' and 'spherical' follow sklearn's own moment formulas.
 */
import { noGrad } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { cholesky, choleskyEx, diagonal, solveTriangular } from '../linalg/index.js';
import { identity } from '../linalg/matrix.js';
import { keep, scope } from '../memory.js';
import { native } from '../native.js';
import { contiguous, disposeTemp, empty } from '../ops/util.js';
import type { Tensor } from '../tensor.js';

export type CovarianceType = 'full' | 'tied' | 'diag' | 'spherical';

/** Mixture parameters; means in the centered coordinates of the fit. */
export interface Params {
  weights: Tensor;             // [k]
  means: Tensor;               // [k, d]
  covariances: Tensor | null;  // full [k,d,d], tied [d,d], diag [k,d], spherical [k]; null before the first M-step when precisionsInit was given
  precChol: Tensor;            // same shapes as covariances
}

export const LOG_2PI = Math.log(2 * Math.PI);

/** sklearn's message when a covariance is not positive-definite. */
export const ILL_DEFINED =
  'Fitting the mixture model failed because some components have ill-defined empirical covariance ' +
  '(for instance caused by singleton or collapsed samples). Try to decrease the number of components, or increase regCovar.';

/** Rows per chunk: about 2^21 values in the largest per-chunk matrix. */
export function chunkRows(n: number, d: number, k: number, type: CovarianceType): number {
  const width = type === 'full' ? (d * (d + 1)) / 2 : Math.max(d, k);
  return Math.max(64, Math.min(n, Math.floor((1 << 21) / Math.max(width, 1))));
}

/**
 * The upper triangle of a d x d matrix, row by row (pairs i <= j): the pairs' flat index i*d + j, the weight of each pair in a symmetric form (1 on the diagonal, 2
 * off it), and for every flat index of the full matrix the pair holding it. Host arrays, cached.
 */
interface Triangle { flat: Int32Array; weight: Float64Array; full: Int32Array }
const triangles = new Map<number, Triangle>();
function triangle(d: number): Triangle {
  let t = triangles.get(d);
  if (t === undefined) {
    const m = (d * (d + 1)) / 2;
    t = { flat: new Int32Array(m), weight: new Float64Array(m), full: new Int32Array(d * d) };
    let p = 0;
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++, p++) {
        t.flat[p] = i * d + j;
        t.weight[p] = i === j ? 1 : 2;
        t.full[i * d + j] = t.full[j * d + i] = p;
      }
    }
    triangles.set(d, t);
  }
  return t;
}
const indexOn = (a: Int32Array, like: Tensor): Tensor => tensor(a, { dtype: 'int32', device: like.device });

/**
 * [rows, d(d+1)/2]: the upper triangle of the outer product x x^T of every row (x_i x_j, i <= j,
 * in triangle() order): the native op outerTriangle (at 3971 x 32 the composed forms took 20-60
 * ms per chunk on one thread, more than the two GEMMs that use it). No gradient (EM needs none).
 */
export function outerRows(X: Tensor): Tensor {
  check((X.dtype === 'float32' || X.dtype === 'float64') && X.ndim === 2, () => `outerRows: X: expected a 2-D float32 or float64 tensor, got ${X.dtype} ${shapeStr(X.shape)}`);
  const [n, d] = X.shape;
  const xc = contiguous(X);
  const out = empty([n, (d * (d + 1)) / 2], X.dtype, X.device);
  native.outerTriangle(out.storage.handle, 0, xc.storage.handle, xc.offset, n, d);
  disposeTemp(xc, X);
  return out;
}

/** What the E-step needs from the parameters, computed once per iteration. */
export interface ETerms {
  type: CovarianceType;
  d: number;
  logw: Tensor;                   // [k] log weights
  logdet: Tensor;                 // [k] log det of P_k (half the log det of the precision)
  quad: Tensor;                   // full: [d(d+1)/2, k] precisions' upper triangles, off-diagonal doubled; tied: P [d, d]; diag: precisions [k, d]; spherical: [k]
  lin: Tensor;                    // [d, k]: the cross term's matrix (-2 included)
  cst: Tensor;                    // [k]: the constant mu-only term
}

export function eTerms(p: Params, type: CovarianceType): ETerms {
  const { means, precChol: P } = p;
  const [k, d] = means.shape;
  const logw = p.weights.log();
  switch (type) {
    case 'full': {
      const prec = P.matmul(P.transpose(1, 2));                       // [k, d, d]
      const Lmu = prec.matmul(means.unsqueeze(2)).squeeze(2);        // [k, d]
      const tri = triangle(d);
      const quad = prec.reshape([k, d * d]).indexSelect(1, indexOn(tri.flat, prec))
        .mul(tensor(tri.weight, { dtype: prec.dtype, device: prec.device }));
      return {
        type, d, logw,
        logdet: diagonal(P).log().sum(1),
        quad: quad.t(),
        lin: Lmu.t().mul(-2),
        cst: Lmu.mul(means).sum(1),
      };
    }
    case 'tied': {
      const muP = means.matmul(P);                                    // [k, d]
      return { type, d, logw, logdet: diagonal(P).log().sum().expand([k]), quad: P, lin: muP.t().mul(-2), cst: muP.square().sum(1) };
    }
    case 'diag': {
      const prec = P.square();                                        // [k, d]
      return { type, d, logw, logdet: P.log().sum(1), quad: prec, lin: means.mul(prec).t().mul(-2), cst: means.square().mul(prec).sum(1) };
    }
    case 'spherical': {
      const prec = P.square();                                        // [k]
      return { type, d, logw, logdet: P.log().mul(d), quad: prec, lin: means.t().mul(prec).mul(-2), cst: means.square().sum(1).mul(prec) };
    }
  }
}

/** log w_k + log N(x | mu_k, Sigma_k) for a chunk: [rows, k]. XX is the chunk's outerRows (full only). */
export function weightedLogProb(X: Tensor, XX: Tensor | null, t: ETerms): Tensor {
  let maha: Tensor;
  switch (t.type) {
    case 'full':
      maha = XX!.matmul(t.quad).add(X.matmul(t.lin)).add(t.cst);
      break;
    case 'tied': {
      const Y = X.matmul(t.quad);  // x P; lin = -2 (mu P)^T
      maha = Y.square().sum(1, true).add(Y.matmul(t.lin)).add(t.cst);
      break;
    }
    case 'diag':
      maha = X.square().matmul(t.quad.t()).add(X.matmul(t.lin)).add(t.cst);
      break;
    case 'spherical':
      maha = X.square().sum(1, true).mul(t.quad).add(X.matmul(t.lin)).add(t.cst);
      break;
  }
  return maha.add(t.d * LOG_2PI).mul(-0.5).add(t.logdet).add(t.logw);
}

/** Weighted sums of the rows, over every chunk of an iteration. */
export class Accumulator {
  nk: Tensor | null = null;   // [k]
  sx: Tensor | null = null;   // [k, d]
  sxx: Tensor | null = null;  // full: [k, d(d+1)/2] (outerRows' upper triangle); diag, spherical: [k, d] (of x^2)

  constructor(readonly type: CovarianceType) {}

  add(X: Tensor, XX: Tensor | null, resp: Tensor): void {
    const rt = resp.t();
    const parts: [keyof this & ('nk' | 'sx' | 'sxx'), Tensor][] = [['nk', resp.sum(0)], ['sx', rt.matmul(X)]];
    if (this.type === 'full') parts.push(['sxx', rt.matmul(XX!)]);
    else if (this.type === 'diag' || this.type === 'spherical') parts.push(['sxx', rt.matmul(X.square())]);
    for (const [key, v] of parts) {
      const prev = this[key] as Tensor | null;
      if (prev === null) (this as any)[key] = keep(v);
      else {
        prev.add_(v);
        v.dispose();
      }
    }
  }

  dispose(): void {
    this.nk?.dispose();
    this.sx?.dispose();
    this.sxx?.dispose();
  }
}

/** Machine epsilon of a float dtype (sklearn adds 10 eps to every N_k). */
export function epsOf(dtype: string): number {
  return dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7;
}

/**
 * Parameters from the accumulated sums (sklearn's _estimate_gaussian_parameters): N_k, means,
 * covariances. xtx is X^T X of the whole (centered) data, for 'tied'. Weights are N_k here;
 * the caller normalises them.
 */
export function estimate(acc: Accumulator, xtx: Tensor | null, regCovar: number): { nk: Tensor; means: Tensor; covariances: Tensor } {
  const type = acc.type;
  const nk = acc.nk!.add(10 * epsOf(acc.nk!.dtype));
  const means = acc.sx!.div(nk.unsqueeze(1));
  const [k, d] = means.shape;
  let cov: Tensor;
  switch (type) {
    case 'full': {
      const second = acc.sxx!.indexSelect(1, indexOn(triangle(d).full, acc.sxx!)).div(nk.unsqueeze(1)).reshape([k, d, d]);
      const outer = means.unsqueeze(2).mul(means.unsqueeze(1));
      cov = second.sub(outer).add(identity(d, means.dtype, means.device).mul(regCovar));
      break;
    }
    case 'tied': {
      const avgMeans2 = means.t().mul(nk).matmul(means);
      cov = xtx!.sub(avgMeans2).div(nk.sum()).add(identity(d, means.dtype, means.device).mul(regCovar));
      break;
    }
    case 'diag':
    case 'spherical': {
      const avgX2 = acc.sxx!.div(nk.unsqueeze(1));
      const avgXMeans = means.mul(acc.sx!).div(nk.unsqueeze(1));
      const diag = avgX2.sub(avgXMeans.mul(2)).add(means.square()).add(regCovar);
      cov = type === 'diag' ? diag : diag.mean(1);
      break;
    }
  }
  return { nk, means, covariances: cov };
}

/** P with P P^T = the inverse of each covariance (sklearn's _compute_precision_cholesky). */
export function precisionCholesky(cov: Tensor, type: CovarianceType): Tensor {
  if (type === 'full' || type === 'tied') {
    const { L, info } = choleskyEx(cov);
    const bad = info.toTypedArray().some((v) => v !== 0);
    info.dispose();
    if (bad) {
      L.dispose();
      throw new KilnError(`GaussianMixture: ${ILL_DEFINED}`);
    }
    const d = cov.shape[cov.ndim - 1];
    return solveTriangular(L, identity(d, cov.dtype, cov.device), { upper: false }).transpose(-1, -2).contiguous();
  }
  if (scope(() => cov.le(0).sum().item()) > 0) throw new KilnError(`GaussianMixture: ${ILL_DEFINED}`);
  return cov.rsqrt();
}

/** P from a given precision (precisionsInit): its lower Cholesky factor, or its square root. */
export function precisionCholeskyFromPrecision(prec: Tensor, type: CovarianceType): Tensor {
  if (type === 'full' || type === 'tied') return cholesky(prec);
  return prec.sqrt();
}

/** Everything a training pass needs once per fit: the centered data's X^T X (tied). */
export function gram(X: Tensor, type: CovarianceType): Tensor | null {
  return type === 'tied' ? noGrad(() => X.t().matmul(X)) : null;
}
