/**
 * The EM steps of a Gaussian mixture as batched tensor ops (scikit-learn 1.2's formulas).
 *
 * Rows are processed in chunks; each chunk is read once per iteration by both steps: the E-step
 * gives its log-responsibilities (log-sum-exp over components) and the M-step adds its weighted
 * sums into accumulators. For 'full' covariances both steps use the chunk's outer products
 * XX = [x x^T] as one [rows, d*d] matrix, so each is one GEMM against all components at once:
 *   E: (x - mu_k)^T L_k (x - mu_k) = XX . L_k - 2 x . (L_k mu_k) + mu_k . L_k mu_k   (L_k = P_k P_k^T)
 *   M: S_k = sum_n r_nk x x^T / N_k - mu_k mu_k^T + regCovar I
 * The data are centered on their mean first (the estimators shift them back), which keeps this
 * moment form accurate; 'tied', 'diag' and 'spherical' follow sklearn's own moment formulas.
 */
import { noGrad } from '../autograd/engine.js';
import { KilnError } from '../errors.js';
import { cholesky, choleskyEx, diagonal, solveTriangular } from '../linalg/index.js';
import { identity } from '../linalg/matrix.js';
import { keep, scope } from '../memory.js';
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
  const width = type === 'full' ? d * d : Math.max(d, k);
  return Math.max(64, Math.min(n, Math.floor((1 << 21) / Math.max(width, 1))));
}

/** [rows, d*d]: the outer product x x^T of every row, flattened. */
export function outerRows(X: Tensor): Tensor {
  const [r, d] = X.shape;
  return X.unsqueeze(2).mul(X.unsqueeze(1)).reshape([r, d * d]);
}

/** What the E-step needs from the parameters, computed once per iteration. */
export interface ETerms {
  type: CovarianceType;
  d: number;
  logw: Tensor;                   // [k] log weights
  logdet: Tensor;                 // [k] log det of P_k (half the log det of the precision)
  quad: Tensor;                   // full: [d*d, k] precisions; tied: P [d, d]; diag: precisions [k, d]; spherical: [k]
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
      return {
        type, d, logw,
        logdet: diagonal(P).log().sum(1),
        quad: prec.reshape([k, d * d]).t(),
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
  sxx: Tensor | null = null;  // full: [k, d*d]; diag, spherical: [k, d] (of x^2)

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
      const second = acc.sxx!.div(nk.unsqueeze(1)).reshape([k, d, d]);
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
