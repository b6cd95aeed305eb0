/**
 * bfloat16 beside the float32 kernels. Only casts, layout moves (copies, cat, index/gather) and
 * the GEMM (matmul, linear, conv2d's weight) read bfloat16 storage natively; every other op on
 * bfloat16 tensors widens them to float32 (exact), runs its float32 kernel and rounds the result
 * back to bfloat16 once (nearest, ties to even), as PyTorch's CPU kernels compute bfloat16 in
 * float32. The casts are recorded ops, so gradients come back to bfloat16 leaves in bfloat16.
 * The binding refuses a bfloat16 buffer in any other kernel (binding/op_call.h), so a path
 * missed here is an error naming the op, never a wrong number.
 */
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { castTo } from './shape.js';
import { contiguous, disposeTemp, empty } from './util.js';

/** Whether any operand is a bfloat16 tensor. */
export function anyBf16(...xs: readonly unknown[]): boolean {
  for (const x of xs) if (x !== null && typeof x === 'object' && (x as Tensor).dtype === 'bfloat16') return true;
  return false;
}

/** A contiguous copy of x in dtype, outside the graph (a kernel's temporary). */
export function castRaw(x: Tensor, dtype: 'float32' | 'bfloat16'): Tensor {
  const xc = contiguous(x);
  const out = empty(x.shape, dtype, x.device);
  if (x.numel > 0) native.cast(out.storage.handle, 0, xc.storage.handle, xc.offset, x.numel);
  disposeTemp(xc, x);
  return out;
}

/**
 * Runs fn with every bfloat16 tensor among xs widened to float32 (recorded casts); a float32
 * result is rounded to bfloat16 unless round is false (comparisons, indices). The float32
 * temporaries are freed at once when nothing is recorded, else they belong to the graph (and the
 * caller's scope), like any op's intermediates.
 */
export function viaFloat32<X extends unknown[]>(xs: [...X], fn: (...wide: X) => Tensor, round = true): Tensor {
  const wide = xs.map((x) => (x !== null && typeof x === 'object' && (x as Tensor).dtype === 'bfloat16' ? castTo(x as Tensor, 'float32') : x));
  const y = fn(...(wide as X));
  const out = round && y.dtype === 'float32' ? castTo(y, 'bfloat16') : y;
  if (!out.requiresGrad) {
    for (let i = 0; i < wide.length; i++) if (wide[i] !== xs[i] && wide[i] !== y) (wide[i] as Tensor).dispose();
    if (out !== y && !(xs as unknown[]).includes(y)) y.dispose();
  }
  return out;
}
