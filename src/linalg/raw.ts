/**
 * The linalg kernels without recording: argument checks, batch flattening, and the CPU round
 * trip. The kernels are CPU code (native/cpu/kernels/linalg*.cc); a tensor on a CUDA device is
 * copied to the host, factorized there and its results copied back (a documented round trip:
 * one device-to-host and one host-to-device copy per call, plus the sync to read `info`).
 */
import { noGrad } from '../autograd/engine.js';
import type { Device } from '../device.js';
import { type FloatDType, isFloating } from '../dtype.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { native } from '../native.js';
import { broadcastShapes, checkSameDevice, checkTensor, contiguous, empty, sizeOf } from '../ops/util.js';
import { Tensor } from '../tensor.js';

/** x on the CPU and contiguous (x itself when it already is). */
function hostContiguous(x: Tensor): Tensor {
  if (x.device === 'cpu') return contiguous(x);
  return noGrad(() => {
    const c = contiguous(x);
    const h = c.to('cpu');
    if (c !== x) c.dispose();
    return h;
  });
}

/** A result made on the CPU, moved to `device` (the CPU tensor is disposed when moved). */
function toDevice(t: Tensor, device: Device): Tensor {
  if (device === 'cpu') return t;
  const d = noGrad(() => t.to(device));
  t.dispose();
  return d;
}

function release(tmp: Tensor, orig: Tensor): void {
  if (tmp !== orig) tmp.dispose();
}

export function checkFloatMatrix(A: Tensor, name: string, what: string): FloatDType {
  checkTensor(A, name);
  check(isFloating(A.dtype) && A.dtype !== 'bfloat16', () => `${what}: ${name}: expected a float32 or float64 tensor, got ${A.dtype}` +
    (A.dtype === 'bfloat16' ? ' (linalg has no bfloat16 kernels; cast with float())' : ''));
  check(A.ndim >= 2, () => `${what}: ${name}: expected a matrix or a batch of matrices ([..., rows, cols]), got shape ${shapeStr(A.shape)}`);
  return A.dtype as FloatDType;
}

export function checkSquare(A: Tensor, name: string, what: string): number {
  checkFloatMatrix(A, name, what);
  const [R, C] = A.shape.slice(-2);
  check(R === C, () => `${what}: ${name}: expected square matrices, got shape ${shapeStr(A.shape)}`);
  return R;
}

/** Batch index i of batch shape `batch` as "[i0, i1]" (or "i" for one batch dim). */
function batchIndex(i: number, batch: readonly number[]): string {
  if (batch.length <= 1) return String(i);
  const idx: number[] = [];
  for (let d = batch.length - 1; d >= 0; d--) {
    idx.unshift(i % batch[d]);
    i = Math.floor(i / batch[d]);
  }
  return `[${idx.join(', ')}]`;
}

/** Reads the info words; returns them (the caller decides what a nonzero value means). */
function readInfo(info: Tensor): Int32Array {
  const v = info.toTypedArray() as Int32Array;
  info.dispose();
  return v;
}

/** Throws for the first matrix whose info is nonzero, naming its batch index. */
function raiseInfo(what: string, info: Int32Array, batch: readonly number[], describe: (k: number) => string): void {
  for (let i = 0; i < info.length; i++) {
    const k = info[i];
    if (k === 0) continue;
    const which = batch.length === 0 ? 'the matrix' : `matrix ${batchIndex(i, batch)} of the batch`;
    throw new KilnError(`${what}: ${which} ${k === -1 ? 'contains NaN or infinity' : describe(k)}`);
  }
}

// ---------------------------------------------------------------- Cholesky

/** L with info per matrix (0 ok, k > 0 the failing minor's order, -1 not finite). */
export function choleskyRaw(A: Tensor, upper: boolean): { L: Tensor; info: Int32Array } {
  const n = checkSquare(A, 'A', 'cholesky');
  const batchShape = A.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  const Ac = hostContiguous(A);
  const L = empty(A.shape, A.dtype, 'cpu');
  const info = empty([batch], 'int32', 'cpu');
  if (batch > 0 && n > 0) {
    native.cholesky(L.storage.handle, 0, info.storage.handle, 0, Ac.storage.handle, Ac.offset, batch, n, upper);
  } else if (batch > 0) {
    native.fill(info.storage.handle, 0, batch, 0);
  }
  release(Ac, A);
  return { L: toDevice(L, A.device), info: batch > 0 ? readInfo(info) : (info.dispose(), new Int32Array(0)) };
}

export function choleskyOrThrow(A: Tensor, upper: boolean, what = 'cholesky'): Tensor {
  const { L, info } = choleskyRaw(A, upper);
  try {
    raiseInfo(what, info, A.shape.slice(0, -2),
      (k) => `is not positive-definite (the leading minor of order ${k} is not positive); the factorization could not be completed`);
  } catch (e) {
    L.dispose();
    throw e;
  }
  return L;
}

// ---------------------------------------------------------------- triangular solves

export interface TriangularOptions {
  upper: boolean;
  left: boolean;
  unitriangular: boolean;
}

/**
 * X = A^-1 B (left) or B A^-1 (right) for triangular A [..., n, n] and B [..., m, k], batch dims
 * broadcast. A transposed view of a contiguous matrix is read as stored (no copy).
 */
export function solveTriangularRaw(A: Tensor, B: Tensor, o: TriangularOptions): Tensor {
  const n = checkSquare(A, 'A', 'solveTriangular');
  checkFloatMatrix(B, 'B', 'solveTriangular');
  checkSameDevice(A, B, 'solveTriangular');
  check(A.dtype === B.dtype, () => `solveTriangular: A is ${A.dtype} and B ${B.dtype}; expected one dtype`);
  const [m, k] = B.shape.slice(-2);
  check((o.left ? m : k) === n,
    () => `solveTriangular: A ${shapeStr(A.shape)} and B ${shapeStr(B.shape)} do not align (${o.left ? 'rows' : 'columns'} of B: ${o.left ? m : k}, A: ${n})`);
  const batchShape = broadcastShapes(A.shape.slice(0, -2), B.shape.slice(0, -2), 'solveTriangular batch dims');
  const batch = sizeOf(batchShape);
  const out = empty([...batchShape, m, k], A.dtype, 'cpu');
  if (batch === 0 || m === 0 || k === 0) return toDevice(out, A.device);
  // A: one matrix for the whole batch (stride 0) or one per item; a transposed view of dense
  // storage is passed as stored, with transA (so A.mT costs no copy)
  const temps: Tensor[] = [];
  const keep = (t: Tensor, from: Tensor) => {
    if (t !== from) temps.push(t);
    return t;
  };
  const aOne = sizeOf(A.shape.slice(0, -2)) === 1;
  const aFull = sameShape(A.shape.slice(0, -2), batchShape);
  const nd = A.ndim;
  const transView = n > 1 && A.strides[nd - 2] === 1 && A.strides[nd - 1] === n && (aOne || (aFull && batchDense(A, n * n)));
  let Ac: Tensor;
  if (transView) {
    const t = keep(noGrad(() => A.transpose(-1, -2)), A);
    Ac = keep(hostContiguous(t), t);
  } else if (aOne || aFull) {
    Ac = keep(hostContiguous(A), A);
  } else {
    const e = keep(noGrad(() => A.expand([...batchShape, n, n])), A);
    Ac = keep(hostContiguous(e), e);
  }
  let Bc: Tensor;
  if (sameShape(B.shape.slice(0, -2), batchShape)) {
    Bc = keep(hostContiguous(B), B);
  } else {
    const e = keep(noGrad(() => B.expand([...batchShape, m, k])), B);
    Bc = keep(hostContiguous(e), e);
  }
  native.solveTriangular(out.storage.handle, 0, Ac.storage.handle, Ac.offset, aOne ? 0 : n * n, Bc.storage.handle, Bc.offset,
    batch, m, k, transView ? !o.upper : o.upper, transView, o.left, o.unitriangular);
  for (const t of temps) t.dispose();
  return toDevice(out, A.device);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The batch dims of x step over dense matrices of `matrix` elements. */
function batchDense(x: Tensor, matrix: number): boolean {
  let expect = matrix;
  for (let i = x.ndim - 3; i >= 0; i--) {
    if (x.shape[i] !== 1 && x.strides[i] !== expect) return false;
    expect *= x.shape[i];
  }
  return true;
}

// ---------------------------------------------------------------- LU

export interface LU {
  LU: Tensor;      // [..., n, n], on the CPU
  pivots: Tensor;  // int32 [..., n], on the CPU
  info: Int32Array;
  batchShape: number[];
  n: number;
}

/** P A = L U for square A [..., n, n]; LU and pivots stay on the CPU (they feed luSolveRaw). */
export function luFactorRaw(A: Tensor, what: string): LU {
  const n = checkSquare(A, 'A', what);
  const batchShape = A.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  const Ac = hostContiguous(A);
  const LU = empty(A.shape, A.dtype, 'cpu');
  const pivots = empty([...batchShape, n], 'int32', 'cpu');
  const info = empty([batch], 'int32', 'cpu');
  if (batch > 0 && n > 0) {
    native.luFactor(LU.storage.handle, 0, pivots.storage.handle, 0, info.storage.handle, 0, Ac.storage.handle, Ac.offset, batch, n);
  } else if (batch > 0) {
    native.fill(info.storage.handle, 0, batch, 0);
  }
  release(Ac, A);
  return { LU, pivots, info: batch > 0 ? readInfo(info) : (info.dispose(), new Int32Array(0)), batchShape, n };
}

export function raiseSingular(what: string, lu: LU): void {
  raiseInfo(what, lu.info, lu.batchShape, (k) => `is singular (U[${k - 1}, ${k - 1}] of its LU factorization is exactly zero)`);
}

export function raiseNonFinite(what: string, lu: LU): void {
  const info = Int32Array.from(lu.info, (v) => (v === -1 ? -1 : 0));
  raiseInfo(what, info, lu.batchShape, () => '');
}

/** X = A^-1 B (or A^-T B) from an LU of A; B [..., n, k] with the LU's batch shape. */
export function luSolveRaw(lu: LU, B: Tensor, trans: boolean, device: Device): Tensor {
  const [n, k] = B.shape.slice(-2);
  const batch = sizeOf(lu.batchShape);
  const out = empty(B.shape, B.dtype, 'cpu');
  if (batch > 0 && n > 0 && k > 0) {
    const Bc = hostContiguous(B);
    native.luSolve(out.storage.handle, 0, lu.LU.storage.handle, 0, lu.pivots.storage.handle, 0, Bc.storage.handle, Bc.offset,
      batch, n, k, trans);
    release(Bc, B);
  }
  return toDevice(out, device);
}

export function disposeLU(lu: LU): void {
  lu.LU.dispose();
  lu.pivots.dispose();
}

// ---------------------------------------------------------------- eigh, QR

export function eighRaw(A: Tensor, upper: boolean): { w: Tensor; V: Tensor } {
  const n = checkSquare(A, 'A', 'eigh');
  const batchShape = A.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  const Ac = hostContiguous(A);
  const w = empty([...batchShape, n], A.dtype, 'cpu');
  const V = empty(A.shape, A.dtype, 'cpu');
  const info = empty([batch], 'int32', 'cpu');
  const work = empty([batch * (n + 2) * n], 'float64', 'cpu');
  if (batch > 0 && n > 0) {
    native.eigh(w.storage.handle, 0, V.storage.handle, 0, info.storage.handle, 0, work.storage.handle, 0, Ac.storage.handle, Ac.offset,
      batch, n, upper);
  } else if (batch > 0) {
    native.fill(info.storage.handle, 0, batch, 0);
  }
  work.dispose();
  release(Ac, A);
  const codes = batch > 0 ? readInfo(info) : (info.dispose(), new Int32Array(0));
  try {
    raiseInfo('eigh', codes, batchShape, (k) => `did not converge (eigenvalue ${k - 1} after 30 n QL iterations)`);
  } catch (e) {
    w.dispose();
    V.dispose();
    throw e;
  }
  return { w: toDevice(w, A.device), V: toDevice(V, A.device) };
}

export function qrRaw(A: Tensor, complete: boolean): { Q: Tensor; R: Tensor } {
  checkFloatMatrix(A, 'A', 'qr');
  const [m, n] = A.shape.slice(-2);
  const p = Math.min(m, n);
  const batchShape = A.shape.slice(0, -2);
  const batch = sizeOf(batchShape);
  const q = complete ? m : p;
  const Ac = hostContiguous(A);
  const Q = empty([...batchShape, m, q], A.dtype, 'cpu');
  const R = empty([...batchShape, q, n], A.dtype, 'cpu');
  if (batch > 0 && m > 0 && n > 0) {
    const work = empty([batch * m * (n + m + 1)], 'float64', 'cpu');
    native.qr(Q.storage.handle, 0, R.storage.handle, 0, work.storage.handle, 0, Ac.storage.handle, Ac.offset, batch, m, n, complete);
    work.dispose();
  } else if (Q.numel > 0) {
    // n == 0 with complete: Q is the identity
    const eye = new (A.dtype === 'float64' ? Float64Array : Float32Array)(Q.numel);
    for (let b = 0; b < batch; b++) for (let i = 0; i < Math.min(m, q); i++) eye[b * m * q + i * q + i] = 1;
    native.write(Q.storage.handle, 0, eye);
  }
  release(Ac, A);
  return { Q: toDevice(Q, A.device), R: toDevice(R, A.device) };
}
