/**
 * kiln.linalg: torch.linalg's names and conventions, camelCase, over the last two dims with any
 * leading batch dims, float32 or float64. Gradients (src/linalg/grad.ts, in the rule table) for
 * cholesky, solveTriangular, solve, inv, slogdet, det and eigh; qr has none and says so.
 */
import { record, recordMulti } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { check } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { diagonal, identity } from './matrix.js';
import {
  type LU, checkFloatMatrix, checkSquare, choleskyOrThrow, choleskyRaw, disposeLU, eighRaw, luFactorRaw, luSolveRaw,
  qrRaw, raiseNonFinite, raiseSingular, solveTriangularRaw,
} from './raw.js';

function options<T extends object>(opts: unknown, allowed: readonly string[], what: string): Partial<T> {
  if (opts === undefined) return {};
  check(opts !== null && typeof opts === 'object' && !Array.isArray(opts), () => `${what}: options: expected an object`);
  for (const k of Object.keys(opts as object)) {
    check(allowed.includes(k), () => `${what}: unknown option '${k}' (expected ${allowed.join(', ')})`);
  }
  return opts as Partial<T>;
}

function bool(v: unknown, name: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  check(typeof v === 'boolean', () => `${name}: expected a boolean, got ${String(v)}`);
  return v;
}

/**
 * The Cholesky factor of symmetric positive-definite A [..., n, n]: lower L with A = L L^T, or
 * upper U with A = U^T U ({ upper: true }). Reads only that triangle of A. Throws a KilnError
 * naming the batch index of the first matrix that is not positive-definite (choleskyEx returns
 * the codes instead).
 */
export function cholesky(A: Tensor, opts?: { upper?: boolean }): Tensor {
  const o = options<{ upper: boolean }>(opts, ['upper'], 'cholesky');
  const upper = bool(o.upper, 'upper', false);
  const L = choleskyOrThrow(A, upper);
  return record(L, 'cholesky', [A], { L, upper }, 0, null, [L]);
}

/**
 * cholesky without the throw: { L, info }, info an int32 tensor [...] of 0 (factorized), k > 0
 * (the leading minor of order k is not positive-definite; L is partial) or -1 (NaN or infinity).
 */
export function choleskyEx(A: Tensor, opts?: { upper?: boolean }): { L: Tensor; info: Tensor } {
  const o = options<{ upper: boolean }>(opts, ['upper'], 'choleskyEx');
  const upper = bool(o.upper, 'upper', false);
  const { L, info } = choleskyRaw(A, upper);
  const infoT = tensor(info, { dtype: 'int32', shape: A.shape.slice(0, -2), device: A.device });
  return { L: record(L, 'cholesky', [A], { L, upper }, 0, null, [L]), info: infoT };
}

/**
 * X with A X = B (left, the default) or X A = B ({ left: false }) for triangular A [..., n, n]
 * (lower, or upper: { upper: true }); B [..., m, k]; batch dims broadcast. unitriangular takes
 * A's diagonal as ones. A zero on the diagonal gives inf/NaN, as LAPACK's trsm and PyTorch.
 */
export function solveTriangular(A: Tensor, B: Tensor, opts: { upper: boolean; left?: boolean; unitriangular?: boolean }): Tensor {
  check(opts !== undefined, 'solveTriangular: options: { upper } is required (as torch.linalg.solve_triangular)');
  const o = options<{ upper: boolean; left: boolean; unitriangular: boolean }>(opts, ['upper', 'left', 'unitriangular'], 'solveTriangular');
  check(typeof o.upper === 'boolean', 'upper: expected a boolean (required)');
  const tri = { upper: o.upper as boolean, left: bool(o.left, 'left', true), unitriangular: bool(o.unitriangular, 'unitriangular', false) };
  const X = solveTriangularRaw(A, B, tri);
  return record(X, 'solveTriangular', [A, B], { X, ...tri }, 0, null, [X]);
}

/** A as a batch of matrices and B as a batch of column blocks [..., n, k] (a vector B becomes one column). */
function asColumns(A: Tensor, B: Tensor, what: string): { Bm: Tensor; vector: boolean } {
  checkFloatMatrix(A, 'A', what);
  check(B !== undefined && B !== null, () => `${what}: B: expected a Tensor`);
  const vector = B.ndim === 1 || (B.ndim === A.ndim - 1 && B.shape.every((d, i) => i === B.ndim - 1 || d === A.shape[i]));
  return { Bm: vector ? B.unsqueeze(-1) : B, vector };
}

/**
 * X with A X = B for square A [..., n, n] (LU with partial pivoting); B [..., n, k] or a batch of
 * vectors [..., n]; batch dims broadcast. { left: false } solves X A = B. A singular matrix throws
 * a KilnError naming its batch index.
 */
export function solve(A: Tensor, B: Tensor, opts?: { left?: boolean }): Tensor {
  const o = options<{ left: boolean }>(opts, ['left'], 'solve');
  if (!bool(o.left, 'left', true)) return solve(A.transpose(-1, -2), B.transpose(-1, -2)).transpose(-1, -2);
  const n = checkSquare(A, 'A', 'solve');
  const { Bm, vector } = asColumns(A, B, 'solve');
  check(Bm.ndim >= 2 && Bm.shape[Bm.ndim - 2] === n, () => `solve: B: expected ${n} rows to match A, got shape [${B.shape.join(', ')}]`);
  check(A.dtype === B.dtype, () => `solve: A is ${A.dtype} and B ${B.dtype}; expected one dtype`);
  check(A.device === B.device, () => `solve: A and B are on different devices (${A.device} and ${B.device})`);
  // broadcast the batch dims, then one LU per matrix of A
  const batch = broadcastBatch(A.shape.slice(0, -2), Bm.shape.slice(0, -2));
  const Ab = sameDims(A.shape.slice(0, -2), batch) ? A : A.expand([...batch, n, n]);
  const Bb = sameDims(Bm.shape.slice(0, -2), batch) ? Bm : Bm.expand([...batch, n, Bm.shape[Bm.ndim - 1]]);
  const lu = luFactorRaw(Ab, 'solve');
  let X: Tensor;
  try {
    raiseSingular('solve', lu);
    X = luSolveRaw(lu, Bb, false, A.device);
  } catch (e) {
    disposeLU(lu);
    throw e;
  }
  const out = record(X, 'solve', [Ab, Bb], { X, lu }, 0, [lu.LU, lu.pivots], [X]);
  if (out.gradFn === null) disposeLU(lu);
  return vector ? out.squeeze(-1) : out;
}

/** A^-1 for square A [..., n, n] (through solve, so its gradient is solve's). */
export function inv(A: Tensor): Tensor {
  const n = checkSquare(A, 'A', 'inv');
  const I = identity(n, A.dtype, A.device);
  try {
    return solve(A, I.expand([...A.shape.slice(0, -2), n, n]));
  } catch (e) {
    throw e instanceof Error ? Object.assign(e, { message: e.message.replace(/^solve:/, 'inv:') }) : e;
  }
}

/**
 * { sign, logabsdet } of det(A) for square A [..., n, n] (LU). A singular matrix gives sign 0 and
 * logabsdet -inf, as PyTorch. The gradient of logabsdet is A^-T (sign has none).
 */
export function slogdet(A: Tensor): { sign: Tensor; logabsdet: Tensor } {
  const n = checkSquare(A, 'A', 'slogdet');
  const lu = luFactorRaw(A, 'slogdet');
  try {
    raiseNonFinite('slogdet', lu);
  } catch (e) {
    disposeLU(lu);
    throw e;
  }
  const { sign, logabsdet } = signAndLog(lu, n, A);
  const out = record(logabsdet, 'slogdet', [A], { lu }, 0b1, [lu.LU, lu.pivots]);
  if (out.gradFn === null) disposeLU(lu);
  return { sign, logabsdet: out };
}

/** det(A) = sign * exp(logabsdet), differentiable through slogdet. */
export function det(A: Tensor): Tensor {
  const { sign, logabsdet } = slogdet(A);
  return sign.mul(logabsdet.exp());
}

/** sign and log|det| from an LU: the diagonal of U and the parity of the row swaps. */
function signAndLog(lu: LU, n: number, A: Tensor): { sign: Tensor; logabsdet: Tensor } {
  const batch = lu.batchShape;
  const d = diagonal(lu.LU);
  const logabs = d.abs().log().sum(-1);
  const signs = d.sign();
  // (-1)^(number of rows swapped) times the product of the diagonal's signs, on the host (n per matrix)
  const piv = lu.pivots.toTypedArray() as Int32Array;
  const sg = signs.toTypedArray();
  const count = piv.length / Math.max(n, 1);
  const out = new Float64Array(Math.max(count, n === 0 ? sizeOfShape(batch) : 0));
  for (let b = 0; b < out.length; b++) {
    let s = 1;
    for (let j = 0; j < n; j++) {
      if (piv[b * n + j] !== j) s = -s;
      s *= sg[b * n + j];
    }
    out[b] = s + 0; // -0 (a zero pivot) reads as 0
  }
  d.dispose();
  signs.dispose();
  const sign = tensor(out, { dtype: A.dtype, shape: batch, device: A.device });
  const logabsdet = logabs.device === A.device ? logabs : logabs.to(A.device);
  if (logabsdet !== logabs) logabs.dispose();
  return { sign, logabsdet };
}

function sizeOfShape(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric A [..., n, n],
 * read from its lower triangle ({ UPLO: 'U' }: the upper). Eigenvectors' signs are arbitrary,
 * as LAPACK's; the gradient assumes distinct eigenvalues (PyTorch's formula).
 */
export function eigh(A: Tensor, opts?: { UPLO?: 'L' | 'U' }): { eigenvalues: Tensor; eigenvectors: Tensor } {
  const o = options<{ UPLO: 'L' | 'U' }>(opts, ['UPLO'], 'eigh');
  check(o.UPLO === undefined || o.UPLO === 'L' || o.UPLO === 'U', () => `UPLO: expected 'L' or 'U', got ${String(o.UPLO)}`);
  const { w, V } = eighRaw(A, o.UPLO === 'U');
  recordMulti([w, V], 'eigh', [A], { w, V }, { materialize: true });
  return { eigenvalues: w, eigenvectors: V };
}

/** Eigenvalues only (ascending). */
export function eigvalsh(A: Tensor, opts?: { UPLO?: 'L' | 'U' }): Tensor {
  const { eigenvalues, eigenvectors } = eigh(A, opts);
  if (!eigenvalues.requiresGrad) eigenvectors.dispose();
  return eigenvalues;
}

/**
 * A = Q R by Householder reflections: mode 'reduced' (default; Q [..., m, p], R [..., p, n],
 * p = min(m, n)) or 'complete' (Q [..., m, m], R [..., m, n]). R's diagonal may be negative, as
 * LAPACK's. No gradient: a graph through qr throws in backward.
 */
export function qr(A: Tensor, opts?: { mode?: 'reduced' | 'complete' }): { Q: Tensor; R: Tensor } {
  const o = options<{ mode: string }>(opts, ['mode'], 'qr');
  check(o.mode === undefined || o.mode === 'reduced' || o.mode === 'complete',
    () => `mode: expected 'reduced' or 'complete', got ${String(o.mode)}`);
  const { Q, R } = qrRaw(A, o.mode === 'complete');
  recordMulti([Q, R], 'qr', [A], {});
  return { Q, R };
}

// ---- small helpers
function broadcastBatch(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    check(da === db || da === 1 || db === 1, () => `solve: batch dims [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
