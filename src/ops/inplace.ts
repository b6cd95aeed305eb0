/**
 * In-place updates (add_, mul_, fill_, copy_, ...). Two paths:
 * - raw, when nothing needs recording (noGrad, optimizers, tensors outside any graph): the kernel
 *   writes into the tensor; an operand that overlaps it other than element for element is
 *   copied first, so a kernel never sees a partially aliased buffer (its __restrict promise);
 * - recorded, when the tensor or the operand requires grad under grad mode: the op runs out of
 *   place on a snapshot of the tensor, the result is written back, and the tensor takes the
 *   result's place in the graph (PyTorch's rebase). Other views of the storage keep their old
 *   history and are refused by the next recorded op (engine.ts checkFresh).
 * Every write bumps the storage's version counter, so a rule that saved the old values throws.
 */
import { isGradEnabled } from '../autograd/engine.js';
import { isFloating } from '../dtype.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { castTo, clone } from './shape.js';
import { empty } from './util.js';

/** Checks that t may be written in place; true when the write must be recorded. */
export function inPlaceRecorded(t: Tensor, what: string, other?: Tensor | null): boolean {
  t._checkAlive(what);
  check(t.isContiguous(), () => `${what}: in-place updates need a contiguous tensor`);
  if (!isGradEnabled()) return false;
  if (t.requiresGrad && t.isLeaf) {
    throw new KilnError(`${what}: a leaf tensor that requires grad cannot be modified in place outside kiln.noGrad()`);
  }
  const base = t._base;
  if (base !== null && base.isLeaf && base.requiresGrad) {
    throw new KilnError(`${what}: a view of a leaf tensor that requires grad cannot be modified in place outside kiln.noGrad()`);
  }
  const recorded = t.requiresGrad || (other?.requiresGrad ?? false);
  if (recorded && !isFloating(t.dtype)) {
    throw new KilnError(`${what}: cannot write a result that requires grad into a ${t.dtype} tensor`);
  }
  return recorded;
}

/** Marks a raw write through t (optimizer steps, noGrad updates): savers of the old values will throw. */
export function bumpVersion(t: Tensor): void {
  t.storage.version++;
}

/** t = f(snapshot of t), recorded: t now stands for f's output in the graph. */
export function recordedInPlace(t: Tensor, what: string, f: (old: Tensor) => Tensor): Tensor {
  const y0 = f(clone(t));
  // the result takes the tensor's dtype (a bfloat16 tensor plus a float32 one promotes), recorded
  const y = y0.dtype === t.dtype ? y0 : castTo(y0, t.dtype);
  check(y.shape.length === t.shape.length && y.shape.every((d, i) => d === t.shape[i]),
    () => `${what}: the result has shape ${shapeStr(y.shape)}, which does not fit in place into ${shapeStr(t.shape)}`);
  native.copy(t.storage.handle, t.offset, y.storage.handle, y.offset, t.numel);
  const s = t.storage;
  s.version++;
  s.rebased = s.version;
  t._rebase(y);
  return t;
}

/** Last element index reached by t, relative to its storage (strides are never negative). */
function lastIndex(t: Tensor): number {
  let end = t.offset;
  for (let i = 0; i < t.shape.length; i++) end += (t.shape[i] - 1) * t.strides[i];
  return end;
}

/** Whether a and b share storage elements. */
export function overlaps(a: Tensor, b: Tensor): boolean {
  if (a.storage !== b.storage || a.numel === 0 || b.numel === 0) return false;
  return a.offset <= lastIndex(b) && b.offset <= lastIndex(a);
}

/**
 * `other` ready to be read by a kernel that writes `out` (contiguous) element by element:
 * itself when it is out's own elements in out's order or shares none of them; else a copy.
 */
export function readableBeside(out: Tensor, other: Tensor, otherStrides: readonly number[]): Tensor {
  if (!overlaps(out, other)) return other;
  const same = other.offset === out.offset && otherStrides.every((s, i) => out.shape[i] === 1 || s === out.strides[i]);
  return same ? other : copyOf(other);
}

/** A contiguous copy of t's elements, outside the graph. */
export function copyOf(t: Tensor): Tensor {
  const copy = empty(t.shape, t.dtype, t.device);
  native.stridedCopy(copy.storage.handle, 0, t.storage.handle, t.offset, [...t.shape], [...t.strides]);
  return copy;
}
