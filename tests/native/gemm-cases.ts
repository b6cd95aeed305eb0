// GEMM cases shared by gemm.test.ts (best ISA), gemm-avx2.test.ts and gemm-portable.test.ts.
//
// Every case runs the raw addon's gemm and compares with a float64 reference computed in JS
// from the same float32 inputs (the placeholder's naive semantics: C = alpha*op(A)@op(B) +
// beta*C, beta == 0 ignores C). Tolerance, on the max norm:
//   max|C - ref| <= 1e-5 * sqrt(max(K, 1)) * max(1, max|ref|)
// Inputs are uniform in [-1, 1]; float32 summation in any order stays far inside that bound.
// Cells outside the M x N window (ldc padding, gaps between batch items) must be untouched.
import { describe, expect, it } from 'vitest';

export type Native = any; // raw .node exports, argument orders in native/binding/ops.cc

const CPU = 0;
const F32 = 0;

/** Deterministic uniform [-1, 1) generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function randArray(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r();
  return a;
}

export interface GemmCase {
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  padA?: number; // lda = row length + padA
  padB?: number;
  padC?: number;
  batch?: number;
  strideA?: number | 'packed' | 0; // 'packed' (default): items back to back
  strideB?: number | 'packed' | 0;
  strideC?: number | 'packed' | 0;
  poisonC?: boolean; // fill C with NaN (only meaningful with beta == 0)
  seed?: number;
}

interface Prepared {
  lda: number;
  ldb: number;
  ldc: number;
  sA: number;
  sB: number;
  sC: number;
  A: Float32Array;
  B: Float32Array;
  C0: Float32Array;
}

function prepare(c: GemmCase): Prepared {
  const { M, N, K } = c;
  const batch = c.batch ?? 1;
  const aRows = c.transA ? K : M, aCols = c.transA ? M : K;
  const bRows = c.transB ? N : K, bCols = c.transB ? K : N;
  const lda = aCols + (c.padA ?? 0), ldb = bCols + (c.padB ?? 0), ldc = N + (c.padC ?? 0);
  const stride = (s: GemmCase['strideA'], rows: number, ld: number) =>
    s === undefined || s === 'packed' ? rows * ld : s;
  const sA = stride(c.strideA, aRows, lda), sB = stride(c.strideB, bRows, ldb), sC = stride(c.strideC, M, ldc);
  const extent = (rows: number, ld: number, s: number) => Math.max(1, (batch - 1) * s + rows * ld);
  const seed = c.seed ?? 1;
  const A = randArray(extent(aRows, lda, sA), seed * 3 + 1);
  const B = randArray(extent(bRows, ldb, sB), seed * 3 + 2);
  const C0 = c.poisonC ? new Float32Array(extent(M, ldc, sC)).fill(NaN) : randArray(extent(M, ldc, sC), seed * 3 + 3);
  return { lda, ldb, ldc, sA, sB, sC, A, B, C0 };
}

/** float64 reference with the naive semantics, items applied in order (so strideC = 0 accumulates). */
function reference(c: GemmCase, p: Prepared): Float64Array {
  const { M, N, K } = c;
  const alpha = c.alpha ?? 1, beta = c.beta ?? 0, batch = c.batch ?? 1;
  const out = Float64Array.from(p.C0);
  const col = new Float64Array(K);
  for (let b = 0; b < batch; b++) {
    const a0 = b * p.sA, b0 = b * p.sB, c0 = b * p.sC;
    for (let j = 0; j < N; j++) {
      for (let k = 0; k < K; k++) col[k] = c.transB ? p.B[b0 + j * p.ldb + k] : p.B[b0 + k * p.ldb + j];
      for (let i = 0; i < M; i++) {
        let s = 0;
        if (c.transA) for (let k = 0; k < K; k++) s += p.A[a0 + k * p.lda + i] * col[k];
        else for (let k = 0; k < K; k++) s += p.A[a0 + i * p.lda + k] * col[k];
        const idx = c0 + i * p.ldc + j;
        // Keep float32 rounding of C between items, as the kernel stores C in float32.
        out[idx] = Math.fround(alpha * s + (beta === 0 ? 0 : beta * out[idx]));
      }
    }
  }
  return out;
}

export function runGemm(native: Native, c: GemmCase): { got: Float32Array; p: Prepared } {
  const p = prepare(c);
  const hA = native.alloc(CPU, F32, p.A.length), hB = native.alloc(CPU, F32, p.B.length);
  const hC = native.alloc(CPU, F32, p.C0.length);
  native.write(hA, 0, p.A);
  native.write(hB, 0, p.B);
  native.write(hC, 0, p.C0);
  native.gemm(!!c.transA, !!c.transB, c.M, c.N, c.K, c.alpha ?? 1, hA, 0, p.lda, p.sA, hB, 0, p.ldb, p.sB,
    c.beta ?? 0, hC, 0, p.ldc, p.sC, c.batch ?? 1);
  const got = new Float32Array(p.C0.length);
  native.read(hC, 0, got);
  for (const h of [hA, hB, hC]) native.release(h);
  return { got, p };
}

/** Max-norm check of one case; returns the measured relative error for reporting. */
export function checkGemm(native: Native, c: GemmCase): number {
  const { got, p } = runGemm(native, c);
  const ref = reference(c, p);
  const batch = c.batch ?? 1;
  const inside = new Uint8Array(got.length);
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < c.M; i++)
      for (let j = 0; j < c.N; j++) inside[b * p.sC + i * p.ldc + j] = 1;
  let maxRef = 0, maxErr = 0, badIdx = -1;
  for (let t = 0; t < got.length; t++) {
    if (!inside[t]) {
      // untouched: same bits (NaN stays NaN)
      if (!Object.is(got[t], p.C0[t])) throw new Error(`${label(c)}: wrote outside C at ${t}`);
      continue;
    }
    maxRef = Math.max(maxRef, Math.abs(ref[t]));
    const e = Math.abs(got[t] - ref[t]);
    if (!(e <= maxErr)) {
      maxErr = Number.isNaN(e) ? Infinity : e;
      badIdx = t;
    }
  }
  const scale = Math.max(1, maxRef);
  const tol = 1e-5 * Math.sqrt(Math.max(c.K, 1)) * scale;
  if (!(maxErr <= tol))
    throw new Error(`${label(c)}: max error ${maxErr} > ${tol} at ${badIdx} (got ${got[badIdx]}, want ${ref[badIdx]})`);
  return maxErr / scale;
}

function label(c: GemmCase): string {
  const t = `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`;
  return `${t} ${c.M}x${c.N}x${c.K} a=${c.alpha ?? 1} b=${c.beta ?? 0} batch=${c.batch ?? 1}`;
}

const TRANS: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true], [true, true]];

// Odd sizes and ones straddling the register tiles (AVX-512 12x32, AVX2 6x16, portable 4x8) and
// the cache blocks (KC 384, MC 48, NC 2048).
const SIZES: Array<[number, number, number]> = [
  [1, 1, 1], [7, 13, 5], [33, 65, 17], [129, 257, 300], [1000, 3, 7], [3, 1000, 7],
  [1, 300, 40], [300, 1, 40], [12, 32, 384], [13, 33, 385], [25, 47, 800], [5, 2100, 3],
  [64, 96, 1],
];

export function gemmSuite(native: Native, isa: string): void {
  describe(`gemm (${isa})`, () => {
    it(`runs on the ${isa} kernel table`, () => {
      expect(native.cpuInfo().isa).toBe(isa);
    });

    for (const [M, N, K] of SIZES)
      it(`${M}x${N}x${K}, all transposes, padded strides`, () => {
        for (const [transA, transB] of TRANS) {
          checkGemm(native, { M, N, K, transA, transB, seed: M + N + K });
          checkGemm(native, { M, N, K, transA, transB, padA: 3, padB: 5, padC: 7, alpha: 0.5, beta: 1.5, seed: 2 });
        }
      });

    it('training shapes: 128x784 @ 784x512 and its backward forms', () => {
      checkGemm(native, { M: 128, N: 512, K: 784, transB: true }); // y = x W^T
      checkGemm(native, { M: 128, N: 784, K: 512 }); // dx = dy W
      checkGemm(native, { M: 512, N: 784, K: 128, transA: true, beta: 1 }); // dW += dy^T x
    });

    it('alpha / beta variants', () => {
      for (const [alpha, beta] of [[1, 0], [0.5, 1], [-1.5, 0.25], [2, -1], [0, 0.5], [1, 1]])
        for (const [transA, transB] of TRANS)
          checkGemm(native, { M: 37, N: 45, K: 53, transA, transB, alpha, beta, padC: 2 });
    });

    it('beta = 0 ignores NaN in C', () => {
      for (const [transA, transB] of TRANS)
        for (const [M, N, K] of [[7, 13, 5], [129, 70, 400], [1, 1, 1]] as const)
          checkGemm(native, { M, N, K, transA, transB, beta: 0, alpha: 1.25, poisonC: true, padC: 3 });
    });

    it('K = 0 scales C by beta (and zeroes it for beta = 0, NaN included)', () => {
      checkGemm(native, { M: 9, N: 17, K: 0, beta: 0.5, padC: 1 });
      checkGemm(native, { M: 9, N: 17, K: 0, beta: 0, poisonC: true });
      checkGemm(native, { M: 9, N: 17, K: 0, beta: 1 });
    });

    it('the checker itself rejects a wrong product or a write outside C', () => {
      const wrongAlpha = { ...native, gemm: (...a: unknown[]) => native.gemm(...a.map((v, i) => (i === 5 ? 1.001 : v))) };
      expect(() => checkGemm(wrongAlpha, { M: 8, N: 9, K: 10 })).toThrow(/max error/);
      const wrongLdc = { ...native, gemm: (...a: unknown[]) => native.gemm(...a.map((v, i) => (i === 17 ? 9 : v))) };
      expect(() => checkGemm(wrongLdc, { M: 8, N: 9, K: 10, padC: 4 })).toThrow();
    });

    it('M = 0 or N = 0 writes nothing', () => {
      checkGemm(native, { M: 0, N: 5, K: 3 });
      checkGemm(native, { M: 5, N: 0, K: 3 });
    });

    it('batched, with stride-0 broadcast of either operand', () => {
      for (const [transA, transB] of TRANS) {
        // small items: run whole items per thread
        checkGemm(native, { M: 9, N: 10, K: 11, transA, transB, batch: 16, beta: 0.5 });
        checkGemm(native, { M: 9, N: 10, K: 11, transA, transB, batch: 7, strideA: 0, beta: 0, poisonC: true });
        checkGemm(native, { M: 20, N: 33, K: 6, transA, transB, batch: 5, strideB: 0, padC: 2 });
        // large items: split each item across threads
        checkGemm(native, { M: 130, N: 150, K: 70, transA, transB, batch: 3, strideA: 0, alpha: 0.75 });
      }
      checkGemm(native, { M: 100, N: 120, K: 64, batch: 4, strideB: 0 });
      // gaps between items must stay untouched
      checkGemm(native, { M: 6, N: 7, K: 8, batch: 4, strideC: 6 * 7 + 11, padA: 1, padB: 2 });
    });

    it('items sharing A (one wide product over their columns), across tile and item edges', () => {
      // item widths below, at and across the register tile's columns (8/16/32), a convolution's
      // 7x7 = 49, K across a cache block, M larger than all the columns (threads split M); gaps and
      // padding in B and C
      for (const transA of [false, true])
        for (const [M, N, K, batch] of [[13, 49, 300, 9], [128, 49, 1100, 5], [1, 5, 7, 40], [30, 31, 20, 6],
          [12, 32, 16, 4], [25, 33, 40, 3], [7, 100, 64, 2], [40, 1, 9, 70], [1000, 2, 100, 3]]) {
          checkGemm(native, { M, N, K, transA, batch, strideA: 0, beta: 0, poisonC: true, seed: N });
          checkGemm(native, { M, N, K, transA, batch, strideA: 0, alpha: -0.5, beta: 1.25, padA: 2, padB: 3, padC: 5 });
          checkGemm(native, { M, N, K, transA, batch, strideA: 0, beta: 1, strideB: (transA ? 0 : K * N + 3),
            strideC: M * N + 11 });
        }
    });

    it('items sharing A give the same bits as one call per item', () => {
      // the wide product splits K into the same blocks and sums each element in the same order
      for (const [M, N, K, batch] of [[128, 49, 1100, 6], [16, 100, 64, 8], [9, 10, 11, 16]]) {
        const c: GemmCase = { M, N, K, batch, strideA: 0, transA: M === 16 };
        const whole = runGemm(native, c).got;
        const perItem = runGemm({ ...native, gemm: (...a: any[]) => {
          const [tA, tB, m, n, k, alpha, hA, oA, lda, , hB, oB, ldb, sB, beta, hC, oC, ldc, sC, nb] = a;
          for (let b = 0; b < nb; b++)
            native.gemm(tA, tB, m, n, k, alpha, hA, oA, lda, 0, hB, oB + b * sB, ldb, 0, beta, hC, oC + b * sC, ldc, 0, 1);
        } }, c).got;
        expect(Buffer.compare(Buffer.from(whole.buffer), Buffer.from(perItem.buffer))).toBe(0);
      }
    });

    it('stride-0 C accumulates items in order', () => {
      checkGemm(native, { M: 10, N: 12, K: 14, batch: 5, strideC: 0, beta: 1 });
      checkGemm(native, { M: 64, N: 64, K: 64, batch: 4, strideC: 0, beta: 1, transB: true });
    });
  });
}
