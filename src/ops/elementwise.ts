/** Elementwise ops: unary math, binary arithmetic with broadcasting, comparisons, where. */
import { record, traceOp } from '../autograd/engine.js';
import { check, checkFinite } from '../errors.js';
import { BinaryOp, type BinaryOpName, UnaryOp, type UnaryOpName, native } from '../native.js';
import { Tensor } from '../tensor.js';
import { UNARY_READS } from './grad-ops.js';
import { isFloating, promoteTypes } from '../dtype.js';
import { castTo } from './shape.js';
import { castRaw, viaFloat32 } from './bf16.js';
import { broadcastShapes, broadcastStrides, checkFloat, checkFloating, checkSameDevice, checkTensor, contiguous, disposeTemp, empty } from './util.js';

export type Scalar = number;
export type TensorOrScalar = Tensor | Scalar;

/** y = f(x) through the native unary kernel, without recording. */
export function unaryRaw(x: Tensor, op: UnaryOpName, alpha = 0, beta = 0): Tensor {
  checkFloating(x, op);
  if (x.dtype === 'bfloat16') {
    const w = castRaw(x, 'float32');
    const y = unaryRaw(w, op, alpha, beta);
    w.dispose();
    const out = castRaw(y, 'bfloat16');
    y.dispose();
    return out;
  }
  const xc = contiguous(x);
  const out = empty(x.shape, x.dtype, x.device);
  native.unary(UnaryOp[op], out.storage.handle, 0, xc.storage.handle, xc.offset, out.numel, alpha, beta);
  disposeTemp(xc, x);
  return out;
}

/** A recorded unary op; its gradient comes from the native unaryBackward kernel (rules.ts). */
export function unary(x: Tensor, op: UnaryOpName, alpha = 0, beta = 0): Tensor {
  checkFloating(x, op);
  if (x.dtype === 'bfloat16') return viaFloat32([x], (w) => unary(w, op, alpha, beta));
  const out = unaryRaw(x, op, alpha, beta);
  // the rule reads x or the output y, whichever the derivative needs (so only that one is version-checked)
  const reads = UNARY_READS[op];
  return reads === 'y'
    ? record(out, 'unary', [x], { op, alpha, beta, out }, 0, null, [out])
    : record(out, 'unary', [x], { op, alpha, beta }, reads === 'x' ? 1 : 0);
}

export const neg = (x: Tensor) => unary(x, 'neg');
export const exp = (x: Tensor) => unary(x, 'exp');
export const log = (x: Tensor) => unary(x, 'log');
export const sqrt = (x: Tensor) => unary(x, 'sqrt');
export const rsqrt = (x: Tensor) => unary(x, 'rsqrt');
export const abs = (x: Tensor) => unary(x, 'abs');
export const sign = (x: Tensor) => unary(x, 'sign');
export const relu = (x: Tensor) => unary(x, 'relu');
export const sigmoid = (x: Tensor) => unary(x, 'sigmoid');
export const tanh = (x: Tensor) => unary(x, 'tanh');
export const gelu = (x: Tensor) => unary(x, 'gelu');
export const square = (x: Tensor) => unary(x, 'square');
export const reciprocal = (x: Tensor) => unary(x, 'reciprocal');
export const sin = (x: Tensor) => unary(x, 'sin');
export const cos = (x: Tensor) => unary(x, 'cos');

export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  checkFinite(negativeSlope, 'negativeSlope');
  return unary(x, 'leakyRelu', negativeSlope);
}

export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  check(!Number.isNaN(lo) && !Number.isNaN(hi), 'clamp: min and max must not be NaN');
  check(lo <= hi, () => `clamp: min (${lo}) must not exceed max (${hi})`);
  return unary(x, 'clamp', lo, hi);
}

/**
 * Both operands in their promoted dtype (promoteTypes: float64 > float32 > int32 > bool), as
 * PyTorch. bool operands count as int32 0/1: two bools compare as they are; in arithmetic they
 * become int32 (where PyTorch would keep bool for add and refuse sub).
 */
function promote(a: Tensor, b: Tensor, isCompare: boolean): [Tensor, Tensor] {
  if (a.dtype === b.dtype && (a.dtype !== 'bool' || isCompare)) return [a, b];
  const promoted = promoteTypes(a.dtype, b.dtype);
  const d = promoted === 'bool' ? 'int32' : promoted;
  return [a.dtype === d ? a : castTo(a, d), b.dtype === d ? b : castTo(b, d)];
}

/**
 * A 0-d tensor holding value on like's device, in like's dtype when that is a float dtype (a
 * number does not promote a tensor, as in PyTorch), int32 for an integer beside int32, else float32.
 */
function scalarTensor(value: number, like: Tensor, forceFloat = false): Tensor {
  checkFinite(value, 'other');
  const dtype = isFloating(like.dtype) ? like.dtype : !forceFloat && Number.isInteger(value) ? 'int32' : 'float32';
  const t = empty([], dtype, like.device);
  native.fill(t.storage.handle, 0, 1, value);
  return t;
}

/** A float32 0-d tensor holding any number (infinities and NaN included). */
function fillScalar(value: number, like: Tensor, other?: TensorOrScalar): Tensor {
  const t = empty([], other instanceof Tensor && other.dtype === 'float64' ? 'float64' : 'float32', like.device);
  native.fill(t.storage.handle, 0, 1, value);
  return t;
}

const UNIT_STRIDE: number[] = [1];

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** out = a op b with broadcasting, without recording. */
export function binaryRaw(op: BinaryOpName, a0: Tensor, b0: Tensor): Tensor {
  checkSameDevice(a0, b0, op);
  const isCompare = BinaryOp[op] >= BinaryOp.eq;
  if (promoteTypes(a0.dtype, b0.dtype) === 'bfloat16') {
    // float32 math on the widened operands, one rounding of the result (comparisons stay float32)
    const [a, b] = [a0.dtype === 'bfloat16' ? castRaw(a0, 'float32') : a0, b0.dtype === 'bfloat16' ? castRaw(b0, 'float32') : b0];
    const y = binaryRaw(op, a, b);
    if (a !== a0) a.dispose();
    if (b !== b0) b.dispose();
    if (isCompare) return y;
    const out = castRaw(y, 'bfloat16');
    y.dispose();
    return out;
  }
  let [a, b] = promote(a0, b0, isCompare);
  if (a.dtype === 'int32' && (op === 'div' || op === 'pow')) {
    // true division, as in PyTorch
    const [ai, bi] = [a, b];
    [a, b] = [ai.float(), bi.float()];
    if (ai !== a0) ai.dispose();
    if (bi !== b0) bi.dispose();
  }
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = empty(shape, isCompare ? 'float32' : a.dtype, a.device);
  if (sameShape(a.shape, shape) && sameShape(b.shape, shape) && a.isContiguous() && b.isContiguous()) {
    // one flat run: the native call reads 1-element arrays instead of per-dim ones
    native.binary(BinaryOp[op], out.storage.handle, 0, a.storage.handle, a.offset, b.storage.handle, b.offset,
      [out.numel], UNIT_STRIDE, UNIT_STRIDE);
  } else {
    native.binary(BinaryOp[op], out.storage.handle, 0, a.storage.handle, a.offset, b.storage.handle, b.offset, shape,
      broadcastStrides(a, shape), broadcastStrides(b, shape));
  }
  if (a !== a0) a.dispose();
  if (b !== b0) b.dispose();
  return out;
}

function binary(op: BinaryOpName, a: Tensor, b: TensorOrScalar): Tensor {
  checkTensor(a, 'input');
  // a bfloat16 result: float32 math (a number operand kept at float32), rounded once
  if (b instanceof Tensor ? promoteTypes(a.dtype, b.dtype) === 'bfloat16' : a.dtype === 'bfloat16') {
    return viaFloat32([a, b], (x, y) => binary(op, x, y), BinaryOp[op] < BinaryOp.eq);
  }
  if (typeof b === 'number') {
    const bt = scalarTensor(b, a);
    const out = binaryRecorded(op, a, bt);
    if (out.gradFn === null) bt.dispose();
    return out;
  }
  check(b instanceof Tensor, () => `${op}: other must be a Tensor or a number`);
  return binaryRecorded(op, a, b);
}

/** Which operands each binary op's rule reads (bit 0: a, bit 1: b), and whether it reads the output. */
const BINARY_READS = { add: 0, sub: 0, mul: 0b11, div: 0b10, pow: 0b11, maximum: 0b11, minimum: 0b11 } as const;

function binaryRecorded(op: BinaryOpName, a: Tensor, b: Tensor): Tensor {
  const out = binaryRaw(op, a, b);
  if (BinaryOp[op] >= BinaryOp.eq) return traceOp(out, 'compare', [a, b], { op });
  const name = op as keyof typeof BINARY_READS;
  return name === 'div' || name === 'pow'
    ? record(out, name, [a, b], { out }, BINARY_READS[name], null, [out])
    : record(out, name, [a, b], undefined, BINARY_READS[name]);
}

export function add(a: Tensor, b: TensorOrScalar, alpha = 1): Tensor {
  checkTensor(a, 'input');
  if (typeof b === 'number') return isFloating(a.dtype) ? unary(a, 'addScalar', b * alpha) : binary('add', a, b * alpha);
  return withScaled('add', a, b, alpha);
}

export function sub(a: Tensor, b: TensorOrScalar, alpha = 1): Tensor {
  checkTensor(a, 'input');
  if (typeof b === 'number') return isFloating(a.dtype) ? unary(a, 'addScalar', -b * alpha) : binary('sub', a, b * alpha);
  return withScaled('sub', a, b, alpha);
}

/** a op (alpha * b); the scaled temporary is freed unless the graph holds it. */
function withScaled(op: 'add' | 'sub', a: Tensor, b: Tensor, alpha: number): Tensor {
  if (alpha === 1) return binary(op, a, b);
  const scaled = mul(b, alpha);
  const out = binary(op, a, scaled);
  if (out.gradFn === null) scaled.dispose();
  return out;
}

/** other - a, for a scalar other. */
export function rsub(a: Tensor, other: number): Tensor {
  checkFinite(other, 'other');
  return unary(a, 'rsubScalar', other);
}

export function mul(a: Tensor, b: TensorOrScalar): Tensor {
  checkTensor(a, 'input');
  if (typeof b === 'number' && isFloating(a.dtype)) {
    checkFinite(b, 'other');
    return unary(a, 'mulScalar', b);
  }
  return binary('mul', a, b);
}

export function div(a: Tensor, b: TensorOrScalar): Tensor {
  checkTensor(a, 'input');
  if (typeof b === 'number' && isFloating(a.dtype)) {
    checkFinite(b, 'other');
    // float32 multiplies by the rounded reciprocal (as before); float64 divides exactly
    return a.dtype === 'float64' ? binary('div', a, b) : unary(a, 'mulScalar', 1 / b);
  }
  return binary('div', a, b);
}

export function pow(a: Tensor, b: TensorOrScalar): Tensor {
  checkTensor(a, 'input');
  if (typeof b === 'number') {
    checkFinite(b, 'exponent');
    if (a.dtype === 'int32') {
      // int32 powers give float32, as binaryRaw does for int32 ** int32; the cast is a temporary
      const af = a.float();
      const out = traceOp(unaryRaw(af, 'powScalar', b), 'unary', [af], { op: 'powScalar', alpha: b, beta: 0 });
      af.dispose();
      return out;
    }
    if (b === 2) return unary(a, 'square');
    return unary(a, 'powScalar', b);
  }
  return binary('pow', a, b);
}

export const maximum = (a: Tensor, b: TensorOrScalar) => binary('maximum', a, b);
export const minimum = (a: Tensor, b: TensorOrScalar) => binary('minimum', a, b);
export const eq = (a: Tensor, b: TensorOrScalar) => binary('eq', a, b);
export const ne = (a: Tensor, b: TensorOrScalar) => binary('ne', a, b);
export const gt = (a: Tensor, b: TensorOrScalar) => binary('gt', a, b);
export const ge = (a: Tensor, b: TensorOrScalar) => binary('ge', a, b);
export const lt = (a: Tensor, b: TensorOrScalar) => binary('lt', a, b);
export const le = (a: Tensor, b: TensorOrScalar) => binary('le', a, b);

/**
 * out = cond != 0 ? a : b, broadcasting all three; cond is any mask (nonzero is true); a and b
 * are promoted to one float dtype (int32 to float32).
 */
export function whereRaw(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  checkSameDevice(cond, a, 'where');
  checkSameDevice(a, b, 'where');
  const dtype = promoteTypes(promoteTypes(a.dtype, b.dtype), 'float32');
  const c = cond.dtype === 'float32' ? cond : castTo(cond, 'float32');
  const af = a.dtype === dtype ? a : castTo(a, dtype);
  const bf = b.dtype === dtype ? b : castTo(b, dtype);
  const shape = broadcastShapes(broadcastShapes(c.shape, af.shape, 'where'), bf.shape, 'where');
  const out = empty(shape, dtype, a.device);
  native.where(out.storage.handle, 0, c.storage.handle, c.offset, af.storage.handle, af.offset, bf.storage.handle, bf.offset,
    shape, broadcastStrides(c, shape), broadcastStrides(af, shape), broadcastStrides(bf, shape));
  if (c !== cond) c.dispose();
  if (af !== a) af.dispose();
  if (bf !== b) bf.dispose();
  return out;
}

export function where(cond: Tensor, a: TensorOrScalar, b: TensorOrScalar): Tensor {
  check(cond instanceof Tensor, 'where: condition must be a Tensor');
  check(typeof a === 'number' || a instanceof Tensor, 'input: expected a Tensor or a number');
  check(typeof b === 'number' || b instanceof Tensor, 'other: expected a Tensor or a number');
  // scalars may be infinite (masking scores with -Infinity); they take float64 beside a float64 operand
  if (a instanceof Tensor || b instanceof Tensor) {
    const ta = a instanceof Tensor ? a.dtype : null;
    const tb = b instanceof Tensor ? b.dtype : null;
    if ((ta ?? tb) === 'bfloat16' && (tb ?? ta) === 'bfloat16') return viaFloat32([a, b], (x, y) => where(cond, x, y));
  }
  const at = typeof a === 'number' ? fillScalar(a, cond, b) : a;
  const bt = typeof b === 'number' ? fillScalar(b, cond, a) : b;
  const out = record(whereRaw(cond, at, bt), 'where', [at, bt], { cond }, 0, null, [cond]);
  if (out.gradFn === null) {
    if (at !== a) at.dispose();
    if (bt !== b) bt.dispose();
  }
  return out;
}
