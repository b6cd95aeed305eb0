import { KilnError } from './errors.js';

/**
 * Element types. 'bool' is stored natively as int32 words holding 0 or 1 (4 bytes an element,
 * not PyTorch's 1): every layout kernel (copies, cat, indexSelect, gather) moves it unchanged and
 * the native side needs no third element size; the TypeScript ops say what a bool may do.
 */
export type DType = 'float32' | 'int32' | 'bool';

/** Codes shared with native/include/dtype.h (a bool storage is an int32 one natively). */
export const dtypeCode: Record<DType, number> = { float32: 0, int32: 1, bool: 1 };

export function parseDType(d: unknown, name = 'dtype'): DType {
  if (d === 'float32' || d === 'int32' || d === 'bool') return d;
  throw new KilnError(`${name}: expected 'float32', 'int32' or 'bool', got ${String(d)}`);
}

export type TypedArrayOf<D extends DType> = D extends 'float32' ? Float32Array : Int32Array;

export function allocTyped(dtype: DType, n: number): Float32Array | Int32Array {
  return dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
}
