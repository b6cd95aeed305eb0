// Double-precision GEMM, row-major, the same BLIS/GotoBLAS loop nest as the float32 one
// (gemm.cc), kept separate so the float32 paths stay exactly as tuned:
//
//   for jc in N step NC: for pc in K step KC: pack B; for ic in M step MC: pack A;
//     for jr in nc step NR: for ir in mc step MR: micro-kernel (MR x NR tile of C)
//
// Micro-kernels: AVX-512 12 x 16 (24 zmm accumulators), AVX2 6 x 8 (12 ymm), portable 4 x 4.
// Packed panels are zero-padded, so a kernel always computes a full tile; edge tiles are written
// back through a small buffer. Threads split N (or M) of one product, or take whole batch items.
// Compiled once per ISA (see kernels.h): no STL, no exceptions.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kMR = 12, kNR = 16;
#elif defined(__AVX2__)
constexpr int kMR = 6, kNR = 8;
#else
constexpr int kMR = 4, kNR = 4;
#endif
constexpr int64_t kKC = 256;
constexpr int64_t kMC = 96;    // a multiple of every kMR
constexpr int64_t kNC = 2048;  // a multiple of every kNR
constexpr int64_t kParallelMinWork = int64_t(1) << 16;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct PackBuffersF64 {
  double* a = nullptr;
  int64_t aCap = 0;
  double* b = nullptr;
  int64_t bCap = 0;
  ~PackBuffersF64() {
    std::free(a);
    std::free(b);
  }
};
thread_local PackBuffersF64 tPackF64;

inline double* growBuffer(double*& p, int64_t& cap, int64_t n) {
  if (cap < n) {
    std::free(p);
    size_t bytes = (static_cast<size_t>(n) * sizeof(double) + 63) & ~static_cast<size_t>(63);
    p = static_cast<double*>(std::aligned_alloc(64, bytes));
    cap = p ? n : 0;
  }
  return p;
}

// op(A)[0:mc, 0:kc] into kMR-row panels dst[panel][k][i] (rows past mc are zero).
void packA(bool transA, const double* A, int64_t lda, int64_t mc, int64_t kc, double* dst) {
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t mr = min64(kMR, mc - ir);
    double* d = dst + ir * kc;
    if (transA) {
      for (int64_t k = 0; k < kc; ++k) {
        const double* sk = A + k * lda + ir;
        int64_t i = 0;
        for (; i < mr; ++i) d[k * kMR + i] = sk[i];
        for (; i < kMR; ++i) d[k * kMR + i] = 0.0;
      }
    } else {
      for (int64_t i = 0; i < mr; ++i) {
        const double* si = A + (ir + i) * lda;
        for (int64_t k = 0; k < kc; ++k) d[k * kMR + i] = si[k];
      }
      for (int64_t i = mr; i < kMR; ++i)
        for (int64_t k = 0; k < kc; ++k) d[k * kMR + i] = 0.0;
    }
  }
}

// op(B)[0:kc, 0:nc] into kNR-column panels dst[panel][k][j] (columns past nc are zero).
void packB(bool transB, const double* B, int64_t ldb, int64_t kc, int64_t nc, double* dst) {
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const int64_t nr = min64(kNR, nc - jr);
    double* d = dst + jr * kc;
    if (!transB) {
      for (int64_t k = 0; k < kc; ++k) {
        const double* sk = B + k * ldb + jr;
        int64_t j = 0;
        for (; j < nr; ++j) d[k * kNR + j] = sk[j];
        for (; j < kNR; ++j) d[k * kNR + j] = 0.0;
      }
    } else {
      for (int64_t j = 0; j < nr; ++j) {
        const double* sj = B + (jr + j) * ldb;
        for (int64_t k = 0; k < kc; ++k) d[k * kNR + j] = sj[k];
      }
      for (int64_t j = nr; j < kNR; ++j)
        for (int64_t k = 0; k < kc; ++k) d[k * kNR + j] = 0.0;
    }
  }
}

// acc[kMR][kNR] = sum_k a[k][i] * b[k][j] over packed panels, then C = alpha * acc + beta * C on
// the mr x nr valid part (beta == 0 ignores C's contents).
void ukernel(int64_t kc, const double* __restrict a, const double* __restrict b, double* __restrict c,
             int64_t ldc, int mr, int nr, double alpha, double beta) {
  alignas(64) double tile[kMR * kNR];
#if defined(__AVX512F__)
  __m512d acc[kMR][2];
#pragma GCC unroll 12
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_pd();
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    __m512d b0 = _mm512_load_pd(b), b1 = _mm512_load_pd(b + 8);
#pragma GCC unroll 12
    for (int i = 0; i < kMR; ++i) {
      __m512d ai = _mm512_set1_pd(a[i]);
      acc[i][0] = _mm512_fmadd_pd(ai, b0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_pd(ai, b1, acc[i][1]);
    }
    a += kMR;
    b += kNR;
  }
  if (mr == kMR && nr == kNR) {
    const __m512d va = _mm512_set1_pd(alpha), vb = _mm512_set1_pd(beta);
#pragma GCC unroll 12
    for (int i = 0; i < kMR; ++i) {
      double* ci = c + i * ldc;
      __m512d r0 = _mm512_mul_pd(va, acc[i][0]), r1 = _mm512_mul_pd(va, acc[i][1]);
      if (beta != 0.0) {
        r0 = _mm512_fmadd_pd(vb, _mm512_loadu_pd(ci), r0);
        r1 = _mm512_fmadd_pd(vb, _mm512_loadu_pd(ci + 8), r1);
      }
      _mm512_storeu_pd(ci, r0);
      _mm512_storeu_pd(ci + 8, r1);
    }
    return;
  }
  for (int i = 0; i < kMR; ++i) {
    _mm512_store_pd(tile + i * kNR, acc[i][0]);
    _mm512_store_pd(tile + i * kNR + 8, acc[i][1]);
  }
#elif defined(__AVX2__)
  __m256d acc[kMR][2];
#pragma GCC unroll 6
  for (int i = 0; i < kMR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_pd();
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4);
#pragma GCC unroll 6
    for (int i = 0; i < kMR; ++i) {
      __m256d ai = _mm256_broadcast_sd(a + i);
      acc[i][0] = _mm256_fmadd_pd(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_pd(ai, b1, acc[i][1]);
    }
    a += kMR;
    b += kNR;
  }
  for (int i = 0; i < kMR; ++i) {
    _mm256_store_pd(tile + i * kNR, acc[i][0]);
    _mm256_store_pd(tile + i * kNR + 4, acc[i][1]);
  }
#else
  for (int i = 0; i < kMR * kNR; ++i) tile[i] = 0.0;
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) tile[i * kNR + j] += a[i] * b[j];
    a += kMR;
    b += kNR;
  }
#endif
  for (int i = 0; i < mr; ++i) {
    double* ci = c + i * ldc;
    const double* ti = tile + i * kNR;
    if (beta == 0.0) {
      for (int j = 0; j < nr; ++j) ci[j] = alpha * ti[j];
    } else {
      for (int j = 0; j < nr; ++j) ci[j] = alpha * ti[j] + beta * ci[j];
    }
  }
}

void gemmNaive(bool transA, bool transB, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
               int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += (transA ? A[k * lda + i] : A[i * lda + k]) * (transB ? B[j * ldb + k] : B[k * ldb + j]);
      C[i * ldc + j] = alpha * s + (beta == 0.0 ? 0.0 : beta * C[i * ldc + j]);
    }
}

void gemmSerial(bool transA, bool transB, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.0 ? 0.0 : beta * C[i * ldc + j];
    return;
  }
  const int64_t nk = ceilDiv(K, kKC);
  const int64_t kcMax = ceilDiv(K, nk);
  const int64_t nm = ceilDiv(M, kMC);
  const int64_t mcMax = ceilDiv(ceilDiv(M, nm), kMR) * kMR;
  const int64_t nn = ceilDiv(N, kNC);
  const int64_t ncMax = ceilDiv(ceilDiv(N, nn), kNR) * kNR;
  double* bufA = growBuffer(tPackF64.a, tPackF64.aCap, mcMax * kcMax);
  double* bufB = growBuffer(tPackF64.b, tPackF64.bCap, ncMax * kcMax);
  if (bufA == nullptr || bufB == nullptr) {
    gemmNaive(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  for (int64_t jc = 0; jc < N; jc += ncMax) {
    const int64_t nc = min64(ncMax, N - jc);
    for (int64_t pc = 0; pc < K; pc += kcMax) {
      const int64_t kc = min64(kcMax, K - pc);
      packB(transB, transB ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, nc, bufB);
      const double betaEff = pc == 0 ? beta : 1.0;
      for (int64_t ic = 0; ic < M; ic += mcMax) {
        const int64_t mc = min64(mcMax, M - ic);
        packA(transA, transA ? A + pc * lda + ic : A + ic * lda + pc, lda, mc, kc, bufA);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(min64(kNR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int mr = static_cast<int>(min64(kMR, mc - ir));
            ukernel(kc, bufA + ir * kc, bufB + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr, alpha, betaEff);
          }
        }
      }
    }
  }
}

// One product across up to nt threads, split along N (or M when it is the larger side).
void gemmOne(bool transA, bool transB, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
             int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc, int nt) {
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
      gemmSerial(transA, transB, M, j1 - j0, K, alpha, A, lda, transB ? B + j0 * ldb : B + j0, ldb, beta, C + j0, ldc);
    } else {
      const int64_t i0 = u0 * kMR, i1 = min64(M, u1 * kMR);
      gemmSerial(transA, transB, i1 - i0, N, K, alpha, transA ? A + i0 : A + i0 * lda, lda, B, ldb, beta,
                 C + i0 * ldc, ldc);
    }
  });
}

}  // namespace

void gemmF64(const args::gemm& a) {
  const int64_t M = a.M, N = a.N, K = a.K, batch = a.batch;
  if (M <= 0 || N <= 0 || batch <= 0) return;
  const double alpha = a.alpha, beta = a.beta;
  const double* A = static_cast<const double*>(a.A);
  const double* B = static_cast<const double*>(a.B);
  double* C = static_cast<double*>(a.C);
  const int nt = numThreads();
  const int64_t work = M * N * (K > 0 ? K : 1);
  const bool disjointC = a.strideC >= (M - 1) * a.ldc + N;
  const bool perItem = batch > 1 && nt > 1 && disjointC &&
                       (work < 2 * kParallelMinWork || batch % nt == 0 || batch >= 4 * nt);
  if (perItem && work * batch >= kParallelMinWork) {
    parallel_run(nt, [&](int tid, int nthreads) {
      const int64_t b0 = batch * tid / nthreads, b1 = batch * (tid + 1) / nthreads;
      for (int64_t b = b0; b < b1; ++b)
        gemmSerial(a.transA, a.transB, M, N, K, alpha, A + b * a.strideA, a.lda, B + b * a.strideB, a.ldb, beta,
                   C + b * a.strideC, a.ldc);
    });
    return;
  }
  for (int64_t b = 0; b < batch; ++b)
    gemmOne(a.transA, a.transB, M, N, K, alpha, A + b * a.strideA, a.lda, B + b * a.strideB, a.ldb, beta,
            C + b * a.strideC, a.ldc, perItem ? 1 : nt);
}

}  // namespace kiln::cpu::KILN_ISA_NS
