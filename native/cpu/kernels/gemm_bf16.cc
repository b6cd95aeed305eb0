// bfloat16 GEMM with float32 accumulation (autocast's matmul/linear/conv):
//
//   C = alpha * bf16(op(A)) @ bf16(op(B)) + beta * C
//
// where bf16(x) rounds float32 to bfloat16 (nearest, ties to even; NaN stays NaN) and every
// product of two bf16 values (exact in float32) is summed in float32. A and B are float32
// buffers (the rounding happens while packing, so autocast needs no bfloat16 copies) or
// bfloat16 storage (bfloat16 tensors), read directly by the packing; C is float32.
//
// Two paths, one blocking (gemm.cc's, BLIS style, KC x NC panels of B, MC x KC blocks of A):
//   native    (avx512 table, CPU with AVX512_BF16, KILN_BF16 unset or not 'emulate'): panels of
//             bf16 pairs (k, k+1) in 32-bit words; the micro-kernel is vdpbf16ps, 2 products
//             per lane and instruction (twice the multiply-adds of vfmadd231ps).
//   emulated  (every other case): float32 panels holding the rounded values, run by gemm.cc's
//             float32 micro-kernels (gemm_ukernel.h). Same products; only the summation order
//             within a pair differs (vdpbf16ps adds the odd product first) and vdpbf16ps
//             flushes denormals, so results agree to float32 rounding.
// Self-contained (its own packing and driver) so gemm.cc stays as it is.
#include <cpuid.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "gemm_ukernel.h"
#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

using gemm_detail::kMR;
using gemm_detail::kNR;

constexpr int64_t kKC = 512;  // even: chunks of K start on a pair boundary
constexpr int64_t kMC = (48 + kMR - 1) / kMR * kMR;
constexpr int64_t kNC = (2048 + kNR - 1) / kNR * kNR;
constexpr int64_t kParallelMinWork = int64_t(1) << 17;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// float32 bits rounded to bfloat16, kept in the high half (low 16 bits zero).
inline uint32_t roundBits(uint32_t u) {
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u | 0x00400000u) & 0xffff0000u;  // NaN: quiet, kept
  return (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
}
inline float roundBf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  u = roundBits(u);
  std::memcpy(&x, &u, 4);
  return x;
}

// Element loads: float32, or bfloat16 bits widened (exactly) to float32.
inline float ld(const float* p) { return *p; }
inline float ld(const uint16_t* p) {
  uint32_t u = static_cast<uint32_t>(*p) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

#if defined(__AVX512F__)
inline __m512 ld16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 ld16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

inline __m512i roundBits512(__m512 x) {
  const __m512i u = _mm512_castps_si512(x);
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  const __m512i r = _mm512_and_si512(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))),
                                     _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  const __m512i q = _mm512_and_si512(_mm512_or_si512(u, _mm512_set1_epi32(0x00400000)),
                                     _mm512_set1_epi32(static_cast<int>(0xffff0000u)));
  return _mm512_mask_mov_epi32(r, nan, q);
}
#endif

// Rounds n floats to bf16 in place.
void roundInPlace(float* p, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(p + i, _mm512_castsi512_ps(roundBits512(_mm512_loadu_ps(p + i))));
#endif
  for (; i < n; ++i) p[i] = roundBf16(p[i]);
}

#if defined(__AVX512F__)
// In-register 16x16 transpose r[i][k] -> r[k][i] (as gemm.cc's, which packs the same layout).
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
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

// ---- float32 packing (the layout of gemm.cc): A in MR-row panels dst[k][i], B in NR-column
// panels dst[k][j], zeros past the edge ----

template <class T>
void packA(bool transA, const T* A, int64_t lda, int64_t mc, int64_t kc, float* dst) {
  for (int64_t ir = 0; ir < mc; ir += kMR) {
    const int64_t mr = min64(kMR, mc - ir);
    float* d = dst + ir * kc;
    if (transA) {
      const T* s = A + ir;
      for (int64_t k = 0; k < kc; ++k) {
        const T* sk = s + k * lda;
        int64_t i = 0;
        for (; i < mr; ++i) d[k * kMR + i] = ld(sk + i);
        for (; i < kMR; ++i) d[k * kMR + i] = 0.f;
      }
    } else {
      const T* s = A + ir * lda;
      int64_t kStart = 0;
#if defined(__AVX512F__)
      // full panels: 16 k at a time through an in-register transpose (rows past kMR are zero)
      if (mr == kMR) {
        const __mmask16 rowMask = static_cast<__mmask16>((1u << kMR) - 1u);
        for (; kStart + 16 <= kc; kStart += 16) {
          __m512 r[16];
#pragma GCC unroll 16
          for (int i = 0; i < 16; ++i) r[i] = i < kMR ? ld16(s + i * lda + kStart) : _mm512_setzero_ps();
          transpose16(r);
#pragma GCC unroll 16
          for (int k = 0; k < 16; ++k) _mm512_mask_storeu_ps(d + (kStart + k) * kMR, rowMask, r[k]);
        }
      }
#endif
      for (int64_t k0 = kStart; k0 < kc; k0 += 16) {
        const int64_t kb = min64(16, kc - k0);
        for (int64_t i = 0; i < mr; ++i) {
          const T* si = s + i * lda + k0;
          float* di = d + k0 * kMR + i;
          for (int64_t k = 0; k < kb; ++k) di[k * kMR] = ld(si + k);
        }
        for (int64_t i = mr; i < kMR; ++i)
          for (int64_t k = 0; k < kb; ++k) d[(k0 + k) * kMR + i] = 0.f;
      }
    }
  }
}

template <class T>
void packB(bool transB, const T* B, int64_t ldb, int64_t kc, int64_t nc, float* dst) {
  for (int64_t jr = 0; jr < nc; jr += kNR) {
    const int64_t nr = min64(kNR, nc - jr);
    float* d = dst + jr * kc;
    if (!transB) {
      const T* s = B + jr;
      for (int64_t k = 0; k < kc; ++k) {
        const T* sk = s + k * ldb;
        int64_t j = 0;
        for (; j < nr; ++j) d[k * kNR + j] = ld(sk + j);
        for (; j < kNR; ++j) d[k * kNR + j] = 0.f;
      }
    } else {
      const T* s = B + jr * ldb;
      int64_t kStart = 0;
#if defined(__AVX512F__)
      // full panels: 16 columns x 16 k at a time through an in-register transpose
      if (nr == kNR) {
        for (; kStart + 16 <= kc; kStart += 16) {
#pragma GCC unroll 2
          for (int j0 = 0; j0 < kNR; j0 += 16) {
            __m512 r[16];
#pragma GCC unroll 16
            for (int j = 0; j < 16; ++j) r[j] = ld16(s + (j0 + j) * ldb + kStart);
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
          const T* sj = s + j * ldb + k0;
          float* dj = d + k0 * kNR + j;
          for (int64_t k = 0; k < kb; ++k) dj[k * kNR] = ld(sj + k);
        }
        for (int64_t j = nr; j < kNR; ++j)
          for (int64_t k = 0; k < kb; ++k) d[(k0 + k) * kNR + j] = 0.f;
      }
    }
  }
}

struct Buffers {
  float* a = nullptr;
  int64_t aCap = 0;
  float* b = nullptr;
  int64_t bCap = 0;
  uint32_t* pa = nullptr;  // native path: pair panels
  int64_t paCap = 0;
  uint32_t* pb = nullptr;
  int64_t pbCap = 0;
  ~Buffers() {
    std::free(a);
    std::free(b);
    std::free(pa);
    std::free(pb);
  }
};
thread_local Buffers tBuf;

template <class T>
T* grow(T*& p, int64_t& cap, int64_t n) {
  if (cap < n) {
    std::free(p);
    size_t bytes = (static_cast<size_t>(n) * sizeof(T) + 63) & ~static_cast<size_t>(63);
    p = static_cast<T*>(std::aligned_alloc(64, bytes));
    cap = p ? n : 0;
  }
  return p;
}

// ---- native path: vdpbf16ps ----

#if defined(__AVX512F__)
bool detectNative() {
  const char* env = std::getenv("KILN_BF16");
  if (env != nullptr && std::strcmp(env, "emulate") == 0) return false;
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a >> 5) & 1u;  // CPUID.(EAX=7,ECX=1):EAX[5] = AVX512_BF16
}
bool useNative() {
  static const bool yes = detectNative();
  return yes;
}

// Float32 panel rows (k, k+1) -> words (bf16(row k) | bf16(row k+1) << 16), `width` columns,
// for kp = ceil(kc / 2) pairs (an odd last k pairs with zero).
void toPairs(const float* src, int64_t kc, int width, uint32_t* dst) {
  const int64_t kp = (kc + 1) / 2;
  const __m512i hiMask = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  for (int64_t p = 0; p < kp; ++p) {
    const float* r0 = src + 2 * p * width;
    const bool haveOdd = 2 * p + 1 < kc;
    for (int j = 0; j < width; j += 16) {
      const int n = width - j < 16 ? width - j : 16;
      const __mmask16 m = static_cast<__mmask16>((1u << n) - 1u);
      const __m512i lo = _mm512_srli_epi32(roundBits512(_mm512_maskz_loadu_ps(m, r0 + j)), 16);
      const __m512i hi = haveOdd ? _mm512_and_si512(roundBits512(_mm512_maskz_loadu_ps(m, r0 + width + j)), hiMask)
                                 : _mm512_setzero_si512();
      _mm512_mask_storeu_epi32(dst + p * width + j, m, _mm512_or_si512(lo, hi));
    }
  }
}

template <int M, int NV>
__attribute__((noinline, target("avx512bf16"))) void dpKernel(int64_t kp, const uint32_t* __restrict a,
                                                              const uint32_t* __restrict b, float* __restrict c,
                                                              int64_t ldc, int nr, float alpha, float beta) {
  __m512 acc[M][NV];
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kp; ++p) {
    __m512i bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_load_si512(b + v * 16);
#pragma GCC unroll 16
    for (int i = 0; i < M; ++i) {
      const __m512i ai = _mm512_set1_epi32(static_cast<int>(a[i]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], (__m512bh)ai, (__m512bh)bv[v]);
    }
    a += kMR;
    b += kNR;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  const int lastCols = nr - (NV - 1) * 16;
  const __mmask16 lastMask = static_cast<__mmask16>(lastCols >= 16 ? 0xffffu : (1u << lastCols) - 1u);
#pragma GCC unroll 16
  for (int i = 0; i < M; ++i) {
    float* row = c + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const __mmask16 m = v == NV - 1 ? lastMask : static_cast<__mmask16>(0xffffu);
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, row + v * 16), r);
      _mm512_mask_storeu_ps(row + v * 16, m, r);
    }
  }
}

using DpKernel = void (*)(int64_t, const uint32_t*, const uint32_t*, float*, int64_t, int, float, float);

template <int M>
DpKernel dpPick(int nv) { return nv == 1 ? &dpKernel<M, 1> : &dpKernel<M, 2>; }

DpKernel pickDp(int mr, int nr) {
  static_assert(kMR == 12 && kNR == 32, "the native kernels are written for 12 x 32 tiles");
  const int nv = (nr + 15) / 16;
  switch (mr) {
    case 1: return dpPick<1>(nv);
    case 2: return dpPick<2>(nv);
    case 3: return dpPick<3>(nv);
    case 4: return dpPick<4>(nv);
    case 5: return dpPick<5>(nv);
    case 6: return dpPick<6>(nv);
    case 7: return dpPick<7>(nv);
    case 8: return dpPick<8>(nv);
    case 9: return dpPick<9>(nv);
    case 10: return dpPick<10>(nv);
    case 11: return dpPick<11>(nv);
    default: return dpPick<12>(nv);
  }
}
#else
bool useNative() { return false; }
#endif

// Reference loop, used only if a packing buffer cannot be allocated.
template <class TA, class TB>
void gemmNaive(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const TA* A, int64_t lda,
               const TB* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float s = 0;
      for (int64_t k = 0; k < K; ++k)
        s += roundBf16(ld(transA ? A + k * lda + i : A + i * lda + k)) * roundBf16(ld(transB ? B + j * ldb + k : B + k * ldb + j));
      C[i * ldc + j] = alpha * s + (beta == 0.f ? 0.f : beta * C[i * ldc + j]);
    }
}

template <class TA, class TB>
void gemmSerial(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const TA* A, int64_t lda,
                const TB* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = beta == 0.f ? 0.f : beta * C[i * ldc + j];
    return;
  }
  const bool native = useNative();
  const int64_t nk = ceilDiv(K, kKC);
  const int64_t kcMax = (ceilDiv(K, nk) + 1) / 2 * 2;
  const int64_t nm = ceilDiv(M, kMC);
  const int64_t mcMax = ceilDiv(ceilDiv(M, nm), kMR) * kMR;
  const int64_t nn = ceilDiv(N, kNC);
  const int64_t ncMax = ceilDiv(ceilDiv(N, nn), kNR) * kNR;
  float* bufA = grow(tBuf.a, tBuf.aCap, mcMax * kcMax);
  float* bufB = grow(tBuf.b, tBuf.bCap, ncMax * kcMax);
  uint32_t* pairA = native ? grow(tBuf.pa, tBuf.paCap, mcMax * kcMax / 2 + kMR) : nullptr;
  uint32_t* pairB = native ? grow(tBuf.pb, tBuf.pbCap, ncMax * kcMax / 2 + kNR) : nullptr;
  if (bufA == nullptr || bufB == nullptr || (native && (pairA == nullptr || pairB == nullptr))) {
    gemmNaive(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  for (int64_t jc = 0; jc < N; jc += ncMax) {
    const int64_t nc = min64(ncMax, N - jc);
    for (int64_t pc = 0; pc < K; pc += kcMax) {
      const int64_t kc = min64(kcMax, K - pc);
      const int64_t kp = (kc + 1) / 2;
      packB(transB, transB ? B + jc * ldb + pc : B + pc * ldb + jc, ldb, kc, nc, bufB);
#if defined(__AVX512F__)
      if (native)
        for (int64_t jr = 0; jr < nc; jr += kNR) toPairs(bufB + jr * kc, kc, kNR, pairB + jr * kp);
      else
#endif
        roundInPlace(bufB, ceilDiv(nc, kNR) * kNR * kc);
      const float betaEff = pc == 0 ? beta : 1.f;
      for (int64_t ic = 0; ic < M; ic += mcMax) {
        const int64_t mc = min64(mcMax, M - ic);
        packA(transA, transA ? A + pc * lda + ic : A + ic * lda + pc, lda, mc, kc, bufA);
#if defined(__AVX512F__)
        if (native)
          for (int64_t ir = 0; ir < mc; ir += kMR) toPairs(bufA + ir * kc, kc, kMR, pairA + ir * kp);
        else
#endif
          roundInPlace(bufA, ceilDiv(mc, kMR) * kMR * kc);
        for (int64_t jr = 0; jr < nc; jr += kNR) {
          const int nr = static_cast<int>(min64(kNR, nc - jr));
          float* cc = C + ic * ldc + jc + jr;
          for (int64_t ir = 0; ir < mc; ir += kMR) {
            const int mr = static_cast<int>(min64(kMR, mc - ir));
#if defined(__AVX512F__)
            if (native) {
              pickDp(mr, nr)(kp, pairA + ir * kp, pairB + jr * kp, cc + ir * ldc, ldc, nr, alpha, betaEff);
              continue;
            }
#endif
            gemm_detail::pickKernel(mr, nr)(kc, bufA + ir * kc, bufB + jr * kc, cc + ir * ldc, ldc, nr, alpha, betaEff);
          }
        }
      }
    }
  }
}

// One matrix on up to nt threads, split along N (or M when M is the larger side).
template <class TA, class TB>
void gemmOne(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const TA* A, int64_t lda,
             const TB* B, int64_t ldb, float beta, float* C, int64_t ldc, int nt) {
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
      gemmSerial(transA, transB, i1 - i0, N, K, alpha, transA ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C + i0 * ldc, ldc);
    }
  });
}

template <class TA, class TB>
void gemmBatch(const args::gemmBf16& a, const TA* A, const TB* B) {
  const bool transA = a.transA, transB = a.transB;
  const int64_t M = a.M, N = a.N, K = a.K, lda = a.lda, strideA = a.strideA, ldb = a.ldb, strideB = a.strideB;
  const int64_t ldc = a.ldc, strideC = a.strideC, batch = a.batch;
  const float alpha = a.alpha, beta = a.beta;
  float* C = a.C;
  if (M <= 0 || N <= 0 || batch <= 0) return;
  const int nt = numThreads();
  const int64_t work = M * N * (K > 0 ? K : 1);
  const bool disjointC = strideC >= (M - 1) * ldc + N;
  const bool perItem = batch > 1 && nt > 1 && disjointC && (work < 2 * kParallelMinWork || batch % nt == 0 || batch >= 4 * nt);
  if (perItem && work * batch >= kParallelMinWork) {
    parallel_run(nt, [&](int tid, int nthreads) {
      const int64_t b0 = batch * tid / nthreads, b1 = batch * (tid + 1) / nthreads;
      for (int64_t b = b0; b < b1; ++b)
        gemmSerial(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta, C + b * strideC, ldc);
    });
    return;
  }
  for (int64_t b = 0; b < batch; ++b)
    gemmOne(transA, transB, M, N, K, alpha, A + b * strideA, lda, B + b * strideB, ldb, beta, C + b * strideC, ldc,
            perItem ? 1 : nt);
}

}  // namespace

// A and B: float32 or bfloat16 each (the binding checks); bfloat16 elements are widened exactly
// while packing, so the same panels and micro-kernels serve both.
void gemmBf16(const args::gemmBf16& a) {
  const bool aBf = a.AType == DType::BF16, bBf = a.BType == DType::BF16;
  const auto* a16 = static_cast<const uint16_t*>(a.A);
  const auto* b16 = static_cast<const uint16_t*>(a.B);
  const auto* a32 = static_cast<const float*>(a.A);
  const auto* b32 = static_cast<const float*>(a.B);
  if (aBf && bBf) gemmBatch(a, a16, b16);
  else if (aBf) gemmBatch(a, a16, b32);
  else if (bBf) gemmBatch(a, a32, b16);
  else gemmBatch(a, a32, b32);
}

}  // namespace kiln::cpu::KILN_ISA_NS
