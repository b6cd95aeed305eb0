/**
 * The core addon: a typed declaration of what build/Release/kiln.node exports, and its loader.
 *
 * Load order: KILN_BINARY (a path to a .node file), then node-gyp-build, which takes a
 * matching prebuild in prebuilds/<platform>-<arch>/ or a local build in build/Release.
 * Every buffer argument is a pair (storage handle, element offset). The ops' declarations are
 * generated from native/include/ops.def into native-ops.ts (scripts/gen-native-ops.mjs).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from './errors.js';
import type { NativeOps } from './native-ops.js';

export type Handle = { readonly __brand: 'kiln.storage' };

/** The CPU backend: its kernel table, threads, the caches it read and the GEMM blocking it chose. */
export interface CpuInfo {
  isa: string;
  detectedIsa: string;
  reason: string;
  threads: number;
  /** Bytes per core (L1D, L2) and as the OS reports it (L3); detected false: defaults were used. */
  caches: { l1d: number; l2: number; l3: number; detected: boolean };
  /** Micro-tile mr x nr and cache blocks kc, mc, nc; blocking says where they came from. */
  gemm: { mr: number; nr: number; kc: number; mc: number; nc: number; blocking: string };
  /** How bfloat16 GEMMs run: vdpbf16ps kernels, or float32 kernels on rounded operands. */
  bf16: 'avx512_bf16' | 'emulated';
}

/** The memory exports and the helpers; the ops of native/include/ops.def are in NativeOps. */
export interface NativeCore extends NativeOps {
  setErrorClass(ctor: new (message: string) => Error): void;
  cpuInfo(): CpuInfo;
  registerCudaBackend(backend: unknown, device: number): void;

  alloc(device: number, dtype: number, numel: number): Handle;
  release(h: Handle): void;
  /** bfloat16 storage takes and gives its raw bits as a Uint16Array. */
  write(h: Handle, offset: number, data: Float32Array | Int32Array | Float64Array | Uint16Array): void;
  read(h: Handle, offset: number, out: Float32Array | Int32Array | Float64Array | Uint16Array): void;
  copy(dst: Handle, dstOff: number, src: Handle, srcOff: number, numel: number): void;
  memoryStats(): { device: number; bytes: number; count: number; peakBytes: number; cachedBytes: number }[];
  emptyCache(): void;
  resetPeak(): void;
  synchronize(device: number): void;
  /** The raw address of a storage range, as a type-tagged External for the communication addon
   * (native/include/storage_view.h); keep the storage retained while it is in use. */
  storageView(h: Handle, offset: number, numel: number): unknown;
  /** Every op of the op table with its fields (native/binding/ops.cc): for tests and fuzzing. */
  opSpecs(): { name: string; composite: boolean; fields: { kind: string; name: string; type?: string; values?: number }[] }[];
}

/** Op codes; values match the enums in native/include/op_types.h. */
export const UnaryOp = {
  neg: 0, exp: 1, log: 2, sqrt: 3, rsqrt: 4, abs: 5, sign: 6, relu: 7, sigmoid: 8, tanh: 9,
  gelu: 10, leakyRelu: 11, clamp: 12, powScalar: 13, addScalar: 14, mulScalar: 15,
  square: 16, reciprocal: 17, sin: 18, cos: 19, rsubScalar: 20,
} as const;
export type UnaryOpName = keyof typeof UnaryOp;

export const BinaryOp = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6,
  eq: 7, ne: 8, gt: 9, ge: 10, lt: 11, le: 12,
} as const;
export type BinaryOpName = keyof typeof BinaryOp;

export const ReduceOp = { sum: 0, mean: 1, max: 2, min: 3, argmax: 4, argmin: 5 } as const;
export type ReduceOpName = keyof typeof ReduceOp;

export const ScanOp = { sum: 0, prod: 1, logsumexp: 2 } as const;
export type ScanOpName = keyof typeof ScanOp;

/** The package root: one level above this file (src/ or dist/). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function loadCore(): NativeCore {
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  const override = process.env.KILN_BINARY;
  if (override) {
    try {
      return require(override) as NativeCore;
    } catch (e) {
      throw new KilnError(`KILN_BINARY=${override} could not be loaded: ${(e as Error).message}`);
    }
  }
  try {
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    return nodeGypBuild(packageRoot) as NativeCore;
  } catch (e) {
    tried.push(`node-gyp-build(${packageRoot}): ${(e as Error).message}`);
  }
  throw new KilnError(
    `the Kiln native addon could not be loaded. Tried:\n  ${tried.join('\n  ')}\n` +
      'Run `npm rebuild kiln --build-from-source` (needs a C++ compiler) or set KILN_BINARY.',
  );
}

export const native: NativeCore = loadCore();
native.setErrorClass(KilnError);
