// Single-precision GEMM, row-major, BLIS/GotoBLAS style:
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

#include "gemm_ukernel.h"
#include "kernels_isa.h"

#ifndef KILN_GEMM_KC
#define KILN_GEMM_KC 384
#endif
#ifndef KILN_GEMM_MC
#define KILN_GEMM_MC 48
#endif
#ifndef KILN_GEMM_NC
#define KILN_GEMM_NC 2048
#endif

namespace kiln::cpu::KILN_ISA_NS {
namespace {

using gemm_detail::kMR;
using gemm_detail::kNR;

constexpr int64_t kKC = KILN_GEMM_KC;
constexpr int64_t kMC = (KILN_GEMM_MC + kMR - 1) / kMR * kMR;
constexpr int64_t kNC = (KILN_GEMM_NC + kNR - 1) / kNR * kNR;
// Below this many multiply-adds a gemm runs on one thread (a fork/join costs ~1-2 us).
constexpr int64_t kParallelMinWork = int64_t(1) << 17;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

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
    size_t bytes = (static_cast<size_t>(n) * sizeof(float) + 63) & ~static_cast<size_t>(63);
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

// Packs op(A)[0:mc, 0:kc] into MR-row micro-panels: dst[panel][k][i], zero rows past mc.
// A points at op(A)[0][0]; op(A)[i][k] = transA ? A[k*lda + i] : A[i*lda + k].
void packA(bool transA, const float* A, int64_t lda, int64_t mc, int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t mr = min64(kMR, mc - ir);
    float* d = dst + ir * kc;
    if (transA) {
      const float* s = A + ir;
      if (mr == kMR) {
        for (int64_t k = 0; k < kc; ++k) {
          const float* sk = s + k * lda;
#pragma GCC unroll 16
          for (int i = 0; i < kMR; ++i) d[k * kMR + i] = sk[i];
        }
      } else {
        for (int64_t k = 0; k < kc; ++k) {
          const float* sk = s + k * lda;
          int64_t i = 0;
          for (; i < mr; ++i) d[k * kMR + i] = sk[i];
          for (; i < kMR; ++i) d[k * kMR + i] = 0.f;
        }
      }
    } else {
      const float* s = A + ir * lda;
      int64_t kStart = 0;
#if defined(__AVX512F__)
      // Full panels: 16 k at a time through an in-register transpose (rows past kMR are zero).
      if (mr == kMR) {
        static_assert(kMR <= 16, "transpose packs at most 16 rows");
        const __mmask16 rowMask = static_cast<__mmask16>((1u << kMR) - 1u);
        for (; kStart + 16 <= kc; kStart += 16) {
          __m512 r[16];
#pragma GCC unroll 16
          for (int i = 0; i < 16; ++i)
            r[i] = i < kMR ? _mm512_loadu_ps(s + i * lda + kStart) : _mm512_setzero_ps();
          transpose16(r);
#pragma GCC unroll 16
          for (int k = 0; k < 16; ++k) _mm512_mask_storeu_ps(d + (kStart + k) * kMR, rowMask, r[k]);
        }
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
        for (int64_t k = 0; k < kc; ++k) {
          const float* sk = s + k * ldb;
          int64_t j = 0;
          for (; j < nr; ++j) d[k * kNR + j] = sk[j];
          for (; j < kNR; ++j) d[k * kNR + j] = 0.f;
        }
      }
    } else {
      const float* s = B + jr * ldb;
      int64_t kStart = 0;
#if defined(__AVX512F__)
      // Full panels: 16 columns x 16 k at a time through an in-register transpose.
      if (nr == kNR) {
        for (; kStart + 16 <= kc; kStart += 16) {
#pragma GCC unroll 2
          for (int j0 = 0; j0 < kNR; j0 += 16) {
            __m512 r[16];
#pragma GCC unroll 16
            for (int j = 0; j < 16; ++j) r[j] = _mm512_loadu_ps(s + (j0 + j) * ldb + kStart);
            transpose16(r);
#pragma GCC unroll 16
            for (int k = 0; k < 16; ++k) _mm512_store_ps(d + (kStart + k) * kNR + j0, r[k]);
          }
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
void gemmSerial(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scaleC(M, N, beta, C, ldc);
    return;
  }
  // Equal-sized chunks, rounded to the tile sizes, so no block is a thin remainder.
  const int64_t nk = ceilDiv(K, kKC);
  const int64_t kcMax = ceilDiv(K, nk);
  const int64_t nm = ceilDiv(M, kMC);
  const int64_t mcMax = ceilDiv(ceilDiv(M, nm), kMR) * kMR;
  const int64_t nn = ceilDiv(N, kNC);
  const int64_t ncMax = ceilDiv(ceilDiv(N, nn), kNR) * kNR;

  float* bufA = growBuffer(tPack.a, tPack.aCap, mcMax * kcMax);
  float* bufB = growBuffer(tPack.b, tPack.bCap, ncMax * kcMax);
  if (bufA == nullptr || bufB == nullptr) {
    gemmNaive(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }

  for (int64_t jc = 0; jc < N; jc += ncMax) {
    const int64_t nc = min64(ncMax, N - jc);
    for (int64_t pc = 0; pc < K; pc += kcMax) {
      const int64_t kc = min64(kcMax, K - pc);
      const float* Bblk = transB ? B + jc * ldb + pc : B + pc * ldb + jc;
      packB(transB, Bblk, ldb, kc, nc, bufB);
      const float betaEff = pc == 0 ? beta : 1.f;
      for (int64_t ic = 0; ic < M; ic += mcMax) {
        const int64_t mc = min64(mcMax, M - ic);
        const float* Ablk = transA ? A + pc * lda + ic : A + ic * lda + pc;
        packA(transA, Ablk, lda, mc, kc, bufA);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(min64(kNR, nc - jr));
          const float* bp = bufB + jr * kc;
          float* cc = C + ic * ldc + jc + jr;
          const gemm_detail::UKernel full = gemm_detail::pickKernel(kMR, nr);
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int mr = static_cast<int>(min64(kMR, mc - ir));
            const gemm_detail::UKernel uk = mr == kMR ? full : gemm_detail::pickKernel(mr, nr);
            uk(kc, bufA + ir * kc, bp, cc + ir * ldc, ldc, nr, alpha, betaEff);
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
             int64_t ldc, int nt) {
  const int64_t work = M * N * (K > 0 ? K : 1);
  const int64_t nPanels = ceilDiv(N, kNR), mPanels = ceilDiv(M, kMR);
  const bool splitN = nPanels >= 2 && (N >= M || mPanels < 2);
  const int64_t units = splitN ? nPanels : mPanels;
  if (nt > units) nt = static_cast<int>(units);
  if (nt <= 1 || work < kParallelMinWork) {
    gemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  parallel_run(nt, [&](int tid, int nthreads) {
    const int64_t u0 = units * tid / nthreads, u1 = units * (tid + 1) / nthreads;
    if (u0 >= u1) return;
    if (splitN) {
      const int64_t j0 = u0 * kNR, j1 = min64(N, u1 * kNR);
      const float* b = transB ? B + j0 * ldb : B + j0;
      gemmSerial(transA, transB, M, j1 - j0, K, alpha, A, lda, b, ldb, beta, C + j0, ldc);
    } else {
      const int64_t i0 = u0 * kMR, i1 = min64(M, u1 * kMR);
      const float* a = transA ? A + i0 : A + i0 * lda;
      gemmSerial(transA, transB, i1 - i0, N, K, alpha, a, lda, B, ldb, beta, C + i0 * ldc, ldc);
    }
  });
}

}  // namespace

void gemmBlock(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void gemm(const args::gemm& a) {
  const auto& [transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch] = a;
  if (M <= 0 || N <= 0 || batch <= 0) return;
  const int nt = numThreads();
  const int64_t work = M * N * (K > 0 ? K : 1);
  // Whole items per thread when there are enough of them (no duplicated packing, no split
  // overhead) or when each one is too small to split.
  // Items must not share C (strideC == 0 accumulates sequentially with beta).
  const bool disjointC = strideC >= (M - 1) * ldc + N;
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
