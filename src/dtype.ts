import { KilnError } from './errors.js';

export type DType = 'float32' | 'int32' | 'float64';

/** Codes shared with native/include/dtype.h. */
export const dtypeCode: Record<DType, number> = { float32: 0, int32: 1, float64: 2 };

const DTYPES: readonly DType[] = ['float32', 'int32', 'float64'];

export function parseDType(d: unknown, name = 'dtype'): DType {
  if ((DTYPES as readonly unknown[]).includes(d)) return d as DType;
  throw new KilnError(`${name}: expected one of 'float32', 'int32', 'float64', got ${String(d)}`);
}

/** The floating-point dtypes: what unary math, softmax, matmul, linalg and autograd accept. */
export type FloatDType = 'float32' | 'float64';
export function isFloating(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float64';
}

/**
 * The dtype of a binary op's result, as PyTorch promotes tensors of different dtypes:
 * float64 beats float32 beats int32.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  return 'float32';
}

export type TypedArrayOf<D extends DType> = D extends 'int32' ? Int32Array : D extends 'float64' ? Float64Array : Float32Array;
export type AnyTypedArray = Float32Array | Int32Array | Float64Array;

export function allocTyped(dtype: DType, n: number): AnyTypedArray {
  return dtype === 'int32' ? new Int32Array(n) : dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}
