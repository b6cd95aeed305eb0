// Vector exp, sigmoid and tanh for the AVX-512 (16 lanes) and AVX2+FMA (8 lanes) tables, written
// once over a small SIMD layer (vfloat, kVecW and the few operations they need), with the same
// formulas and edge rules as the scalar ones in elementwise.cc (Cephes expf, < 2 ulp; NaN stays
// NaN; exp saturates to +inf above 88.72 and to 0 below -104). Both widths compute the same
// operations in the same order, so they give the same bits. GCC does not vectorise the scalar
// forms (the float -> int -> exponent-bits steps stay scalar), hence intrinsics.
// Only included by ISA-compiled kernel files; KILN_VEC is defined where a vector body exists
// (the portable table has none and runs the scalar forms).
#pragma once
#if defined(__AVX512F__) || defined(__AVX2__)
#define KILN_VEC 1
#include <immintrin.h>

#include <cstdint>

namespace kiln::cpu::KILN_ISA_NS {

#if defined(__AVX512F__)
using vfloat = __m512;
using vmask = __mmask16;
constexpr int kVecW = 16;
inline vfloat vload(const float* p) { return _mm512_loadu_ps(p); }
inline void vstore(float* p, vfloat v) { _mm512_storeu_ps(p, v); }
inline vfloat vset(float v) { return _mm512_set1_ps(v); }
inline vfloat vzero() { return _mm512_setzero_ps(); }
inline vfloat vfma(vfloat a, vfloat b, vfloat c) { return _mm512_fmadd_ps(a, b, c); }    // a b + c
inline vfloat vfnma(vfloat a, vfloat b, vfloat c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b
inline vfloat vmin(vfloat a, vfloat b) { return _mm512_min_ps(a, b); }
inline vfloat vmax(vfloat a, vfloat b) { return _mm512_max_ps(a, b); }
inline vfloat vfloor(vfloat x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
inline vmask vlt(vfloat a, vfloat b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
inline vmask vgt(vfloat a, vfloat b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
inline vmask vge(vfloat a, vfloat b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
inline vmask veq(vfloat a, vfloat b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
inline vmask visnan(vfloat x) { return _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q); }
inline vfloat vselect(vmask m, vfloat yes, vfloat no) { return _mm512_mask_blend_ps(m, no, yes); }
inline vfloat vbits(vfloat x, int32_t andMask, int32_t orMask) {
  const __m512i b = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(andMask));
  return _mm512_castsi512_ps(_mm512_or_si512(b, _mm512_set1_epi32(orMask)));
}
inline vfloat vorbits(vfloat a, vfloat b) {
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b)));
}
// p * 2^n for integral n in [-150, 128], in two halves so both factors stay normal floats.
inline vfloat vldexp(vfloat p, vfloat n) {
  const __m512i ni = _mm512_cvtps_epi32(n);
  const __m512i n1 = _mm512_srai_epi32(ni, 1);
  const __m512i n2 = _mm512_sub_epi32(ni, n1);
  const __m512i bias = _mm512_set1_epi32(127);
  const __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
  const __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
  return _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
}
inline float vsum(vfloat v) { return _mm512_reduce_add_ps(v); }
#else  // AVX2 + FMA
using vfloat = __m256;
using vmask = __m256;  // all-ones lanes where true
constexpr int kVecW = 8;
inline vfloat vload(const float* p) { return _mm256_loadu_ps(p); }
inline void vstore(float* p, vfloat v) { _mm256_storeu_ps(p, v); }
inline vfloat vset(float v) { return _mm256_set1_ps(v); }
inline vfloat vzero() { return _mm256_setzero_ps(); }
inline vfloat vfma(vfloat a, vfloat b, vfloat c) { return _mm256_fmadd_ps(a, b, c); }
inline vfloat vfnma(vfloat a, vfloat b, vfloat c) { return _mm256_fnmadd_ps(a, b, c); }
inline vfloat vmin(vfloat a, vfloat b) { return _mm256_min_ps(a, b); }
inline vfloat vmax(vfloat a, vfloat b) { return _mm256_max_ps(a, b); }
inline vfloat vfloor(vfloat x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
inline vmask vlt(vfloat a, vfloat b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
inline vmask vgt(vfloat a, vfloat b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
inline vmask vge(vfloat a, vfloat b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
inline vmask veq(vfloat a, vfloat b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
inline vmask visnan(vfloat x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }
inline vfloat vselect(vmask m, vfloat yes, vfloat no) { return _mm256_blendv_ps(no, yes, m); }
inline vfloat vbits(vfloat x, int32_t andMask, int32_t orMask) {
  const __m256i b = _mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(andMask));
  return _mm256_castsi256_ps(_mm256_or_si256(b, _mm256_set1_epi32(orMask)));
}
inline vfloat vorbits(vfloat a, vfloat b) { return _mm256_or_ps(a, b); }
inline vfloat vldexp(vfloat p, vfloat n) {
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
inline float vsum(vfloat v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#endif

inline vfloat vabs(vfloat x) { return vbits(x, 0x7fffffff, 0); }

inline vfloat vexp(vfloat x) {
  const vfloat hi = vset(88.7228f), lo = vset(-104.0f);
  const vfloat one = vset(1.0f);
  const vfloat xc = vmin(vmax(x, lo), hi);
  const vfloat n = vfloor(vfma(xc, vset(1.44269504088896341f), vset(0.5f)));
  vfloat r = vfnma(n, vset(0.693359375f), xc);
  r = vfnma(n, vset(-2.12194440e-4f), r);
  vfloat p = vset(1.9875691500E-4f);
  p = vfma(p, r, vset(1.3981999507E-3f));
  p = vfma(p, r, vset(8.3334519073E-3f));
  p = vfma(p, r, vset(4.1665795894E-2f));
  p = vfma(p, r, vset(1.6666665459E-1f));
  p = vfma(p, r, vset(5.0000001201E-1f));
  p = vfma(p, r * r, r + one);
  vfloat e = vldexp(p, n);
  e = vselect(vlt(x, lo), vzero(), e);
  e = vselect(vgt(x, hi), vset(__builtin_inff()), e);
  return vselect(visnan(x), x, e);
}

// sigmoid(x) from e = exp(-|x|): 1 / (1 + e) for x >= 0, e / (1 + e) below; stable for any |x|.
inline vfloat vsigmoid(vfloat x) {
  const vfloat e = vexp(vzero() - vabs(x));
  const vfloat inv = vset(1.0f) / (vset(1.0f) + e);
  return vselect(vge(x, vzero()), inv, e * inv);
}

// tanh: an odd polynomial below |x| = 0.625, else (1 - t) / (1 + t) with t = exp(-2|x|), signed.
inline vfloat vtanh(vfloat x) {
  const vfloat a = vabs(x);
  const vfloat z = x * x;
  vfloat q = vset(-5.70498872745E-3f);
  q = vfma(q, z, vset(2.06390887954E-2f));
  q = vfma(q, z, vset(-5.37397155531E-2f));
  q = vfma(q, z, vset(1.33314422036E-1f));
  q = vfma(q, z, vset(-3.33332819422E-1f));
  vfloat small = vfma(q * z, x, x);
  small = vselect(veq(a, vzero()), x, small);  // keeps -0
  const vfloat t = vexp(vset(-2.0f) * a);
  vfloat big = (vset(1.0f) - t) / (vset(1.0f) + t);
  big = vorbits(big, vbits(x, INT32_MIN, 0));  // x's sign onto big
  const vfloat r = vselect(vlt(a, vset(0.625f)), small, big);
  return vselect(visnan(x), x, r);
}

}  // namespace kiln::cpu::KILN_ISA_NS
#endif
