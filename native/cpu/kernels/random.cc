// Counter-based random numbers: Philox4x32-10 (Salmon et al., Random123), the same stream on
// every backend and thread count. The CUDA backend must reproduce the integers exactly:
//
//   key     = (lo32(seed), hi32(seed))
//   counter = (lo32(offset + i/4), hi32(offset + i/4), 0, 0); element i takes lane i % 4
//   round:  (c0, c1, c2, c3) -> (mulhi(M1, c2) ^ c1 ^ k0, M1 * c2, mulhi(M0, c0) ^ c3 ^ k1, M0 * c0)
//           M0 = 0xD2511F53, M1 = 0xCD9E8D57; 10 rounds, the key bumped by
//           (0x9E3779B9, 0xBB67AE85) between rounds.
//   uniform: u = (x >> 8) * 2^-24 in [0, 1); out = float(double(low) + double(high - low) * u)
//            (high - low is rounded to float first; the double product is exact, so fused or
//            unfused multiply-add give the same bits).
//   normal:  Box-Muller over lanes (0,1) and (2,3) of each counter: for the pair (a, b)
//            u1 = ((a >> 8) + 1) * 2^-24 in (0, 1], u2 = (b >> 8) * 2^-24 in [0, 1),
//            r = sqrtf(-2 * logf(u1)), z0 = r * cosf(2pi * u2) (first lane), z1 = r * sinf(2pi * u2)
//            (second lane); out = float(double(mean) + double(std) * z).
// The integers and u1/u2 are bit-exact across backends; logf/sinf/cosf may differ in the last bit.
#include <cmath>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

struct U32x4 {
  uint32_t v[4];
};

inline uint32_t mulhi(uint32_t a, uint32_t b) {
  return static_cast<uint32_t>((static_cast<uint64_t>(a) * b) >> 32);
}

inline U32x4 philox(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    uint32_t hi0 = mulhi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint32_t hi1 = mulhi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
  }
  return U32x4{{c0, c1, c2, c3}};
}

constexpr float kTwoPow24Inv = 1.0f / 16777216.0f;
constexpr float kTwoPi = 6.28318530717958647692f;

// Calls f(counterIndex, lanes, firstElement, count) for every counter covering [0, n), in parallel.
template <class F>
void forCounters(int64_t n, uint64_t seed, uint64_t offset, const F& f) {
  int64_t counters = (n + 3) / 4;
  parallel_for(counters, kElemGrain / 4, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      U32x4 x = philox(offset + static_cast<uint64_t>(c), seed);
      f(x, c * 4, static_cast<int>(minI64(4, n - c * 4)));
    }
  });
}

}  // namespace

void randomUniform(const args::randomUniform& a) {
  float* out = a.out;
  const int64_t n = a.n;
  const uint64_t seed = a.seed, offset = a.offset;
  if (n <= 0) return;
  double lo = a.low, span = static_cast<double>(a.high - a.low);
  forCounters(n, seed, offset, [&](const U32x4& x, int64_t i, int count) {
    for (int l = 0; l < count; ++l) {
      float u = static_cast<float>(x.v[l] >> 8) * kTwoPow24Inv;
      out[i + l] = static_cast<float>(lo + span * u);
    }
  });
}

void randomNormal(const args::randomNormal& a) {
  float* out = a.out;
  const int64_t n = a.n;
  const uint64_t seed = a.seed, offset = a.offset;
  if (n <= 0) return;
  double mu = a.mean, sigma = a.std;
  forCounters(n, seed, offset, [&](const U32x4& x, int64_t i, int count) {
    float z[4];
    for (int pair = 0; pair < 2; ++pair) {
      float u1 = static_cast<float>((x.v[2 * pair] >> 8) + 1) * kTwoPow24Inv;
      float u2 = static_cast<float>(x.v[2 * pair + 1] >> 8) * kTwoPow24Inv;
      float r = sqrtf(-2.0f * logf(u1));
      float theta = kTwoPi * u2;
      z[2 * pair] = r * cosf(theta);
      z[2 * pair + 1] = r * sinf(theta);
    }
    for (int l = 0; l < count; ++l) out[i + l] = static_cast<float>(mu + sigma * z[l]);
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
