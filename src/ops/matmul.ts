/** matmul with PyTorch's rules: 1-D promotion, batched with broadcast batch dims. */
import { checkOptions } from '../options.js';
import { record } from '../autograd/engine.js';
import { check, shapeStr } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { BF16, autocastDtype, gemmOf } from '../autocast.js';
import { promoteTypes } from '../dtype.js';
import { castTo } from './shape.js';
import { castRaw } from './bf16.js';
import { broadcastShapes, checkFloating, checkSameDevice, contiguous, empty, sizeOf } from './util.js';

/** How a [..., R, C] operand is read by gemm: its base, leading dimension and transposition. */
interface Operand {
  t: Tensor;      // the tensor gemm reads (x itself or a contiguous copy)
  trans: boolean; // stored as [..., C, R] row-major
  ld: number;
  batchStride: number; // 0 when the batch dims are all broadcast
}

/** Reads x [..., R, C] broadcast to batch shape `batch` without copying where possible. */
function operand(x: Tensor, batch: number[]): Operand {
  const nd = x.ndim;
  const [R, C] = [x.shape[nd - 2], x.shape[nd - 1]];
  const [sr, sc] = [x.strides[nd - 2], x.strides[nd - 1]];
  const batchOfX = x.shape.slice(0, nd - 2);
  const batchSize = sizeOf(batch);
  const broadcastOnly = sizeOf(batchOfX) === 1;
  const sameBatch = batchOfX.length === batch.length && batchOfX.every((d, i) => d === batch[i]);
  // a single matrix (or batch of identical layout) read in place, plain or transposed
  if (broadcastOnly || (sameBatch && batchContiguous(x, R * C))) {
    const batchStride = broadcastOnly || batchSize === 1 ? 0 : R * C;
    if (sc === 1 && sr >= Math.max(C, 1)) return { t: x, trans: false, ld: sr, batchStride };
    if (sr === 1 && sc >= Math.max(R, 1)) return { t: x, trans: true, ld: sc, batchStride };
  }
  const full = x.expand([...batch, R, C]);
  const c = contiguous(full);
  if (full !== c) full.dispose();
  return { t: c, trans: false, ld: Math.max(C, 1), batchStride: batchSize === 1 ? 0 : R * C };
}

/** The batch dims of x are laid out as one dense run of R*C-element matrices. */
function batchContiguous(x: Tensor, matrix: number): boolean {
  let expect = matrix;
  for (let i = x.ndim - 3; i >= 0; i--) {
    if (x.shape[i] !== 1 && x.strides[i] !== expect) return false;
    expect *= x.shape[i];
  }
  return true;
}

/** out[b] = a[b] @ b[b] for operands of at least 2 dims, without recording (bfloat16 operands under autocast). */
export function matmulRaw(a: Tensor, b: Tensor): Tensor {
  const M = a.shape[a.ndim - 2];
  const K = a.shape[a.ndim - 1];
  const N = b.shape[b.ndim - 1];
  check(b.shape[b.ndim - 2] === K, () => `matmul: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} do not align (${K} vs ${b.shape[b.ndim - 2]})`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul batch dims');
  // bfloat16 operands are read as stored by the bf16 GEMM, which accumulates in float32; the
  // float32 product is rounded to bfloat16 once
  const bf16Tensors = a.dtype === 'bfloat16';
  const out = empty([...batch, M, N], bf16Tensors ? 'float32' : a.dtype, a.device);
  const nb = sizeOf(batch);
  if (out.numel > 0) {
    const A = operand(a, batch);
    const B = operand(b, batch);
    gemmOf(bf16Tensors || (autocastDtype() === 'bfloat16' && a.dtype === 'float32'))(A.trans, B.trans, M, N, K, 1, A.t.storage.handle, A.t.offset, A.ld, A.batchStride,
      B.t.storage.handle, B.t.offset, B.ld, B.batchStride, 0, out.storage.handle, 0, N, M * N, nb);
    if (A.t !== a) A.t.dispose();
    if (B.t !== b) B.t.dispose();
  }
  if (!bf16Tensors) return out;
  const rounded = castRaw(out, 'bfloat16');
  out.dispose();
  return rounded;
}

export function matmul(a0: Tensor, b0: Tensor): Tensor {
  checkFloating(a0, 'input');
  checkFloating(b0, 'other');
  checkSameDevice(a0, b0, 'matmul');
  // mixed float32 / float64 promotes to float64, as PyTorch (the cast is recorded)
  const d = promoteTypes(a0.dtype, b0.dtype);
  const a = a0.dtype === d ? a0 : castTo(a0, d);
  const b = b0.dtype === d ? b0 : castTo(b0, d);
  check(a.ndim >= 1 && b.ndim >= 1, 'matmul: both arguments need at least 1 dim');
  if (a.ndim === 1 && b.ndim === 1) {
    check(a.shape[0] === b.shape[0], () => `matmul: vectors of sizes ${a.shape[0]} and ${b.shape[0]} differ`);
  }
  // PyTorch's promotion: a 1-D left operand is a row, a 1-D right operand is a column
  const a2 = a.ndim === 1 ? a.unsqueeze(0) : a;
  const b2 = b.ndim === 1 ? b.unsqueeze(1) : b;
  let out = record(matmulRaw(a2, b2), 'matmul', [a2, b2], (autocastDtype() === 'bfloat16' && d === 'float32') || d === 'bfloat16' ? BF16 : undefined, 0b11);
  if (a.ndim === 1) out = out.squeeze(-2);
  if (b.ndim === 1) out = out.squeeze(-1);
  if (!out.requiresGrad) {
    if (a !== a0) a.dispose();
    if (b !== b0) b.dispose();
  }
  return out;
}

/** Batched matrix product of [B, n, m] and [B, m, p] (no broadcasting, as torch.bmm). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  checkFloating(a, 'input');
  checkFloating(b, 'mat2');
  check(a.ndim === 3 && b.ndim === 3 && a.shape[0] === b.shape[0] && a.shape[2] === b.shape[1],
    () => `bmm: expected [B, n, m] and [B, m, p], got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  return matmul(a, b);
}

/** beta * input + alpha * bmm(batch1, batch2), input broadcast to the product's shape. */
export function baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, opts: { beta?: number; alpha?: number } = {}): Tensor {
  checkOptions(opts, ['beta', 'alpha'], 'baddbmm');
  const { beta = 1, alpha = 1 } = opts;
  checkFloating(input, 'input');
  const p = bmm(batch1, batch2);
  const scaled = alpha === 1 ? p : p.mul(alpha);
  // beta 0 ignores input (NaN in it included), as PyTorch
  if (beta === 0) return scaled;
  return scaled.add(beta === 1 ? input : input.mul(beta));
}

/** Outer product of two vectors: [n] x [m] -> [n, m]. */
export function outer(a: Tensor, b: Tensor): Tensor {
  checkFloating(a, 'input');
  checkFloating(b, 'vec2');
  check(a.ndim === 1 && b.ndim === 1, () => `outer: expected two vectors, got ${shapeStr(a.shape)} and ${shapeStr(b.shape)}`);
  return a.unsqueeze(1).mul(b.unsqueeze(0));
}
