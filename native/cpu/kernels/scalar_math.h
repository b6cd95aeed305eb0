// Scalar exp, sigmoid and tanh shared by the ISA-compiled kernel files (elementwise.cc, lstm.cc):
// the same formulas and edge rules as the AVX-512 forms in vec_math.h. Inline in the ISA
// namespace, so each instruction set gets its own copy (see kernels.h).
#pragma once
#include <cmath>
#include <cstdint>

namespace kiln::cpu::KILN_ISA_NS {

inline float bitsToFloat(uint32_t b) {
  float f;
  __builtin_memcpy(&f, &b, 4);
  return f;
}

// exp(x) for x <= 0 without a libm call or a branch (libm's tanhf took 15 ns/element here;
// tanhFast 6 ns; GCC does not vectorise it yet: the float -> int -> bits steps stay scalar). Cephes expf: range reduction by ln 2 in two
// parts and a degree-6 polynomial, < 2 ulp; 2^n applied in two halves so results down to the
// denormals are right; exp(x) = 0 below -104 and NaN stays NaN.
inline float expNonPositive(float x) {
  float xc = x < -104.0f ? -104.0f : x;
  float n = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * (r * r) + r + 1.0f;
  int32_t ni = static_cast<int32_t>(n);
  int32_t n1 = ni / 2, n2 = ni - n1;  // both halves keep 2^k a normal float
  float e = p * bitsToFloat(static_cast<uint32_t>(n1 + 127) << 23) * bitsToFloat(static_cast<uint32_t>(n2 + 127) << 23);
  e = x < -104.0f ? 0.0f : e;
  return x != x ? x : e;
}

// Stable for large |x|: exp only ever sees a non-positive argument.
// (libm's expf kept here: the branch-free form with expNonPositive did not measure faster)
inline float sigmoid(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

// tanh without libm: Cephes tanhf (odd polynomial below 0.625, else 1 - 2 / (exp(2|x|) + 1)).
inline float tanhFast(float x) {
  float a = __builtin_fabsf(x);
  float z = x * x;
  float small = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z +
                  1.33314422036E-1f) * z - 3.33332819422E-1f) * z * x + x;
  float t = expNonPositive(-2.0f * a);  // exp(-2|x|) in (0, 1]
  float big = (1.0f - t) / (1.0f + t);
  big = x < 0 ? -big : big;
  small = a == 0.0f ? x : small;  // keeps -0
  return a < 0.625f ? small : big;
}

}  // namespace kiln::cpu::KILN_ISA_NS
