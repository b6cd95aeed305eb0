// GEMM micro-kernels, one set per instruction set (this header is included by gemm.cc, which is
// compiled once per ISA). A micro-kernel computes one MR x NR tile of C from a packed A
// micro-panel (kc x MR, k-major: a[k * kMR + i]) and a packed B micro-panel (kc x NR, k-major:
// b[k * kNR + j]), then writes C = alpha * acc + beta * C (beta == 0: C's old contents are
// ignored, so NaN there does not leak). Edge tiles use instantiations with fewer rows (M < kMR)
// and fewer vectors (NV), plus a column mask / count for the last vector.
//
//   AVX-512: kMR x kNR = 12 x 32 (24 zmm accumulators, 2 zmm of B, 1 broadcast)
//   AVX2:    6 x 16 (12 ymm accumulators)
//   portable: 4 x 8 plain C the compiler vectorizes (SSE2)
//
// No STL here: see kernels.h.
#pragma once
#include <cstdint>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

namespace kiln::cpu::KILN_ISA_NS {
namespace gemm_detail {

#if defined(__AVX512F__)
constexpr int kMR = 12;
constexpr int kNR = 32;
constexpr int kVec = 16;
#elif defined(__AVX2__)
constexpr int kMR = 6;
constexpr int kNR = 16;
constexpr int kVec = 8;
#else
constexpr int kMR = 4;
constexpr int kNR = 8;
constexpr int kVec = 8;
#endif
constexpr int kNV = kNR / kVec;  // vectors per row of a full tile

// Signature shared by every micro-kernel instantiation. nr: valid columns (<= NV * kVec).
using UKernel = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int nr,
                         float alpha, float beta);

#if defined(__AVX512F__)

template <int M, int NV>
__attribute__((noinline)) void ukernel(int64_t kc, const float* __restrict a,
                                       const float* __restrict b, float* __restrict c, int64_t ldc,
                                       int nr, float alpha, float beta) {
  __m512 acc[M][NV];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  // The C tile is read/written after the k loop: start fetching it now.
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NV * kVec - 1), _MM_HINT_T0);
  }

#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_ps(b + v * kVec);
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += kMR;
    b += kNR;
  }

  const __m512 va = _mm512_set1_ps(alpha);
  const int lastCols = nr - (NV - 1) * kVec;  // 1..16
  const bool full = lastCols == kVec;
  const __mmask16 lastMask = static_cast<__mmask16>((1u << lastCols) - 1u);
  if (beta == 0.f) {
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      float* row = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV - 1; ++v) _mm512_storeu_ps(row + v * kVec, _mm512_mul_ps(va, acc[i][v]));
      __m512 r = _mm512_mul_ps(va, acc[i][NV - 1]);
      if (full) _mm512_storeu_ps(row + (NV - 1) * kVec, r);
      else _mm512_mask_storeu_ps(row + (NV - 1) * kVec, lastMask, r);
    }
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      float* row = c + i * ldc;
#pragma GCC unroll 4
      for (int v = 0; v < NV - 1; ++v) {
        __m512 old = _mm512_loadu_ps(row + v * kVec);
        _mm512_storeu_ps(row + v * kVec, _mm512_fmadd_ps(vb, old, _mm512_mul_ps(va, acc[i][v])));
      }
      float* p = row + (NV - 1) * kVec;
      if (full) {
        __m512 old = _mm512_loadu_ps(p);
        _mm512_storeu_ps(p, _mm512_fmadd_ps(vb, old, _mm512_mul_ps(va, acc[i][NV - 1])));
      } else {
        __m512 old = _mm512_maskz_loadu_ps(lastMask, p);
        _mm512_mask_storeu_ps(p, lastMask, _mm512_fmadd_ps(vb, old, _mm512_mul_ps(va, acc[i][NV - 1])));
      }
    }
  }
}

#elif defined(__AVX2__)

template <int M, int NV>
__attribute__((noinline)) void ukernel(int64_t kc, const float* __restrict a,
                                       const float* __restrict b, float* __restrict c, int64_t ldc,
                                       int nr, float alpha, float beta) {
  __m256 acc[M][NV];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_setzero_ps();

#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    __m256 bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm256_load_ps(b + v * kVec);
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
    a += kMR;
    b += kNR;
  }

  const __m256 va = _mm256_set1_ps(alpha);
  if (nr == NV * kVec) {
    if (beta == 0.f) {
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v)
          _mm256_storeu_ps(c + i * ldc + v * kVec, _mm256_mul_ps(va, acc[i][v]));
    } else {
      const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 16
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          float* p = c + i * ldc + v * kVec;
          _mm256_storeu_ps(p, _mm256_fmadd_ps(vb, _mm256_loadu_ps(p), _mm256_mul_ps(va, acc[i][v])));
        }
    }
    return;
  }
  // Partial columns: spill the tile and write the valid part with scalar code (AMD's
  // vmaskmovps stores are slow, and edges are rare).
  alignas(32) float tile[M][NV * kVec];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm256_store_ps(&tile[i][v * kVec], _mm256_mul_ps(va, acc[i][v]));
  for (int i = 0; i < M; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.f)
      for (int j = 0; j < nr; ++j) row[j] = tile[i][j];
    else
      for (int j = 0; j < nr; ++j) row[j] = tile[i][j] + beta * row[j];
  }
}

#else  // portable

template <int M, int NV>
__attribute__((noinline)) void ukernel(int64_t kc, const float* __restrict a,
                                       const float* __restrict b, float* __restrict c, int64_t ldc,
                                       int nr, float alpha, float beta) {
  static_assert(NV == 1, "portable kernel has one 8-wide vector per row");
  float acc[M][kNR];
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < kNR; ++j) acc[i][j] = 0.f;
  for (int64_t k = 0; k < kc; ++k) {
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      const float ai = a[i];
      for (int j = 0; j < kNR; ++j) acc[i][j] += ai * b[j];
    }
    a += kMR;
    b += kNR;
  }
  for (int i = 0; i < M; ++i) {
    float* row = c + i * ldc;
    if (beta == 0.f)
      for (int j = 0; j < nr; ++j) row[j] = alpha * acc[i][j];
    else
      for (int j = 0; j < nr; ++j) row[j] = alpha * acc[i][j] + beta * row[j];
  }
}

#endif

// Picks the instantiation for an mr x nr tile (1 <= mr <= kMR, 1 <= nr <= kNR).
template <int M>
struct RowKernels {
  static UKernel pick(int nv) {
#if defined(__AVX512F__) || defined(__AVX2__)
    return nv == 1 ? &ukernel<M, 1> : &ukernel<M, 2>;
#else
    (void)nv;
    return &ukernel<M, 1>;
#endif
  }
};

inline UKernel pickKernel(int mr, int nr) {
  const int nv = (nr + kVec - 1) / kVec;
  switch (mr) {
    case 1: return RowKernels<1>::pick(nv);
    case 2: return RowKernels<2>::pick(nv);
    case 3: return RowKernels<3>::pick(nv);
#if defined(__AVX512F__) || defined(__AVX2__)
    case 5: return RowKernels<5>::pick(nv);
    case 6: return RowKernels<6>::pick(nv);
#endif
#if defined(__AVX512F__)
    case 7: return RowKernels<7>::pick(nv);
    case 8: return RowKernels<8>::pick(nv);
    case 9: return RowKernels<9>::pick(nv);
    case 10: return RowKernels<10>::pick(nv);
    case 11: return RowKernels<11>::pick(nv);
    case 12: return RowKernels<12>::pick(nv);
#endif
    default: return RowKernels<4>::pick(nv);
  }
}

}  // namespace gemm_detail
}  // namespace kiln::cpu::KILN_ISA_NS
