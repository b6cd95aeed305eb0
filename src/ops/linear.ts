/**
 * Fused Linear: y = x @ W^T + b as one GEMM whose output starts as the broadcast bias (beta = 1),
 * and its backward as two GEMMs and one column sum. Saves the transpose view, the separate add
 * and its broadcast-gradient reduction of the unfused path. Takes 2-D contiguous operands only;
 * callers fall back to matmul + add otherwise.
 */
import { isGradEnabled, record } from '../autograd/engine.js';
import { BF16, autocastDtype, gemmOf, withAutocast } from '../autocast.js';
import { ReduceOp, native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { empty } from './util.js';
import { castRaw } from './bf16.js';

/** Whether the fused path applies (the caller has already checked the shapes). */
export function canFuseLinear(x: Tensor, weight: Tensor, bias: Tensor | null): boolean {
  const d = x.dtype;
  return x.ndim === 2 && x.isContiguous() && weight.isContiguous() && x.device === weight.device &&
    (d === 'float32' || d === 'bfloat16') && weight.dtype === d && (bias === null || (bias.isContiguous() && bias.device === x.device && bias.dtype === d)) &&
    x.shape[0] > 0 && weight.shape[0] > 0 && weight.shape[1] > 0;
}

const ROW_BROADCAST = [0, 1];

export function linearFused(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  if (x.dtype === 'bfloat16') return linearBf16(x, weight, bias);
  const [B, K] = x.shape;
  const N = weight.shape[0];
  const y = empty([B, N], 'float32', x.device);
  if (bias !== null) native.stridedCopy(y.storage.handle, 0, bias.storage.handle, bias.offset, [B, N], ROW_BROADCAST);
  const bf16 = autocastDtype() === 'bfloat16';
  gemmOf(bf16)(false, true, B, N, K, 1, x.storage.handle, x.offset, K, 0, weight.storage.handle, weight.offset, K, 0,
    bias !== null ? 1 : 0, y.storage.handle, 0, N, 0, 1);
  return record(y, 'linear', bias === null ? [x, weight] : [x, weight, bias], bf16 ? BF16 : undefined, 0b011);
}

/**
 * bfloat16 x, W, b: the bf16 GEMM reads x and W as stored and accumulates in float32 onto the
 * bias (widened); the float32 result is rounded to bfloat16 once, as PyTorch's addmm.
 */
function linearBf16(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const [B, K] = x.shape;
  const N = weight.shape[0];
  const acc = empty([B, N], 'float32', x.device);
  if (bias !== null) {
    const b32 = castRaw(bias, 'float32');
    native.stridedCopy(acc.storage.handle, 0, b32.storage.handle, 0, [B, N], ROW_BROADCAST);
    b32.dispose();
  }
  native.gemmBf16(false, true, B, N, K, 1, x.storage.handle, x.offset, K, 0, weight.storage.handle, weight.offset, K, 0,
    bias !== null ? 1 : 0, acc.storage.handle, 0, N, 0, 1);
  const y = castRaw(acc, 'bfloat16');
  acc.dispose();
  return record(y, 'linear', bias === null ? [x, weight] : [x, weight, bias], BF16, 0b011);
}

/**
 * Gradients of x, W and b for dy [B, N] (need: which of them to compute). Recorded (createGraph):
 * composed of matmul and sum, so they can be differentiated again; else the GEMM kernels. bf16:
 * the forward ran under autocast, and so do these GEMMs.
 */
export function linearBackward(x: Tensor, weight: Tensor, bias: Tensor | undefined, dy0: Tensor, need: boolean[],
  bf16 = false): (Tensor | null)[] {
  if (isGradEnabled()) {
    return withAutocast(bf16 ? 'bfloat16' : null, () => [
      need[0] ? dy0.matmul(weight) : null,
      need[1] ? dy0.t().matmul(x) : null,
      ...(bias === undefined ? [] : [need[2] ? dy0.sum(0) : null]),
    ]);
  }
  // bfloat16 tensors: the bf16 GEMM reads them as stored; the float32 gradients it makes are
  // rounded to bfloat16 by the engine (a gradient takes its input's dtype)
  const gemm = gemmOf(bf16 || x.dtype === 'bfloat16' || dy0.dtype === 'bfloat16');
  const dy = dy0.isContiguous() ? dy0 : dy0.contiguous();
  const [B, K] = x.shape;
  const N = weight.shape[0];
  let dx: Tensor | null = null;
  let dw: Tensor | null = null;
  let db: Tensor | null = null;
  if (need[0]) {
    dx = empty([B, K], 'float32', x.device); // dy [B,N] @ W [N,K]
    gemm(false, false, B, K, N, 1, dy.storage.handle, dy.offset, N, 0, weight.storage.handle, weight.offset, K, 0,
      0, dx.storage.handle, 0, K, 0, 1);
  }
  if (need[1]) {
    dw = empty([N, K], 'float32', x.device); // dy^T [N,B] @ x [B,K]
    gemm(true, false, N, K, B, 1, dy.storage.handle, dy.offset, N, 0, x.storage.handle, x.offset, K, 0,
      0, dw.storage.handle, 0, K, 0, 1);
  }
  if (bias !== undefined && need[2]) {
    db = empty([N], 'float32', x.device); // column sums of dy
    const dyf = dy.dtype === 'bfloat16' ? castRaw(dy, 'float32') : dy;
    native.reduce(ReduceOp.sum, db.storage.handle, 0, dyf.storage.handle, dyf.offset, 1, B, N);
    if (dyf !== dy) dyf.dispose();
  }
  if (dy !== dy0) dy.dispose();
  return bias === undefined ? [dx, dw] : [dx, dw, db];
}
