/**
 * Gradient rules of the linalg ops (entries of the rule table, src/autograd/rules.ts). Each is
 * composed of recorded ops (matmul, tril, solveTriangular, solve, ...), so it can be
 * differentiated again under createGraph; a first-order backward of solve and slogdet reuses the
 * forward's LU instead of factorizing A^T again.
 */
import { type GradNode, isGradEnabled } from '../autograd/engine.js';
import { KilnError } from '../errors.js';
import { sumTo } from '../ops/reduce.js';
import type { Tensor } from '../tensor.js';
import { diagEmbed, identity, mT, tril, triu } from './matrix.js';
import { inv, solve, solveTriangular } from './ops.js';
import { type LU, luSolveRaw } from './raw.js';

type Grads = (Tensor | null | undefined)[];

/** PyTorch's cholesky_backward: gA = L^-T sym(tril(L^T gL)) L^-1, symmetric. */
export function choleskyGrad({ saved }: GradNode, gL: Tensor): Grads {
  const L: Tensor = saved.L;
  const lower = saved.upper ? mT(L) : L;
  const g = saved.upper ? mT(gL) : gL;
  let gA = tril(mT(lower).matmul(g));
  gA = gA.add(mT(tril(gA, -1))).mul(0.5);
  gA = solveTriangular(mT(lower), gA, { upper: true, left: true });
  gA = solveTriangular(lower, gA, { upper: false, left: false });
  return [gA];
}

/** X = A^-1 B (left) or B A^-1: gB = A^-T gX (or gX A^-T), gA = -gB X^T (or -X^T gB) on A's triangle. */
export function solveTriangularGrad({ inputs: [A, B], next, saved }: GradNode, gX: Tensor): Grads {
  const { X, upper, left, unitriangular } = saved as { X: Tensor; upper: boolean; left: boolean; unitriangular: boolean };
  const gB = solveTriangular(mT(A), gX, { upper: !upper, left, unitriangular });
  let gA: Tensor | null = null;
  if (next[0]) {
    const g = (left ? gB.matmul(mT(X)) : mT(X).matmul(gB)).neg();
    const diag = unitriangular ? 1 : 0;
    gA = sumTo(upper ? triu(g, diag) : tril(g, -diag), A.shape);
  }
  return [gA, next[1] ? sumTo(gB, B.shape) : null];
}

/** X = A^-1 B: gB = A^-T gX, gA = -gB X^T. */
export function solveGrad({ inputs: [A], next, saved }: GradNode, gX: Tensor): Grads {
  const X: Tensor = saved.X;
  const lu: LU = saved.lu;
  const gB = isGradEnabled() ? solve(mT(A), gX) : luSolveRaw(lu, gX, true, A.device);
  return [next[0] ? gB.matmul(mT(X)).neg() : null, next[1] ? gB : null];
}

/** d logabsdet / dA = A^-T. */
export function slogdetGrad({ inputs: [A], saved }: GradNode, g: Tensor): Grads {
  const n = A.shape[A.ndim - 1];
  let invT: Tensor;
  if (isGradEnabled()) {
    invT = mT(inv(A));
  } else {
    const lu: LU = saved.lu;
    invT = luSolveRaw(lu, identity(n, A.dtype, 'cpu').expand([...A.shape.slice(0, -2), n, n]), true, A.device);
  }
  return [invT.mul(g.unsqueeze(-1).unsqueeze(-1))];
}

/**
 * A = V diag(w) V^T: gA = V (diag(gw) + skew(V^T gV) / E) V^T with E[i][j] = w[j] - w[i]
 * (PyTorch's linalg_eig_backward for Hermitian input); infinite for repeated eigenvalues when
 * the eigenvectors get a gradient.
 */
export function eighGrad({ saved }: GradNode, _dy: Tensor, dys: (Tensor | undefined)[]): Grads {
  const w: Tensor = saved.w;
  const V: Tensor = saved.V;
  const [gw, gV] = dys;
  const Vt = mT(V);
  let inner: Tensor | null = gw === undefined ? null : diagEmbed(gw);
  if (gV !== undefined) {
    const M = Vt.matmul(gV);
    const skew = M.sub(mT(M)).mul(0.5);
    const n = w.shape[w.ndim - 1];
    const E = w.unsqueeze(-2).sub(w.unsqueeze(-1)).add(identity(n, w.dtype, w.device));
    const part = skew.div(E);
    inner = inner === null ? part : inner.add(part);
  }
  if (inner === null) return [null];
  return [V.matmul(inner).matmul(Vt)];
}

export function qrGrad(): Grads {
  throw new KilnError('qr: Kiln has no gradient for qr; detach() its input, or use cholesky/solve/eigh, which have one');
}

/** The diagonal's gradient: dy on the diagonal of an R x C zero matrix. */
export function diagonalGrad({ saved }: GradNode, dy: Tensor): Grads {
  return [diagEmbed(dy, saved.R, saved.C)];
}
