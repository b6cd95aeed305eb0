// Counter-based random numbers, Philox4x32-10, bit-identical in their inputs to the CPU backend:
// element i uses lane i % 4 of counter (offset + i / 4) = (lo32, hi32, 0, 0), key = (seed lo32,
// seed hi32). Uniform: u = (x >> 8) * 2^-24. Normal: Box-Muller over lanes (0, 1) and (2, 3) with
// u1 = ((x0 >> 8) + 1) * 2^-24 (never 0), u2 = (x1 >> 8) * 2^-24; z0 = r cos(2 pi u2),
// z1 = r sin(2 pi u2), r = sqrt(-2 log u1); out = float(double(low) + double(high - low) * u) and
// float(double(mean) + double(std) * z), as native/cpu/kernels/random.cc. Arithmetic uses explicit
// _rn intrinsics so that nvcc does not contract it into FMAs the CPU does not use.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u, kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;
constexpr float kTwoPow24Inv = 5.9604644775390625e-08f;  // 2^-24
constexpr float kTwoPi = 6.28318530717958647692f;

__device__ __forceinline__ uint4 philox4x32_10(uint4 c, uint32_t k0, uint32_t k1) {
#pragma unroll
  for (int r = 0; r < 10; ++r) {
    if (r > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    uint32_t hi0 = __umulhi(kPhiloxM0, c.x), lo0 = kPhiloxM0 * c.x;
    uint32_t hi1 = __umulhi(kPhiloxM1, c.z), lo1 = kPhiloxM1 * c.z;
    c = make_uint4(hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0);
  }
  return c;
}

__device__ __forceinline__ uint4 block(uint64_t seed, uint64_t offset, int64_t q) {
  uint64_t ctr = offset + static_cast<uint64_t>(q);
  return philox4x32_10(make_uint4(static_cast<uint32_t>(ctr), static_cast<uint32_t>(ctr >> 32), 0u, 0u),
                       static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

__device__ __forceinline__ float toUniform(uint32_t x) {
  return __fmul_rn(static_cast<float>(x >> 8), kTwoPow24Inv);
}

__global__ void uniformKernel(float* out, int64_t n, uint64_t seed, uint64_t offset, double low, double range) {
  int64_t blocks = (n + 3) / 4;
  KILN_GRID_STRIDE(q, blocks) {
    uint4 r = block(seed, offset, q);
    uint32_t lanes[4] = {r.x, r.y, r.z, r.w};
    int64_t base = q * 4;
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      // float(double(low) + double(high - low) * u): the product is exact in double
      if (base + l < n) out[base + l] = static_cast<float>(__dadd_rn(low, __dmul_rn(range, toUniform(lanes[l]))));
    }
  }
}

__device__ __forceinline__ void boxMuller(uint32_t x0, uint32_t x1, float* z0, float* z1) {
  float u1 = __fmul_rn(static_cast<float>((x0 >> 8) + 1u), kTwoPow24Inv);
  float u2 = toUniform(x1);
  float r = sqrtf(__fmul_rn(-2.0f, logf(u1)));
  float theta = __fmul_rn(kTwoPi, u2);
  *z0 = __fmul_rn(r, cosf(theta));
  *z1 = __fmul_rn(r, sinf(theta));
}

__global__ void normalKernel(float* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  int64_t blocks = (n + 3) / 4;
  KILN_GRID_STRIDE(q, blocks) {
    uint4 r = block(seed, offset, q);
    float z[4];
    boxMuller(r.x, r.y, &z[0], &z[1]);
    boxMuller(r.z, r.w, &z[2], &z[3]);
    int64_t base = q * 4;
#pragma unroll
    for (int l = 0; l < 4; ++l) {
      if (base + l < n) out[base + l] = static_cast<float>(__dadd_rn(mean, __dmul_rn(std, z[l])));
    }
  }
}

}  // namespace

void randomUniform(DeviceContext& dev, const args::randomUniform& a) {
  if (a.n <= 0) return;
  uniformKernel<<<gridFor((a.n + 3) / 4), kThreads, 0, dev.stream()>>>(a.out, a.n, a.seed, a.offset,
                                                                       static_cast<double>(a.low),
                                                                       static_cast<double>(a.high - a.low));
  checkLaunch("randomUniform");
}

void randomNormal(DeviceContext& dev, const args::randomNormal& a) {
  if (a.n <= 0) return;
  normalKernel<<<gridFor((a.n + 3) / 4), kThreads, 0, dev.stream()>>>(a.out, a.n, a.seed, a.offset, a.mean, a.std);
  checkLaunch("randomNormal");
}

}  // namespace kiln::cuda
