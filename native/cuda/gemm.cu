// The part of matmul that is ours: C = beta * C when K == 0 (cuBLAS(Lt) is called from
// cuda_backend.cu through the dlopen'ed table in cublas_loader.cc).
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__global__ void scaleKernel(float* C, int64_t M, int64_t N, int64_t ldc, int64_t strideC, int64_t batch,
                            float beta) {
  KILN_GRID_STRIDE(t, batch * M * N) {
    int64_t j = t % N, i = (t / N) % M, b = t / (N * M);
    float* c = C + b * strideC + i * ldc + j;
    *c = beta == 0.f ? 0.f : beta * *c;
  }
}

}  // namespace

void scaleMatrix(cudaStream_t s, float* C, int64_t M, int64_t N, int64_t ldc, int64_t strideC,
                 int64_t batch, float beta) {
  int64_t total = batch * M * N;
  if (total <= 0) return;
  scaleKernel<<<gridFor(total), kThreads, 0, s>>>(C, M, N, ldc, strideC, batch, beta);
  checkLaunch("gemm(scale, K == 0)");
}

}  // namespace kiln::cuda
