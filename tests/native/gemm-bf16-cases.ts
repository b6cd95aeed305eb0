// gemmBf16 cases, shared by the four gemm-bf16*.test.ts files (vdpbf16ps, the emulated path on
// the avx512 table, avx2, portable). The reference rounds both operands to bfloat16 (nearest,
// ties to even, written here from the bit pattern) and sums the exact products in float64; the
// kernel may only add float32 summation error: max|C - ref| <= 1e-5 sqrt(K) max(1, max|ref|).
// The same inputs against the unrounded float64 product must be far off (the rounding happened).
import { describe, expect, it } from 'vitest';

export type Native = any;
const CPU = 0;
const F32 = 0;

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

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);
/** float32 -> bfloat16 (nearest, ties to even; NaN stays NaN), as a float. */
export function bf16(x: number): number {
  asFloat[0] = x;
  const u = bits[0];
  if ((u & 0x7fffffff) > 0x7f800000) return NaN;
  const lsb = (u >>> 16) & 1;
  bits[0] = ((u + 0x7fff + lsb) >>> 16) << 16;
  return asFloat[0];
}

interface Case { M: number; N: number; K: number; transA?: boolean; transB?: boolean; alpha?: number; beta?: number; pad?: number; batch?: number; seed?: number }

function run(native: Native, c: Case, A: Float32Array, B: Float32Array, C0: Float32Array, ld: { lda: number; ldb: number; ldc: number; sA: number; sB: number; sC: number }): Float32Array {
  const h = [A, B, C0].map((x) => {
    const hh = native.alloc(CPU, F32, Math.max(1, x.length));
    if (x.length > 0) native.write(hh, 0, x);
    return hh;
  });
  native.gemmBf16(!!c.transA, !!c.transB, c.M, c.N, c.K, c.alpha ?? 1, h[0], 0, ld.lda, ld.sA, h[1], 0, ld.ldb, ld.sB,
    c.beta ?? 0, h[2], 0, ld.ldc, ld.sC, c.batch ?? 1);
  const got = new Float32Array(C0.length);
  native.read(h[2], 0, got);
  h.forEach((x) => native.release(x));
  return got;
}

/** Runs one case; returns [error vs the bf16 reference, error vs the unrounded product], each relative to max(1, max|ref|). */
export function checkBf16(native: Native, c: Case): [number, number] {
  const { M, N, K } = c;
  const batch = c.batch ?? 1, pad = c.pad ?? 0, alpha = c.alpha ?? 1, beta = c.beta ?? 0;
  const aRows = c.transA ? K : M, aCols = c.transA ? M : K;
  const bRows = c.transB ? N : K, bCols = c.transB ? K : N;
  const lda = aCols + pad, ldb = bCols + pad, ldc = N + pad;
  const sA = aRows * lda, sB = bRows * ldb, sC = M * ldc;
  const r = rng(c.seed ?? 7);
  const fill = (n: number) => Float32Array.from({ length: n }, () => r());
  const A = fill(batch * sA), B = fill(batch * sB), C0 = fill(batch * sC);
  const got = run(native, c, A, B, C0, { lda, ldb, ldc, sA, sB, sC });
  let maxRef = 0, errRounded = 0, errExact = 0;
  for (let b = 0; b < batch; b++)
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0, e = 0;
        for (let k = 0; k < K; k++) {
          const a = A[b * sA + (c.transA ? k * lda + i : i * lda + k)];
          const bb = B[b * sB + (c.transB ? j * ldb + k : k * ldb + j)];
          s += bf16(a) * bf16(bb);
          e += a * bb;
        }
        const idx = b * sC + i * ldc + j;
        const old = beta === 0 ? 0 : beta * C0[idx];
        const ref = alpha * s + old;
        maxRef = Math.max(maxRef, Math.abs(ref));
        errRounded = Math.max(errRounded, Math.abs(got[idx] - ref));
        errExact = Math.max(errExact, Math.abs(got[idx] - (alpha * e + old)));
      }
  // nothing outside the C windows is touched
  for (let t = 0; t < got.length; t++) if (t % ldc >= N) expect(got[t]).toBe(C0[t]);
  const scale = Math.max(1, maxRef);
  const tol = 1e-5 * Math.sqrt(Math.max(K, 1));
  expect(errRounded / scale, `${M}x${N}x${K} ${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`).toBeLessThanOrEqual(tol);
  return [errRounded / scale, errExact / scale];
}

const TRANS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
// straddling the tiles (12x32 AVX-512, 6x16 AVX2, 4x8 portable), odd K (a half pair), KC 512, NC 2048
const SIZES: [number, number, number][] = [[1, 1, 1], [7, 13, 5], [13, 33, 3], [33, 65, 17], [12, 32, 512], [13, 47, 1025],
  [49, 70, 300], [5, 2100, 9], [300, 1, 40]];

export function bf16Suite(native: Native, isa: string, mode: 'avx512_bf16' | 'emulated'): void {
  describe(`gemmBf16 (${isa}, ${mode})`, () => {
    it(`runs on the ${isa} table, bf16 ${mode}`, () => {
      expect(native.cpuInfo().isa).toBe(isa);
      expect(native.cpuInfo().bf16).toBe(mode);
    });

    it('sizes across the tiles and blocks, all transposes, padded strides, alpha/beta, batches', () => {
      let worstExact = Infinity;
      for (const [M, N, K] of SIZES)
        for (const [transA, transB] of TRANS) {
          checkBf16(native, { M, N, K, transA, transB, seed: M + N + K });
          checkBf16(native, { M, N, K, transA, transB, pad: 3, alpha: -0.5, beta: 1.25, seed: 3 });
        }
      for (const batch of [2, 5]) {
        const [, exact] = checkBf16(native, { M: 40, N: 70, K: 257, transB: true, batch, seed: batch });
        worstExact = Math.min(worstExact, exact);
      }
      // bf16 has 8 significant bits: against the unrounded product the error is ~1e-3, not 1e-7
      expect(worstExact).toBeGreaterThan(1e-4);
    });

    it('training shapes: y = x W^T, dx = dy W, dW = dy^T x', () => {
      checkBf16(native, { M: 8, N: 512, K: 784, transB: true });
      checkBf16(native, { M: 8, N: 784, K: 512 });
      checkBf16(native, { M: 512, N: 784, K: 8, transA: true, beta: 1 });
    });

    it('bfloat16 storage operands (bfloat16 tensors) give the same bits as their float32 values', () => {
      // A and B rounded here, given once as float32 buffers and once as 2-byte bfloat16 storage
      // (A, B or both): the packing widens bf16 exactly, so every output must be identical
      const BF16 = 3;
      const r = rng(11);
      for (const [M, N, K] of [[7, 13, 5], [13, 47, 1025], [33, 65, 17], [49, 70, 300]] as [number, number, number][])
        for (const [transA, transB] of TRANS) {
          const A = Float32Array.from({ length: M * K }, () => bf16(r()));
          const B = Float32Array.from({ length: K * N }, () => bf16(r()));
          const lda = transA ? M : K, ldb = transB ? K : N;
          const buf = (x: Float32Array, asBf16: boolean) => {
            const h = native.alloc(CPU, asBf16 ? BF16 : F32, x.length);
            if (asBf16) native.write(h, 0, Uint16Array.from(new Uint32Array(x.buffer), (u) => u >>> 16));
            else native.write(h, 0, x);
            return h;
          };
          const outs = [[false, false], [true, true], [true, false], [false, true]].map(([ab, bb]) => {
            const hA = buf(A, ab), hB = buf(B, bb), hC = native.alloc(CPU, F32, M * N);
            native.gemmBf16(transA, transB, M, N, K, 1, hA, 0, lda, 0, hB, 0, ldb, 0, 0, hC, 0, N, 0, 1);
            const out = new Float32Array(M * N);
            native.read(hC, 0, out);
            [hA, hB, hC].forEach((h) => native.release(h));
            return out;
          });
          for (const o of outs.slice(1)) expect(Array.from(o), `${M}x${N}x${K}`).toEqual(Array.from(outs[0]));
        }
      // other dtypes are refused by name
      const h64 = native.alloc(CPU, 2, 4), hB = native.alloc(CPU, F32, 4), hC = native.alloc(CPU, F32, 4);
      expect(() => native.gemmBf16(false, false, 2, 2, 2, 1, h64, 0, 2, 0, hB, 0, 2, 0, 0, hC, 0, 2, 0, 1))
        .toThrow(/A, B: expected float32 or bfloat16 matrices/);
      [h64, hB, hC].forEach((h) => native.release(h));
    });

    it('rounds to nearest, ties to even; NaN and infinity pass; beta 0 ignores NaN in C; K = 0 scales C', () => {
      const xs = [1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -(1 + 2 ** -8), 3.4e38, Infinity, NaN, 1e-3, -0];
      const A = Float32Array.from(xs);
      const one = (x: Float32Array) => {
        const hA = native.alloc(CPU, F32, x.length), hB = native.alloc(CPU, F32, 1), hC = native.alloc(CPU, F32, x.length);
        native.write(hA, 0, x);
        native.write(hB, 0, Float32Array.of(1));
        native.write(hC, 0, new Float32Array(x.length).fill(NaN));
        native.gemmBf16(false, false, x.length, 1, 1, 1, hA, 0, 1, 0, hB, 0, 1, 0, 0, hC, 0, 1, 0, 1);
        const out = new Float32Array(x.length);
        native.read(hC, 0, out);
        [hA, hB, hC].forEach((h) => native.release(h));
        return Array.from(out);
      };
      const got = one(A);
      expect(got.slice(0, 4)).toEqual([1, 1 + 4 * 2 ** -8, 1 + 2 * 2 ** -8, -1]);
      expect(got[4]).toBe(Infinity); // 3.4e38 rounds past the largest bf16
      expect(got[5]).toBe(Infinity);
      expect(got[6]).toBeNaN();
      expect(got[7]).toBe(bf16(1e-3));
      expect(got[8]).toBe(0); // -0 * 1 summed from +0
      for (let i = 0; i < 8; i++) if (!Number.isNaN(xs[i])) expect(got[i]).toBe(bf16(Math.fround(xs[i])));
      // K = 0: C = beta * C
      const hC = native.alloc(CPU, F32, 4);
      native.write(hC, 0, Float32Array.of(1, 2, 3, 4));
      const h1 = native.alloc(CPU, F32, 1);
      native.gemmBf16(false, false, 2, 2, 0, 1, h1, 0, 1, 0, h1, 0, 2, 0, 0.5, hC, 0, 2, 0, 1);
      const c = new Float32Array(4);
      native.read(hC, 0, c);
      expect(Array.from(c)).toEqual([0.5, 1, 1.5, 2]);
      [hC, h1].forEach((h) => native.release(h));
    });
  });
}
