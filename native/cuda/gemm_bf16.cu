// gemmBf16 on CUDA: both operands rounded to bfloat16 (nearest, ties to even) into temporary
// float32 copies, then the float32 gemm. Products of bf16 values are exact in float32 (and in
// TF32, whose 10-bit mantissa holds bf16's 8), so this has the CPU's semantics: bf16 operands,
// float32 accumulation. It is not a fast path: a cuBLASLt bf16 GEMM is left for a GPU session.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__global__ void roundBf16Kernel(float* __restrict dst, const float* __restrict src, int64_t n) {
  KILN_GRID_STRIDE(i, n) {
    uint32_t u = __float_as_uint(src[i]);
    if ((u & 0x7fffffffu) > 0x7f800000u) u = (u | 0x00400000u) & 0xffff0000u;  // NaN stays NaN
    else u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    dst[i] = __uint_as_float(u);
  }
}

// Elements from the first to one past the last that an operand of the batch reaches.
int64_t operandExtent(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  if (rows <= 0 || cols <= 0 || batch <= 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

}  // namespace

void gemmBf16(DeviceContext& dev, const args::gemmBf16& a) {
  if (a.M <= 0 || a.N <= 0 || a.batch <= 0) return;
  // bfloat16 storage never reaches CUDA (the binding refuses to allocate it there): float32 here
  if (a.AType != DType::F32 || a.BType != DType::F32) throw Error("cuda: gemmBf16: bfloat16 tensors are CPU-only");
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
