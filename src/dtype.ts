import { KilnError } from './errors.js';

/**
 * Element types. 'bool' is stored natively as int32 words holding 0 or 1 (4 bytes an element,
 * not PyTorch's 1): every layout kernel (copies, cat, indexSelect, gather) moves it unchanged and
 * the native side needs no extra element size for it; the TypeScript ops say what a bool may do.
 */
export type DType = 'float32' | 'int32' | 'float64' | 'bool';

/** Codes shared with native/include/dtype.h (a bool storage is an int32 one natively). */
export const dtypeCode: Record<DType, number> = { float32: 0, int32: 1, float64: 2, bool: 1 };

const DTYPES: readonly DType[] = ['float32', 'int32', 'float64', 'bool'];

export function parseDType(d: unknown, name = 'dtype'): DType {
  if ((DTYPES as readonly unknown[]).includes(d)) return d as DType;
  throw new KilnError(`${name}: expected one of 'float32', 'int32', 'float64', 'bool', got ${String(d)}`);
}

/** The floating-point dtypes: what unary math, softmax, matmul, linalg and autograd accept. */
export type FloatDType = 'float32' | 'float64';
export function isFloating(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float64';
}

/**
 * The dtype of a binary op's result, as PyTorch promotes tensors of different dtypes:
 * float64 beats float32 beats int32 beats bool.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

export type TypedArrayOf<D extends DType> = D extends 'float64' ? Float64Array : D extends 'float32' ? Float32Array : Int32Array;
export type AnyTypedArray = Float32Array | Int32Array | Float64Array;

export function allocTyped(dtype: DType, n: number): AnyTypedArray {
  return dtype === 'float64' ? new Float64Array(n) : dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
}
