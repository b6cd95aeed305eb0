/**
 * The core addon: a typed declaration of what build/Release/kiln.node exports, and its loader.
 *
 * Load order: KILN_BINARY (a path to a .node file), then node-gyp-build, which takes a
 * matching prebuild in prebuilds/<platform>-<arch>/ or a local build in build/Release.
 * Every buffer argument is a pair (storage handle, element offset).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from './errors.js';

export type Handle = { readonly __brand: 'kiln.storage' };
type H = Handle | null;

export interface NativeCore {
  setErrorClass(ctor: new (message: string) => Error): void;
  cpuInfo(): { isa: string; detectedIsa: string; reason: string; threads: number };
  registerCudaBackend(backend: unknown, device: number): void;

  alloc(device: number, dtype: number, numel: number): Handle;
  release(h: Handle): void;
  write(h: Handle, offset: number, data: Float32Array | Int32Array): void;
  read(h: Handle, offset: number, out: Float32Array | Int32Array): void;
  copy(dst: Handle, dstOff: number, src: Handle, srcOff: number, numel: number): void;
  fill(h: Handle, offset: number, numel: number, value: number): void;
  cast(dst: Handle, dstOff: number, src: Handle, srcOff: number, numel: number): void;
  stridedCopy(dst: Handle, dstOff: number, src: Handle, srcOff: number, shape: number[], strides: number[]): void;
  memoryStats(): { device: number; bytes: number; count: number; peakBytes: number; cachedBytes: number }[];
  emptyCache(): void;
  resetPeak(): void;
  synchronize(device: number): void;

  unary(op: number, y: Handle, yOff: number, x: Handle, xOff: number, n: number, alpha: number, beta: number): void;
  unaryBackward(op: number, dx: Handle, dxOff: number, dy: Handle, dyOff: number, x: H, xOff: number,
    y: H, yOff: number, n: number, alpha: number, beta: number): void;
  binary(op: number, out: Handle, outOff: number, a: Handle, aOff: number, b: Handle, bOff: number,
    shape: number[], aStrides: number[], bStrides: number[]): void;
  where(out: Handle, outOff: number, cond: Handle, cOff: number, a: Handle, aOff: number, b: Handle, bOff: number,
    shape: number[], cStrides: number[], aStrides: number[], bStrides: number[]): void;
  reduce(op: number, out: Handle, outOff: number, x: Handle, xOff: number, outer: number, n: number, inner: number): void;
  softmax(y: Handle, yOff: number, x: Handle, xOff: number, outer: number, n: number, inner: number, log: boolean): void;
  softmaxBackward(dx: Handle, dxOff: number, dy: Handle, dyOff: number, y: Handle, yOff: number,
    outer: number, n: number, inner: number, log: boolean): void;
  crossEntropyForward(loss: Handle, lOff: number, logProbs: Handle, lpOff: number, logits: Handle, lgOff: number,
    target: Handle, tOff: number, B: number, C: number, ignoreIndex: number, labelSmoothing: number): void;
  crossEntropyBackward(dlogits: Handle, dOff: number, dloss: Handle, dlOff: number, logProbs: Handle, lpOff: number,
    target: Handle, tOff: number, B: number, C: number, ignoreIndex: number, labelSmoothing: number): void;
  /** The LSTM recurrence over T steps (native/binding/lstm.cc): gates [T,B,4H] and hc [2,T,B,H] out. */
  lstmForward(gates: Handle, gOff: number, hc: Handle, hcOff: number, proj: Handle, pOff: number, wHh: Handle, wOff: number,
    bHh: H, bOff: number, h0: Handle, h0Off: number, c0: Handle, c0Off: number, T: number, B: number, H: number): void;
  lstmBackward(dgates: Handle, dgOff: number, dwHh: H, dwOff: number, dbHh: H, dbOff: number, dh0: Handle, dh0Off: number,
    dc0: Handle, dc0Off: number, dhc: Handle, dhcOff: number, gates: Handle, gOff: number, hc: Handle, hcOff: number,
    h0: Handle, h0Off: number, c0: Handle, c0Off: number, wHh: Handle, wOff: number, T: number, B: number, H: number): void;
  /** The plain RNN recurrence (native/binding/rnn.cc), tanh or relu: hs [T,B,H] out. */
  rnnForward(hs: Handle, hsOff: number, proj: Handle, pOff: number, wHh: Handle, wOff: number, bHh: H, bOff: number,
    h0: Handle, h0Off: number, T: number, B: number, H: number, relu: boolean): void;
  rnnBackward(dproj: Handle, dpOff: number, dwHh: H, dwOff: number, dbHh: H, dbOff: number, dh0: Handle, dh0Off: number,
    dhs: Handle, dhsOff: number, hs: Handle, hsOff: number, h0: Handle, h0Off: number, wHh: Handle, wOff: number,
    T: number, B: number, H: number, relu: boolean): void;
  /** The GRU recurrence (native/binding/gru.cc): gates and hh [T,B,3H], hs [T,B,H] out. */
  gruForward(gates: Handle, gOff: number, hh: Handle, hhOff: number, hs: Handle, hsOff: number, proj: Handle, pOff: number,
    wHh: Handle, wOff: number, bHh: H, bOff: number, h0: Handle, h0Off: number, T: number, B: number, H: number): void;
  gruBackward(dproj: Handle, dpOff: number, dwHh: H, dwOff: number, dbHh: H, dbOff: number, dh0: Handle, dh0Off: number,
    dhs: Handle, dhsOff: number, gates: Handle, gOff: number, hh: Handle, hhOff: number, hs: Handle, hsOff: number,
    h0: Handle, h0Off: number, wHh: Handle, wOff: number, T: number, B: number, H: number): void;
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
    A: Handle, aOff: number, lda: number, strideA: number, B: Handle, bOff: number, ldb: number, strideB: number,
    beta: number, C: Handle, cOff: number, ldc: number, strideC: number, batch: number): void;
  indexSelect(out: Handle, oOff: number, src: Handle, sOff: number, idx: Handle, iOff: number,
    outer: number, n: number, inner: number, nIdx: number): void;
  indexAdd(dst: Handle, dOff: number, src: Handle, sOff: number, idx: Handle, iOff: number,
    outer: number, n: number, inner: number, nIdx: number): void;
  gather(out: Handle, oOff: number, src: Handle, sOff: number, idx: Handle, iOff: number,
    outer: number, n: number, inner: number, k: number): void;
  scatterAdd(dst: Handle, dOff: number, src: Handle, sOff: number, idx: Handle, iOff: number,
    outer: number, n: number, inner: number, k: number): void;
  im2col(col: Handle, cOff: number, x: Handle, xOff: number, dims: number[], window: number[], outSize: number[]): void;
  col2im(dx: Handle, dxOff: number, col: Handle, cOff: number, dims: number[], window: number[], outSize: number[]): void;
  maxPool2d(y: Handle, yOff: number, argmax: Handle, aOff: number, x: Handle, xOff: number,
    dims: number[], window: number[], outSize: number[]): void;
  maxPool2dBackward(dx: Handle, dxOff: number, dy: Handle, dyOff: number, argmax: Handle, aOff: number,
    dims: number[], window: number[], outSize: number[]): void;
  avgPool2d(y: Handle, yOff: number, x: Handle, xOff: number, dims: number[], window: number[], outSize: number[],
    countIncludePad: boolean): void;
  avgPool2dBackward(dx: Handle, dxOff: number, dy: Handle, dyOff: number, dims: number[], window: number[],
    outSize: number[], countIncludePad: boolean): void;
  randomUniform(out: Handle, off: number, n: number, seed: number, offset: number, low: number, high: number): void;
  randomNormal(out: Handle, off: number, n: number, seed: number, offset: number, mean: number, std: number): void;
  adamStep(p: Handle, pOff: number, g: Handle, gOff: number, m: Handle, mOff: number, v: Handle, vOff: number,
    vMax: H, vmOff: number, n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
    step: number, decoupled: boolean, amsgrad: boolean, maximize: boolean): void;
  sgdStep(p: Handle, pOff: number, g: Handle, gOff: number, buf: H, bOff: number, n: number, lr: number,
    momentum: number, dampening: number, weightDecay: number, nesterov: boolean, firstStep: boolean,
    maximize: boolean): void;
}

/** Op codes; values match the enums in native/include/backend.h. */
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
