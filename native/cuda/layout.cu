// fill, cast and stridedCopy. Both element types are 4 bytes, so layout copies move uint32 words.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__global__ void fillKernel(uint32_t* dst, int64_t n, uint32_t bits) {
  KILN_GRID_STRIDE(i, n) dst[i] = bits;
}

__global__ void castF32ToI32(int32_t* dst, const float* src, int64_t n) {
  // C++ conversion: truncation toward zero, as torch's .to(torch.int32)
  KILN_GRID_STRIDE(i, n) dst[i] = static_cast<int32_t>(src[i]);
}

__global__ void castI32ToF32(float* dst, const int32_t* src, int64_t n) {
  KILN_GRID_STRIDE(i, n) dst[i] = static_cast<float>(src[i]);
}

__global__ void stridedCopyKernel(uint32_t* dst, const uint32_t* src, int64_t n, Strided v) {
  KILN_GRID_STRIDE(i, n) dst[i] = src[stridedOffset(i, v)];
}

}  // namespace

void fill(cudaStream_t s, void* dst, DType dt, int64_t n, double value) {
  if (n <= 0) return;
  uint32_t bits;
  if (dt == DType::F32) {
    float f = static_cast<float>(value);
    memcpy(&bits, &f, 4);
  } else {
    int32_t v = static_cast<int32_t>(value);
    memcpy(&bits, &v, 4);
  }
  fillKernel<<<gridFor(n), kThreads, 0, s>>>(static_cast<uint32_t*>(dst), n, bits);
  checkLaunch("fill");
}

void cast(cudaStream_t s, void* dst, DType dstType, const void* src, DType srcType, int64_t n) {
  if (n <= 0) return;
  if (dstType == srcType) {
    KILN_CUDA(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * 4, cudaMemcpyDeviceToDevice, s));
  } else if (dstType == DType::I32) {
    castF32ToI32<<<gridFor(n), kThreads, 0, s>>>(static_cast<int32_t*>(dst), static_cast<const float*>(src), n);
    checkLaunch("cast(f32->i32)");
  } else {
    castI32ToF32<<<gridFor(n), kThreads, 0, s>>>(static_cast<float*>(dst), static_cast<const int32_t*>(src), n);
    checkLaunch("cast(i32->f32)");
  }
}

void stridedCopy(cudaStream_t s, void* dst, const void* src, int ndim, const int64_t* shape,
                 const int64_t* srcStrides) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  if (n <= 0) return;
  Strided v = makeStrided(ndim, shape, srcStrides);
  stridedCopyKernel<<<gridFor(n), kThreads, 0, s>>>(static_cast<uint32_t*>(dst),
                                                     static_cast<const uint32_t*>(src), n, v);
  checkLaunch("stridedCopy");
}

}  // namespace kiln::cuda
