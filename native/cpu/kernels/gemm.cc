// PLACEHOLDER naive gemm (to be replaced by the packed, register-blocked implementation).
#include <cstdint>

namespace kiln::cpu::KILN_ISA_NS {

void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta,
          float* C, int64_t ldc, int64_t strideC, int64_t batch) {
  for (int64_t b = 0; b < batch; ++b) {
    const float* a = A + b * strideA;
    const float* bb = B + b * strideB;
    float* c = C + b * strideC;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += (transA ? a[k * lda + i] : a[i * lda + k]) * (transB ? bb[j * ldb + k] : bb[k * ldb + j]);
        c[i * ldc + j] = alpha * s + (beta == 0.f ? 0.f : beta * c[i * ldc + j]);
      }
  }
}

}  // namespace kiln::cpu::KILN_ISA_NS
