// fill, cast, stridedCopy and copyStrided. Layout copies move uint32 (float32, int32) or uint64
// (float64) words.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

template <class W>
__global__ void fillKernel(W* dst, int64_t n, W bits) {
  KILN_GRID_STRIDE(i, n) dst[i] = bits;
}

// float64 -> int32 with the cast rule; the other float64 conversions are plain.
__global__ void castF64ToI32(int32_t* dst, const double* src, int64_t n) {
  KILN_GRID_STRIDE(i, n) {
    double x = src[i];
    dst[i] = x != x ? 0 : x <= -2147483648.0 ? INT32_MIN : x >= 2147483647.0 ? INT32_MAX : static_cast<int32_t>(x);
  }
}

template <class D, class S>
__global__ void castPlain(D* dst, const S* src, int64_t n) {
  KILN_GRID_STRIDE(i, n) dst[i] = static_cast<D>(src[i]);
}

// Kiln's one cast rule, as the CPU's (native/cpu/kernels/layout.cc): truncation toward zero,
// out-of-range values saturate to INT32_MIN / INT32_MAX, NaN gives 0.
__global__ void castF32ToI32(int32_t* dst, const float* src, int64_t n) {
  KILN_GRID_STRIDE(i, n) {
    float x = src[i];
    dst[i] = x != x ? 0 : x <= -2147483648.0f ? INT32_MIN : x >= 2147483648.0f ? INT32_MAX : static_cast<int32_t>(x);
  }
}

__global__ void castI32ToF32(float* dst, const int32_t* src, int64_t n) {
  KILN_GRID_STRIDE(i, n) dst[i] = static_cast<float>(src[i]);
}

template <class W>
__global__ void stridedCopyKernel(W* dst, const W* src, int64_t n, Strided v) {
  KILN_GRID_STRIDE(i, n) dst[i] = src[stridedOffset(i, v)];
}

template <class W>
__global__ void copyStridedKernel(W* dst, const W* src, int64_t n, Strided dv, Strided sv) {
  KILN_GRID_STRIDE(i, n) dst[stridedOffset(i, dv)] = src[stridedOffset(i, sv)];
}

}  // namespace

void fill(DeviceContext& dev, const args::fill& a) {
  if (a.n <= 0) return;
  if (a.dstType == DType::F64) {
    uint64_t bits64;
    memcpy(&bits64, &a.value, 8);
    fillKernel<uint64_t><<<gridFor(a.n), kThreads, 0, dev.stream()>>>(static_cast<uint64_t*>(a.dst), a.n, bits64);
    checkLaunch("fill");
    return;
  }
  uint32_t bits;
  if (a.dstType == DType::F32) {
    float f = static_cast<float>(a.value);
    memcpy(&bits, &f, 4);
  } else {
    // the cast rule (layout.cc on the CPU): truncation toward zero, saturation, NaN gives 0
    double v = a.value != a.value ? 0 : a.value < -2147483648.0 ? -2147483648.0 : a.value > 2147483647.0 ? 2147483647.0 : a.value;
    int32_t i = static_cast<int32_t>(v);
    memcpy(&bits, &i, 4);
  }
  fillKernel<uint32_t><<<gridFor(a.n), kThreads, 0, dev.stream()>>>(static_cast<uint32_t*>(a.dst), a.n, bits);
  checkLaunch("fill");
}

void cast(DeviceContext& dev, const args::cast& a) {
  const int64_t n = a.n;
  cudaStream_t s = dev.stream();
  if (n <= 0) return;
  const DType to = a.dstType, from = a.srcType;
  if (to == from) {
    KILN_CUDA(cudaMemcpyAsync(a.dst, a.src, static_cast<size_t>(n) * dtypeSize(to), cudaMemcpyDeviceToDevice, s));
  } else if (to == DType::I32 && from == DType::F64) {
    castF64ToI32<<<gridFor(n), kThreads, 0, s>>>(static_cast<int32_t*>(a.dst), static_cast<const double*>(a.src), n);
    checkLaunch("cast(f64->i32)");
  } else if (to == DType::F64 && from == DType::F32) {
    castPlain<double, float><<<gridFor(n), kThreads, 0, s>>>(static_cast<double*>(a.dst), static_cast<const float*>(a.src), n);
    checkLaunch("cast(f32->f64)");
  } else if (to == DType::F64 && from == DType::I32) {
    castPlain<double, int32_t><<<gridFor(n), kThreads, 0, s>>>(static_cast<double*>(a.dst), static_cast<const int32_t*>(a.src), n);
    checkLaunch("cast(i32->f64)");
  } else if (to == DType::F32 && from == DType::F64) {
    castPlain<float, double><<<gridFor(n), kThreads, 0, s>>>(static_cast<float*>(a.dst), static_cast<const double*>(a.src), n);
    checkLaunch("cast(f64->f32)");
  } else if (to == DType::I32) {
    castF32ToI32<<<gridFor(n), kThreads, 0, s>>>(static_cast<int32_t*>(a.dst), static_cast<const float*>(a.src), n);
    checkLaunch("cast(f32->i32)");
  } else {
    castI32ToF32<<<gridFor(n), kThreads, 0, s>>>(static_cast<float*>(a.dst), static_cast<const int32_t*>(a.src), n);
    checkLaunch("cast(i32->f32)");
  }
}

// Row-major and dense (a size-1 dimension may have any stride): such a copy is one memcpy, at the
// device's copy rate (4.1 TB/s on the H200), with no index arithmetic per element.
bool isDense(const Dims& shape, const Dims& strides) {
  int64_t expected = 1;
  for (int d = shape.n - 1; d >= 0; --d) {
    if (shape.v[d] != 1 && strides.v[d] != expected) return false;
    expected *= shape.v[d];
  }
  return true;
}

void copyWords(DeviceContext& dev, void* dst, const void* src, int64_t n, DType type) {
  KILN_CUDA(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * dtypeSize(type), cudaMemcpyDeviceToDevice, dev.stream()));
}

void stridedCopy(DeviceContext& dev, const args::stridedCopy& a) {
  int64_t n = numel(a.shape);
  if (n <= 0) return;
  if (isDense(a.shape, a.srcStrides)) return copyWords(dev, a.dst, a.src, n, a.dstType);
  Strided v = makeStrided(a.shape, a.srcStrides);
  if (dtypeSize(a.dstType) == 8) {
    stridedCopyKernel<uint64_t><<<gridFor(n), kThreads, 0, dev.stream()>>>(static_cast<uint64_t*>(a.dst),
                                                                          static_cast<const uint64_t*>(a.src), n, v);
  } else {
    stridedCopyKernel<uint32_t><<<gridFor(n), kThreads, 0, dev.stream()>>>(static_cast<uint32_t*>(a.dst),
                                                                          static_cast<const uint32_t*>(a.src), n, v);
  }
  checkLaunch("stridedCopy");
}

void copyStrided(DeviceContext& dev, const args::copyStrided& a) {
  int64_t n = numel(a.shape);
  if (n <= 0) return;
  if (isDense(a.shape, a.dstStrides) && isDense(a.shape, a.srcStrides)) return copyWords(dev, a.dst, a.src, n, a.dstType);
  Strided dv = makeStrided(a.shape, a.dstStrides);
  Strided sv = makeStrided(a.shape, a.srcStrides);
  if (dtypeSize(a.dstType) == 8) {
    copyStridedKernel<uint64_t><<<gridFor(n), kThreads, 0, dev.stream()>>>(static_cast<uint64_t*>(a.dst),
                                                                          static_cast<const uint64_t*>(a.src), n, dv, sv);
  } else {
    copyStridedKernel<uint32_t><<<gridFor(n), kThreads, 0, dev.stream()>>>(static_cast<uint32_t*>(a.dst),
                                                                          static_cast<const uint32_t*>(a.src), n, dv, sv);
  }
  checkLaunch("copyStrided");
}

}  // namespace kiln::cuda
