/**
 * kiln.autocast: mixed precision as torch.autocast on the CPU. Inside `autocast({ dtype:
 * 'bfloat16' }, fn)`, matmul, linear and conv2d (and ConvTranspose2d, built on matmul) multiply
 * bfloat16-rounded operands with float32 accumulation (native gemmBf16: vdpbf16ps where the CPU
 * has AVX512_BF16, else float32 kernels on the rounded operands); everything else, and every
 * tensor, stays float32. An op records whether it ran under autocast, and its backward GEMMs use
 * the same precision wherever backward() is called (as PyTorch's autocast ops do).
 * The state follows async calls made inside fn (AsyncLocalStorage), like noGrad.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { check } from './errors.js';
import { native } from './native.js';
import { checkOptionKeys } from './utils/options.js';

export type AutocastDType = 'bfloat16';

export interface AutocastOptions {
  /** The lower precision (only 'bfloat16'). */
  dtype?: AutocastDType;
  /** false runs fn at full precision (also inside an enclosing autocast). Default true. */
  enabled?: boolean;
}

const state = new AsyncLocalStorage<AutocastDType | null>();

/** The autocast precision in effect here, or null. */
export function autocastDtype(): AutocastDType | null {
  return state.getStore() ?? null;
}

/** Runs fn with the given autocast precision (null: full precision). */
export function withAutocast<T>(dtype: AutocastDType | null, fn: () => T): T {
  return state.run(dtype, fn);
}

/** Runs fn with matmul/linear/conv2d in bfloat16 with float32 accumulation; returns fn's result. */
export function autocast<T>(opts: AutocastOptions, fn: () => T): T {
  checkOptionKeys(opts, ['dtype', 'enabled'], 'autocast');
  const { dtype = 'bfloat16', enabled = true } = opts ?? {};
  check(dtype === 'bfloat16', () => `dtype: autocast supports 'bfloat16', got ${String(dtype)}`);
  check(typeof enabled === 'boolean', 'enabled: expected a boolean');
  check(typeof fn === 'function', 'fn: expected a function');
  return state.run(enabled ? dtype : null, fn);
}

/** The native GEMM for a precision (the two share their arguments). */
export function gemmOf(bf16: boolean): typeof native.gemm {
  return bf16 ? native.gemmBf16 : native.gemm;
}

/** The saved attribute ops record under autocast (undefined outside: nothing to save). */
export const BF16: Record<string, any> = Object.freeze({ bf16: true });
