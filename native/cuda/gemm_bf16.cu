// gemmBf16 on CUDA: both operands rounded to bfloat16 (nearest, ties to even), float32
// accumulation and output: the CPU's semantics. The operands are packed dense as bfloat16 and
// multiplied by cuBLASLt's bf16 tensor-core GEMM (C and D float32). Where cuBLASLt has no
// algorithm, or for the cases gemm handles itself (K == 0, items sharing one C), the rounded
// operands go to the float32 gemm as float32 copies instead: products of bf16 values are exact in
// float32 (and in TF32, whose 10-bit mantissa holds bf16's 8), so the result is the same.
#include <climits>

#include "launch.cuh"

namespace kiln::cuda {
namespace {

__device__ __forceinline__ uint32_t roundedBits(float x) {
  uint32_t u = __float_as_uint(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u | 0x00400000u) & 0xffff0000u;  // NaN stays NaN
  return (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
}

__global__ void roundBf16Kernel(float* __restrict dst, const float* __restrict src, int64_t n) {
  KILN_GRID_STRIDE(i, n) dst[i] = __uint_as_float(roundedBits(src[i]));
}

// dst[b][r][c] (dense) = bf16 bits of src[b * stride + r * ld + c]
__global__ void packBf16Kernel(uint16_t* __restrict dst, const float* __restrict src, int64_t rows, int64_t cols,
                               int64_t ld, int64_t stride, int64_t total) {
  KILN_GRID_STRIDE(t, total) {
    const int64_t c = t % cols, r = (t / cols) % rows, b = t / (cols * rows);
    dst[t] = static_cast<uint16_t>(roundedBits(src[b * stride + r * ld + c]) >> 16);
  }
}

// The dense case (each item rows x cols with no gaps, items back to back): four elements a
// thread, no index arithmetic (the general kernel's 64-bit divisions cost more than its bytes).
__global__ void packBf16DenseKernel(uint2* __restrict dst, const float4* __restrict src, int64_t n4) {
  KILN_GRID_STRIDE(i, n4) {
    const float4 x = src[i];
    dst[i] = make_uint2((roundedBits(x.x) >> 16) | (roundedBits(x.y) & 0xffff0000u),
                        (roundedBits(x.z) >> 16) | (roundedBits(x.w) & 0xffff0000u));
  }
}

// Elements from the first to one past the last that an operand of the batch reaches.
int64_t operandExtent(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  if (rows <= 0 || cols <= 0 || batch <= 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

// One operand (rows x cols with row stride ld, items stride apart; stride 0: one shared item)
// packed dense as bfloat16; returns the device buffer, and its item stride in elements.
uint16_t* packOperand(DeviceContext& dev, const float* src, int64_t rows, int64_t cols, int64_t ld, int64_t stride,
                      int64_t batch, int64_t* packedStride, size_t* bytes) {
  const int64_t items = stride == 0 ? 1 : batch;
  const int64_t total = items * rows * cols;
  *bytes = static_cast<size_t>(total) * 2;
  *packedStride = stride == 0 ? 0 : rows * cols;
  auto* dst = static_cast<uint16_t*>(dev.alloc(*bytes));
  const bool dense = ld == cols && (items == 1 || stride == rows * cols);
  if (dense) {
    const int64_t n4 = (reinterpret_cast<uintptr_t>(src) & 15) == 0 ? total / 4 : 0;
    if (n4 > 0) {
      packBf16DenseKernel<<<gridFor(n4), kThreads, 0, dev.stream()>>>(reinterpret_cast<uint2*>(dst),
                                                                        reinterpret_cast<const float4*>(src), n4);
    }
    const int64_t rest = total - 4 * n4;  // as one row
    if (rest > 0) packBf16Kernel<<<gridFor(rest), kThreads, 0, dev.stream()>>>(dst + 4 * n4, src + 4 * n4, 1, rest, rest, 0, rest);
  } else {
    packBf16Kernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(dst, src, rows, cols, ld, stride, total);
  }
  checkLaunch("gemmBf16(pack)");
  return dst;
}

// The bf16 tensor-core path; false (nothing left allocated) where cuBLASLt has no algorithm.
bool gemmBf16Lt(DeviceContext& dev, const args::gemmBf16& a) {
  const float* A = static_cast<const float*>(a.A);
  const float* B = static_cast<const float*>(a.B);
  const int64_t aRows = a.transA ? a.K : a.M, aCols = a.transA ? a.M : a.K;
  const int64_t bRows = a.transB ? a.N : a.K, bCols = a.transB ? a.K : a.N;
  int64_t sA = 0, sB = 0;
  size_t nbA = 0, nbB = 0;
  uint16_t* pa = packOperand(dev, A, aRows, aCols, a.lda, a.strideA, a.batch, &sA, &nbA);
  uint16_t* pb = packOperand(dev, B, bRows, bCols, a.ldb, a.strideB, a.batch, &sB, &nbB);
  args::gemm g{.transA = a.transA, .transB = a.transB, .M = a.M, .N = a.N, .K = a.K, .alpha = a.alpha,
               .A = pa, .lda = aCols, .strideA = sA, .B = pb, .ldb = bCols, .strideB = sB, .beta = a.beta,
               .C = a.C, .ldc = a.ldc, .strideC = a.strideC, .batch = a.batch};
  bool done = false;
  try {
    done = gemmLt(dev, g, CUDA_R_16BF);
  } catch (...) {
    dev.release(pa, nbA);
    dev.release(pb, nbB);
    throw;
  }
  // stream-ordered: the matmul enqueued above reads the copies before any later kernel reuses them
  dev.release(pa, nbA);
  dev.release(pb, nbB);
  return done;
}

}  // namespace

void gemmBf16(DeviceContext& dev, const args::gemmBf16& a) {
  if (a.M <= 0 || a.N <= 0 || a.batch <= 0) return;
  // bfloat16 storage never reaches CUDA (the binding refuses to allocate it there): float32 here
  if (a.AType != DType::F32 || a.BType != DType::F32) throw Error("cuda: gemmBf16: bfloat16 tensors are CPU-only");
  const bool sharedC = a.strideC == 0 && a.batch > 1;
  if (a.K > 0 && !sharedC && a.batch <= INT_MAX && gemmBf16Lt(dev, a)) return;
  const float* A = static_cast<const float*>(a.A);
  const float* B = static_cast<const float*>(a.B);
  const int64_t nA = a.K > 0 ? operandExtent(a.transA ? a.K : a.M, a.transA ? a.M : a.K, a.lda, a.strideA, a.batch) : 0;
  const int64_t nB = a.K > 0 ? operandExtent(a.transB ? a.N : a.K, a.transB ? a.K : a.N, a.ldb, a.strideB, a.batch) : 0;
  float* ra = nA > 0 ? static_cast<float*>(dev.alloc(static_cast<size_t>(nA) * 4)) : nullptr;
  float* rb = nB > 0 ? static_cast<float*>(dev.alloc(static_cast<size_t>(nB) * 4)) : nullptr;
  if (nA > 0) roundBf16Kernel<<<gridFor(nA), kThreads, 0, dev.stream()>>>(ra, A, nA);
  if (nB > 0) roundBf16Kernel<<<gridFor(nB), kThreads, 0, dev.stream()>>>(rb, B, nB);
  checkLaunch("gemmBf16(round)");
  args::gemm g{.transA = a.transA, .transB = a.transB, .M = a.M, .N = a.N, .K = a.K, .alpha = a.alpha,
               .A = ra != nullptr ? ra : A, .lda = a.lda, .strideA = a.strideA,
               .B = rb != nullptr ? rb : B, .ldb = a.ldb, .strideB = a.strideB, .beta = a.beta,
               .C = a.C, .ldc = a.ldc, .strideC = a.strideC, .batch = a.batch};
  gemm(dev, g);
  // stream-ordered: the gemm enqueued above reads the copies before any later kernel reuses them
  if (ra != nullptr) dev.release(ra, static_cast<size_t>(nA) * 4);
  if (rb != nullptr) dev.release(rb, static_cast<size_t>(nB) * 4);
}

}  // namespace kiln::cuda
