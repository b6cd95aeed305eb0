// Single-precision GEMM, row-major, BLIS/GotoBLAS style (float64: gemm_f64.cc):
//
//   for jc in N step NC            (B panel: KC x NC, packed NR-wide micro-panels, k-major)
//     for pc in K step KC          (K split into equal chunks <= KC)
//       pack B[pc:pc+kc, jc:jc+nc]
//       for ic in M step MC        (A block: MC x KC, packed MR-tall micro-panels, k-major)
//         pack A[ic:ic+mc, pc:pc+kc]
//         for jr in nc step NR     (B micro-panel stays in L1 across the ir loop)
//           for ir in mc step MR   micro-kernel (gemm_ukernel.h), alpha/beta in its write-back
//
// transA/transB are handled by the packing routines (no transpose pass). Edge tiles run
// kernels instantiated for fewer rows / vectors, with masked stores, so nothing is padded in C.
// Threads: each thread runs the serial algorithm on its own slice of N (or of M when M is the
// larger side), with its own thread-local packing buffers; batched calls with small items run
// whole items per thread instead. Compiled once per ISA (see kernels.h): no STL, no exceptions.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../cache_info.h"
#include "gemm_ukernel.h"
#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

using gemm_detail::kMR;
using gemm_detail::kNR;

// Below this many multiply-adds a gemm runs on one thread (a fork/join costs ~1-2 us).
constexpr int64_t kParallelMinWork = int64_t(1) << 17;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Cache blocking, chosen once from the processor's cache sizes (cache_info.h):
//   kc: a packed B micro-panel (kc x NR) fills about half of L1D, so it stays there while the
//       A micro-panels stream past it;
//   mc: the packed A block (mc x kc) fills about half of L2;
//   nc: the packed B panel (kc x nc), shared by the A blocks, stays in L3.
// KILN_GEMM_BLOCKING=kc,mc,nc replaces the model (tuning runs).
struct Blocking {
  int64_t kc, mc, nc;
  bool overridden;
};

Blocking chooseBlocking() {
  const CacheSizes& cs = cacheSizes();
  const GemmBlockingOverride& o = gemmBlockingOverride();
  Blocking b{};
  b.kc = cs.l1d / (2 * kNR * static_cast<int64_t>(sizeof(float))) / 16 * 16;
  if (b.kc < 128) b.kc = 128;
  if (b.kc > 1024) b.kc = 1024;
  b.mc = cs.l2 / (2 * b.kc * static_cast<int64_t>(sizeof(float))) / kMR * kMR;
  if (b.mc < kMR) b.mc = kMR;
  if (b.mc > 1024) b.mc = 1024 / kMR * kMR;
  b.nc = 2048;
  if (o.kc > 0) {
    b.kc = o.kc;
    b.mc = (o.mc + kMR - 1) / kMR * kMR;
    b.nc = o.nc;
    b.overridden = true;
  }
  b.nc = (b.nc + kNR - 1) / kNR * kNR;
  return b;
}

const Blocking& blocking() {
  static const Blocking b = chooseBlocking();
  return b;
}

// Per-thread packing buffers, grown on demand and kept for the next call.
struct PackBuffers {
  float* a = nullptr;
  int64_t aCap = 0;
  float* b = nullptr;
  int64_t bCap = 0;
  ~PackBuffers() {
    std::free(a);
    std::free(b);
  }
};
thread_local PackBuffers tPack;

inline float* growBuffer(float*& p, int64_t& cap, int64_t n) {
  if (cap < n) {
    std::free(p);
    // + one vector of slack: packing may store a full vector at the end of the last panel
    size_t bytes = (static_cast<size_t>(n + 16) * sizeof(float) + 63) & ~static_cast<size_t>(63);
    p = static_cast<float*>(std::aligned_alloc(64, bytes));
    cap = p ? n : 0;
  }
  return p;
}

// ---- packing -------------------------------------------------------------------------------

#if defined(__AVX512F__)
// In-register 16x16 transpose: r[i][k] -> r[k][i].
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4g + c], lane L: column 4L + c of rows 4g..4g+3
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {
    r[4 * g + 0] = _mm512_shuffle_ps(t[4 * g + 0], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * g + 1] = _mm512_shuffle_ps(t[4 * g + 0], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    __m512 v0 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
    __m512 v1 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
    __m512 v2 = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);
    __m512 v3 = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
    t[c] = _mm512_shuffle_f32x4(v0, v1, 0x88);
    t[8 + c] = _mm512_shuffle_f32x4(v0, v1, 0xDD);
    t[4 + c] = _mm512_shuffle_f32x4(v2, v3, 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(v2, v3, 0xDD);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}
#endif

#if defined(__AVX2__) && !defined(__AVX512F__)
// In-register 8x8 transpose: r[i][k] -> r[k][i].
inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 2
  for (int g = 0; g < 2; ++g) {
    u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g + 0], t[4 * g + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g + 0], t[4 * g + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
    r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
  }
}
#endif

// d[0:width) = s[0:n) then zeros (n <= width <= 32): one k-row of a micro-panel. The source is
// read only where it exists (masked loads), so an edge row never reads past its matrix.
inline void copyPad(float* __restrict d, const float* __restrict s, int n, int width) {
#if defined(__AVX512F__)
  for (int v = 0; v < width; v += 16) {
    const int left = n - v;
    const __mmask16 in = left >= 16 ? __mmask16(0xffff) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1u);
    const int w = width - v;
    const __mmask16 out = w >= 16 ? __mmask16(0xffff) : __mmask16((1u << w) - 1u);
    _mm512_mask_storeu_ps(d + v, out, _mm512_maskz_loadu_ps(in, s + v));
  }
#elif defined(__AVX2__)
  int v = 0;
  for (; v + 8 <= width; v += 8) {
    const int left = n - v;
    if (left >= 8) {
      _mm256_storeu_ps(d + v, _mm256_loadu_ps(s + v));
    } else {
      const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
      const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane);
      _mm256_storeu_ps(d + v, _mm256_maskload_ps(s + v, mask));
    }
  }
  for (; v < width; ++v) d[v] = v < n ? s[v] : 0.f;
#else
  int v = 0;
  for (; v < n; ++v) d[v] = s[v];
  for (; v < width; ++v) d[v] = 0.f;
#endif
}

// Packs op(A)[0:mc, 0:kc] into MR-row micro-panels: dst[panel][k][i], zero rows past mc.
// A points at op(A)[0][0]; op(A)[i][k] = transA ? A[k*lda + i] : A[i*lda + k].
void packA(bool transA, const float* A, int64_t lda, int64_t mc, int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t mr = min64(kMR, mc - ir);
    float* d = dst + ir * kc;
    if (transA) {
      const float* s = A + ir;
      for (int64_t k = 0; k < kc; ++k) copyPad(d + k * kMR, s + k * lda, static_cast<int>(mr), kMR);
    } else {
      const float* s = A + ir * lda;
      int64_t kStart = 0;
#if defined(__AVX512F__)
      // 16 k at a time through an in-register transpose (rows past mr are zero).
      static_assert(kMR <= 16, "transpose packs at most 16 rows");
      const __mmask16 rowMask = static_cast<__mmask16>((1u << kMR) - 1u);
      for (; kStart + 16 <= kc; kStart += 16) {
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i)
          r[i] = i < mr ? _mm512_loadu_ps(s + i * lda + kStart) : _mm512_setzero_ps();
        transpose16(r);
#pragma GCC unroll 16
        for (int k = 0; k < 16; ++k) _mm512_mask_storeu_ps(d + (kStart + k) * kMR, rowMask, r[k]);
      }
#elif defined(__AVX2__)
      // 8 k at a time through an in-register transpose (rows past mr are zero). Each k stores a
      // whole vector: its 8 - kMR extra lanes land on the next k's slot (written after it) or,
      // for the last one, in the buffer's slack.
      static_assert(kMR <= 8, "transpose packs at most 8 rows");
      for (; kStart + 8 <= kc; kStart += 8) {
        __m256 r[8];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) r[i] = i < mr ? _mm256_loadu_ps(s + i * lda + kStart) : _mm256_setzero_ps();
        transpose8(r);
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) _mm256_storeu_ps(d + (kStart + k) * kMR, r[k]);
      }
#endif
      // Walk k in chunks so each source row is read contiguously and the destination chunk
      // (kMR * 16 floats) stays in L1.
      for (int64_t k0 = kStart; k0 < kc; k0 += 16) {
        const int64_t kb = min64(16, kc - k0);
        for (int64_t i = 0; i < mr; ++i) {
          const float* si = s + i * lda + k0;
          float* di = d + k0 * kMR + i;
          for (int64_t k = 0; k < kb; ++k) di[k * kMR] = si[k];
        }
        for (int64_t i = mr; i < kMR; ++i)
          for (int64_t k = 0; k < kb; ++k) d[(k0 + k) * kMR + i] = 0.f;
      }
    }
  }
}

// Packs op(B)[0:kc, 0:nc] into NR-column micro-panels: dst[panel][k][j], zero columns past nc.
// B points at op(B)[0][0]; op(B)[k][j] = transB ? B[j*ldb + k] : B[k*ldb + j].
void packB(bool transB, const float* B, int64_t ldb, int64_t kc, int64_t nc, float* dst) {
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const int64_t nr = min64(kNR, nc - jr);
    float* d = dst + jr * kc;
    if (!transB) {
      const float* s = B + jr;
      if (nr == kNR) {
        for (int64_t k = 0; k < kc; ++k) {
          const float* sk = s + k * ldb;
#pragma GCC unroll 32
          for (int j = 0; j < kNR; ++j) d[k * kNR + j] = sk[j];
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) copyPad(d + k * kNR, s + k * ldb, static_cast<int>(nr), kNR);
      }
    } else {
      const float* s = B + jr * ldb;
      int64_t kStart = 0;
#if defined(__AVX512F__)
      // 16 columns x 16 k at a time through an in-register transpose (columns past nr are zero).
      for (; kStart + 16 <= kc; kStart += 16) {
#pragma GCC unroll 2
        for (int j0 = 0; j0 < kNR; j0 += 16) {
          __m512 r[16];
#pragma GCC unroll 16
          for (int j = 0; j < 16; ++j)
            r[j] = j0 + j < nr ? _mm512_loadu_ps(s + (j0 + j) * ldb + kStart) : _mm512_setzero_ps();
          transpose16(r);
#pragma GCC unroll 16
          for (int k = 0; k < 16; ++k) _mm512_store_ps(d + (kStart + k) * kNR + j0, r[k]);
        }
      }
#elif defined(__AVX2__)
      // 8 columns x 8 k at a time through an in-register transpose (columns past nr are zero).
      for (; kStart + 8 <= kc; kStart += 8) {
#pragma GCC unroll 2
        for (int j0 = 0; j0 < kNR; j0 += 8) {
          __m256 r[8];
#pragma GCC unroll 8
          for (int j = 0; j < 8; ++j)
            r[j] = j0 + j < nr ? _mm256_loadu_ps(s + (j0 + j) * ldb + kStart) : _mm256_setzero_ps();
          transpose8(r);
#pragma GCC unroll 8
          for (int k = 0; k < 8; ++k) _mm256_store_ps(d + (kStart + k) * kNR + j0, r[k]);
        }
      }
#endif
      for (int64_t k0 = kStart; k0 < kc; k0 += 16) {
        const int64_t kb = min64(16, kc - k0);
        for (int64_t j = 0; j < nr; ++j) {
          const float* sj = s + j * ldb + k0;
          float* dj = d + k0 * kNR + j;
          for (int64_t k = 0; k < kb; ++k) dj[k * kNR] = sj[k];
        }
        for (int64_t j = nr; j < kNR; ++j)
          for (int64_t k = 0; k < kb; ++k) d[(k0 + k) * kNR + j] = 0.f;
      }
    }
  }
}

// Items that share A, read as one wide matrix: item b's n columns are columns [b*n, (b+1)*n) of
// one op(B) and one C, so the batch fills whole micro-panels and A is packed once for all of
// it (a convolution's per-image products have n = OH*OW, often far below a panel's width).
struct ItemCols {
  int64_t n;        // columns per item; 0: a plain matrix
  int64_t strideB;  // item stride of B (op(B) not transposed)
  int64_t strideC;  // item stride of C
};
constexpr ItemCols kPlain{0, 0, 0};

// packB for item columns: op(B)[0:kc, col0:col0+nc) of the wide matrix, B at item 0's row 0.
// A micro-panel that crosses an item boundary is copied segment by segment.
void packBItems(const float* B, int64_t ldb, const ItemCols& it, int64_t col0, int64_t kc, int64_t nc, float* dst) {
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const int64_t nr = min64(kNR, nc - jr);
    float* d = dst + jr * kc;
    for (int64_t j = 0; j < nr;) {
      const int64_t v = col0 + jr + j, item = v / it.n, c = v % it.n;
      const int64_t w = min64(nr - j, it.n - c);
      const float* s = B + item * it.strideB + c;
      if (w == kNR) {  // the whole micro-panel inside one item: packB's fixed-width copy
        for (int64_t k = 0; k < kc; ++k) {
          const float* sk = s + k * ldb;
#pragma GCC unroll 32
          for (int x = 0; x < kNR; ++x) d[k * kNR + x] = sk[x];
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) copyPad(d + k * kNR + j, s + k * ldb, static_cast<int>(w), static_cast<int>(w));
      }
      j += w;
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t j = nr; j < kNR; ++j) d[k * kNR + j] = 0.f;
  }
}

// Runs one micro-kernel whose tile starts at column v of the wide C (row block at C).
// A tile inside one item is written in place; one that crosses items goes through a local
// tile, then each segment gets C = tile + beta * C (the kernel's own write-back, alpha applied).
void itemTile(gemm_detail::UKernel uk, int64_t kc, const float* a, const float* b, float* C, int64_t ldc,
              const ItemCols& it, int64_t v, int mr, int nr, float alpha, float beta) {
  const int64_t item = v / it.n, c = v % it.n;
  if (c + nr <= it.n) {
    uk(kc, a, b, C + item * it.strideC + c, ldc, nr, alpha, beta);
    return;
  }
  alignas(64) float tile[kMR * kNR];
  uk(kc, a, b, tile, kNR, nr, alpha, 0.f);
  for (int64_t j = 0; j < nr;) {
    const int64_t vi = (v + j) / it.n, ci = (v + j) % it.n;
    const int64_t w = min64(nr - j, it.n - ci);
    for (int i = 0; i < mr; ++i) {
      float* row = C + vi * it.strideC + i * ldc + ci;
      const float* t = tile + i * kNR + j;
      if (beta == 0.f)
        for (int64_t x = 0; x < w; ++x) row[x] = t[x];
      else
        for (int64_t x = 0; x < w; ++x) row[x] = t[x] + beta * row[x];
    }
    j += w;
  }
}

// ---- serial driver -------------------------------------------------------------------------

// Reference loop, used only if a packing buffer cannot be allocated.
void gemmNaive(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
               int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += (transA ? A[k * lda + i] : A[i * lda + k]) * (transB ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = alpha * s + (beta == 0.f ? 0.f : beta * C[i * ldc + j]);
    }
}

// C = beta * C over an M x N block (K == 0).
void scaleC(int64_t M, int64_t N, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    float* row = C + i * ldc;
    if (beta == 0.f)
      for (int64_t j = 0; j < N; ++j) row[j] = 0.f;
    else
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
  }
}

// One thread, one matrix. A/B point at op(A)[0][0] / op(B)[0][0] of this block.
// With item columns (it.n > 0), N counts the wide matrix's columns from col0 on, B and C point
// at item 0 (row 0 of B, this block's row 0 of C) and B is not transposed.
void gemmSerial(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc, const ItemCols& it = kPlain, int64_t col0 = 0) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scaleC(M, N, beta, C, ldc);
    return;
  }
  // Equal-sized chunks, rounded to the tile sizes, so no block is a thin remainder.
  const Blocking& bl = blocking();
  const int64_t nk = ceilDiv(K, bl.kc);
  const int64_t kcMax = ceilDiv(K, nk);
  const int64_t nm = ceilDiv(M, bl.mc);
  const int64_t mcMax = ceilDiv(ceilDiv(M, nm), kMR) * kMR;
  const int64_t nn = ceilDiv(N, bl.nc);
  const int64_t ncMax = ceilDiv(ceilDiv(N, nn), kNR) * kNR;

  float* bufA = growBuffer(tPack.a, tPack.aCap, mcMax * kcMax);
  float* bufB = growBuffer(tPack.b, tPack.bCap, ncMax * kcMax);
  if (bufA == nullptr || bufB == nullptr) {
    if (it.n == 0) {
      gemmNaive(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
      return;
    }
    for (int64_t v = col0; v < col0 + N; ++v)
      gemmNaive(transA, false, M, 1, K, alpha, A, lda, B + v / it.n * it.strideB + v % it.n, ldb, beta,
                C + v / it.n * it.strideC + v % it.n, ldc);
    return;
  }

  for (int64_t jc = 0; jc < N; jc += ncMax) {
    const int64_t nc = min64(ncMax, N - jc);
    for (int64_t pc = 0; pc < K; pc += kcMax) {
      const int64_t kc = min64(kcMax, K - pc);
      if (it.n > 0) {
        packBItems(B + pc * ldb, ldb, it, col0 + jc, kc, nc, bufB);
      } else {
        const float* Bblk = transB ? B + jc * ldb + pc : B + pc * ldb + jc;
        packB(transB, Bblk, ldb, kc, nc, bufB);
      }
      const float betaEff = pc == 0 ? beta : 1.f;
      for (int64_t ic = 0; ic < M; ic += mcMax) {
        const int64_t mc = min64(mcMax, M - ic);
        const float* Ablk = transA ? A + pc * lda + ic : A + ic * lda + pc;
        packA(transA, Ablk, lda, mc, kc, bufA);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(min64(kNR, nc - jr));
          const float* bp = bufB + jr * kc;
          const gemm_detail::UKernel full = gemm_detail::pickKernel(kMR, nr);
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int mr = static_cast<int>(min64(kMR, mc - ir));
            const gemm_detail::UKernel uk = mr == kMR ? full : gemm_detail::pickKernel(mr, nr);
            if (it.n > 0)
              itemTile(uk, kc, bufA + ir * kc, bp, C + (ic + ir) * ldc, ldc, it, col0 + jc + jr, mr, nr, alpha, betaEff);
            else
              uk(kc, bufA + ir * kc, bp, C + (ic + ir) * ldc + jc + jr, ldc, nr, alpha, betaEff);
          }
        }
      }
    }
  }
}

// ---- threading -----------------------------------------------------------------------------

// One matrix, split across up to nt threads along N (or M when M is the larger side: the
// side that is not split gets packed by every thread, so duplicate the smaller one).
void gemmOne(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
             const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
             int64_t ldc, int nt, const ItemCols& it = kPlain) {
  const int64_t work = M * N * (K > 0 ? K : 1);
  const int64_t nPanels = ceilDiv(N, kNR), mPanels = ceilDiv(M, kMR);
  const bool splitN = nPanels >= 2 && (N >= M || mPanels < 2);
  const int64_t units = splitN ? nPanels : mPanels;
  if (nt > units) nt = static_cast<int>(units);
  if (nt <= 1 || work < kParallelMinWork) {
    gemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, it);
    return;
  }
  parallel_run(nt, [&](int tid, int nthreads) {
    const int64_t u0 = units * tid / nthreads, u1 = units * (tid + 1) / nthreads;
    if (u0 >= u1) return;
    if (splitN) {
      const int64_t j0 = u0 * kNR, j1 = min64(N, u1 * kNR);
      if (it.n > 0) {
        gemmSerial(transA, transB, M, j1 - j0, K, alpha, A, lda, B, ldb, beta, C, ldc, it, j0);
        return;
      }
      const float* b = transB ? B + j0 * ldb : B + j0;
      gemmSerial(transA, transB, M, j1 - j0, K, alpha, A, lda, b, ldb, beta, C + j0, ldc);
    } else {
      const int64_t i0 = u0 * kMR, i1 = min64(M, u1 * kMR);
      const float* a = transA ? A + i0 : A + i0 * lda;
      gemmSerial(transA, transB, i1 - i0, N, K, alpha, a, lda, B, ldb, beta, C + i0 * ldc, ldc, it);
    }
  });
}

}  // namespace

GemmConfig gemmConfig() {
  const Blocking& b = blocking();
  return GemmConfig{kMR, kNR, b.kc, b.mc, b.nc, b.overridden};
}

void gemmBlock(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(const args::gemm& a) {
  if (a.AType == DType::F64) return gemmF64(a);  // gemm_f64.cc
  const bool transA = a.transA, transB = a.transB;
  const int64_t M = a.M, N = a.N, K = a.K, lda = a.lda, strideA = a.strideA, ldb = a.ldb, strideB = a.strideB;
  const int64_t ldc = a.ldc, strideC = a.strideC, batch = a.batch;
  const float alpha = a.alpha, beta = a.beta;
  const float* A = static_cast<const float*>(a.A);
  const float* B = static_cast<const float*>(a.B);
  float* C = static_cast<float*>(a.C);
  if (M <= 0 || N <= 0 || batch <= 0) return;
  const int nt = numThreads();
  const int64_t work = M * N * (K > 0 ? K : 1);
  // Whole items per thread when there are enough of them (no duplicated packing, no split
  // overhead) or when each one is too small to split.
  // Items must not share C (strideC == 0 accumulates sequentially with beta).
  const bool disjointC = strideC >= (M - 1) * ldc + N;
  if (batch > 1 && strideA == 0 && !transB && K > 0 && disjointC && N < 4 * kNR) {
    // one A for every item, and items a few micro-panels wide or less (where a panel left part
    // empty and A packed per item cost most): one wide product over all the items' columns
    gemmOne(transA, false, M, N * batch, K, alpha, A, lda, B, ldb, beta, C, ldc, nt, ItemCols{N, strideB, strideC});
    return;
  }
  const bool perItem = batch > 1 && nt > 1 && disjointC &&
                       (work < 2 * kParallelMinWork || batch % nt == 0 || batch >= 4 * nt);
  if (perItem && work * batch >= kParallelMinWork) {
    parallel_run(nt, [&](int tid, int nthreads) {
      const int64_t b0 = batch * tid / nthreads, b1 = batch * (tid + 1) / nthreads;
      for (int64_t b = b0; b < b1; ++b)
        gemmSerial(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb,
                   beta, C + b * strideC, ldc);
    });
    return;
  }
  for (int64_t b = 0; b < batch; ++b)
    gemmOne(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta,
            C + b * strideC, ldc, perItem ? 1 : nt);
}

}  // namespace kiln::cpu::KILN_ISA_NS
