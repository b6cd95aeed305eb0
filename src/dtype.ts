import { KilnError } from './errors.js';

/**
 * Element types. 'bool' is stored natively as int32 words holding 0 or 1 (4 bytes an element,
 * not PyTorch's 1): every layout kernel (copies, cat, indexSelect, gather) moves it unchanged and
 * the native side needs no extra element size for it; the TypeScript ops say what a bool may do.
 */
export type DType = 'float32' | 'int32' | 'float64' | 'bool' | 'bfloat16';

/**
 * Codes shared with native/include/dtype.h (a bool storage is an int32 one natively). bfloat16
 * is stored in 2 bytes (the top half of a float32), CPU only; reading it gives float32 values.
 */
export const dtypeCode: Record<DType, number> = { float32: 0, int32: 1, float64: 2, bool: 1, bfloat16: 3 };

const DTYPES: readonly DType[] = ['float32', 'int32', 'float64', 'bool', 'bfloat16'];

export function parseDType(d: unknown, name = 'dtype'): DType {
  if ((DTYPES as readonly unknown[]).includes(d)) return d as DType;
  throw new KilnError(`${name}: expected one of 'float32', 'int32', 'float64', 'bool', 'bfloat16', got ${String(d)}`);
}

/**
 * The floating-point dtypes: what unary math, softmax, matmul and autograd accept. bfloat16 ops
 * compute in float32 and round their result (src/ops/bf16.ts), but matmul/linear, which read it.
 */
export type FloatDType = 'float32' | 'float64' | 'bfloat16';
export function isFloating(d: DType): d is FloatDType {
  return d === 'float32' || d === 'float64' || d === 'bfloat16';
}

/**
 * The dtype of a binary op's result, as PyTorch promotes tensors of different dtypes:
 * float64 beats float32 beats bfloat16 beats int32 beats bool.
 */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  if (a === 'bfloat16' || b === 'bfloat16') return 'bfloat16';
  return 'int32';
}

export type TypedArrayOf<D extends DType> = D extends 'float64' ? Float64Array : D extends 'float32' | 'bfloat16' ? Float32Array : Int32Array;
export type AnyTypedArray = Float32Array | Int32Array | Float64Array;

/** A host array for a tensor's values (bfloat16 values are read as float32). */
export function allocTyped(dtype: DType, n: number): AnyTypedArray {
  return dtype === 'float64' ? new Float64Array(n) : dtype === 'float32' || dtype === 'bfloat16' ? new Float32Array(n) : new Int32Array(n);
}

/** bfloat16 bits -> float32 values (exact). */
export function bf16BitsToFloat(bits: Uint16Array, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(bits.length);
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return out;
}
