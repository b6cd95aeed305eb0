import { KilnError } from './errors.js';

export type DType = 'float32' | 'int32';

/** Codes shared with native/include/dtype.h. */
export const dtypeCode: Record<DType, number> = { float32: 0, int32: 1 };

export function parseDType(d: unknown, name = 'dtype'): DType {
  if (d === 'float32' || d === 'int32') return d;
  throw new KilnError(`${name}: expected 'float32' or 'int32', got ${String(d)}`);
}

export type TypedArrayOf<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

export function allocTyped(dtype: DType, n: number): Float32Array | Int32Array {
  return dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}
