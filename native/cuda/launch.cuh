// Device-side helpers shared by the .cu files: grid sizing for grid-stride loops, block reductions.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "common.h"
#include "kernels.cuh"

namespace kiln::cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n items (capped; the loop covers the rest).
inline unsigned gridFor(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > (int64_t{1} << 20)) b = int64_t{1} << 20;
  return static_cast<unsigned>(b);
}

#define KILN_GRID_STRIDE(i, n)                                                         \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Offset of linear (row-major) index i of `shape` in a view with `strides`.
__device__ __forceinline__ int64_t stridedOffset(int64_t i, const Strided& v) {
  int64_t off = 0;
  for (int d = v.ndim - 1; d >= 0; --d) {
    int64_t sz = v.shape[d];
    // a 64-bit division is a long software sequence on the GPU; the 32-bit one is a few instructions
    int64_t q = ((i | sz) >> 32) == 0 ? static_cast<uint32_t>(i) / static_cast<uint32_t>(sz) : i / sz;
    off += (i - q * sz) * v.strides[d];
    i = q;
  }
  return off;
}

// The view of `shape` with `strides`, passed to kernels by value.
inline Strided makeStrided(const Dims& shape, const Dims& strides) {
  if (shape.n < 0 || shape.n > kMaxDims || strides.n != shape.n) throw Error("cuda: bad strided view");
  Strided v{};
  v.ndim = shape.n;
  for (int d = 0; d < shape.n; ++d) {
    v.shape[d] = shape.v[d];
    v.strides[d] = strides.v[d];
  }
  return v;
}

inline int64_t numel(const Dims& shape) {
  int64_t n = 1;
  for (int d = 0; d < shape.n; ++d) n *= shape.v[d];
  return n;
}

__device__ __forceinline__ float warpSum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warpMax(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Block-wide sum / max (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
__device__ __forceinline__ float blockSum(float v) {
  __shared__ float sh[32];
  __syncthreads();  // sh may still be read by a previous call
  v = warpSum(v);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  int nw = blockDim.x >> 5;
  v = lane < nw ? sh[lane] : 0.f;
  return warpSum(v);
}
__device__ __forceinline__ float blockMax(float v) {
  __shared__ float sh[32];
  __syncthreads();
  v = warpMax(v);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  int nw = blockDim.x >> 5;
  v = lane < nw ? sh[lane] : -INFINITY;
  return warpMax(v);
}

__device__ __forceinline__ void reportError(int32_t* err, int32_t code) {
  if (err != nullptr) atomicCAS(err, 0, code);
}

}  // namespace kiln::cuda
