// The CPU backend: host memory (64-byte aligned) and the kernel table chosen in isa.cc.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "../include/backend.h"
#include "isa.h"

namespace kiln {
namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const cpu::KernelTable& k) : k_(k) {}

  const char* name() const override { return "cpu"; }

  void* alloc(size_t bytes) override {
    size_t rounded = (bytes + 63) & ~static_cast<size_t>(63);
    void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (p == nullptr) {
      throw Error("cpu: out of memory allocating " + std::to_string(bytes) + " bytes");
    }
    return p;
  }
  void release(void* p) override { std::free(p); }
  void copyFromHost(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copyToHost(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) override { std::memmove(dst, src, bytes); }
  void synchronize() override {}

  void fill(void* dst, DType dt, int64_t n, double value) override { k_.fill(dst, dt, n, value); }
  void cast(void* dst, DType dstType, const void* src, DType srcType, int64_t n) override {
    k_.cast(dst, dstType, src, srcType, n);
  }
  void stridedCopy(void* dst, const void* src, DType dt, int ndim, const int64_t* shape,
                   const int64_t* srcStrides) override {
    k_.stridedCopy(dst, src, dt, ndim, shape, srcStrides);
  }
  void unary(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta) override {
    k_.unary(op, y, x, n, alpha, beta);
  }
  void unaryBackward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y, int64_t n,
                     float alpha, float beta) override {
    k_.unaryBackward(op, dx, dy, x, y, n, alpha, beta);
  }
  void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, int ndim, const int64_t* shape,
              const int64_t* aStrides, const int64_t* bStrides) override {
    k_.binary(op, dt, out, a, b, ndim, shape, aStrides, bStrides);
  }
  void where(float* out, const float* cond, const float* a, const float* b, int ndim, const int64_t* shape,
             const int64_t* condStrides, const int64_t* aStrides, const int64_t* bStrides) override {
    k_.where(out, cond, a, b, ndim, shape, condStrides, aStrides, bStrides);
  }
  void reduce(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n, int64_t inner) override {
    k_.reduce(op, out, x, outer, n, inner);
  }
  void softmax(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, bool log) override {
    k_.softmax(y, x, outer, n, inner, log);
  }
  void softmaxBackward(float* dx, const float* dy, const float* y, int64_t outer, int64_t n, int64_t inner,
                       bool log) override {
    k_.softmaxBackward(dx, dy, y, outer, n, inner, log);
  }
  void crossEntropyForward(float* loss, float* logProbs, const float* logits, const int32_t* target, int64_t B,
                           int64_t C, int32_t ignoreIndex, float labelSmoothing) override {
    k_.crossEntropyForward(loss, logProbs, logits, target, B, C, ignoreIndex, labelSmoothing);
  }
  void crossEntropyBackward(float* dlogits, const float* dloss, const float* logProbs, const int32_t* target,
                            int64_t B, int64_t C, int32_t ignoreIndex, float labelSmoothing) override {
    k_.crossEntropyBackward(dlogits, dloss, logProbs, target, B, C, ignoreIndex, labelSmoothing);
  }
  void lstmCellForward(float* gates, float* h, float* c, const float* cPrev, int64_t B, int64_t H) override {
    k_.lstmCellForward(gates, h, c, cPrev, B, H);
  }
  void lstmCellBackward(float* dgates, float* dcPrev, const float* dh, const float* dhRec, const float* dc,
                        const float* dcRec, const float* gates, const float* c, const float* cPrev, int64_t B,
                        int64_t H) override {
    k_.lstmCellBackward(dgates, dcPrev, dh, dhRec, dc, dcRec, gates, c, cPrev, B, H);
  }
  void gruCellForward(float* gates, float* h, const float* hh, const float* hPrev, int64_t B, int64_t H) override {
    k_.gruCellForward(gates, h, hh, hPrev, B, H);
  }
  void gruCellBackward(float* dproj, float* dhh, float* dhPrev, const float* dh, const float* dhRec,
                       const float* gates, const float* hh, const float* hPrev, int64_t B, int64_t H) override {
    k_.gruCellBackward(dproj, dhh, dhPrev, dh, dhRec, gates, hh, hPrev, B, H);
  }
  void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
            int64_t strideC, int64_t batch) override {
    k_.gemm(transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch);
  }
  void indexSelect(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer, int64_t n,
                   int64_t inner, int64_t nIdx) override {
    k_.indexSelect(dt, out, src, idx, outer, n, inner, nIdx);
  }
  void indexAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n, int64_t inner,
                int64_t nIdx) override {
    k_.indexAdd(dst, src, idx, outer, n, inner, nIdx);
  }
  void gather(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer, int64_t n, int64_t inner,
              int64_t k) override {
    k_.gather(dt, out, src, idx, outer, n, inner, k);
  }
  void scatterAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n, int64_t inner,
                  int64_t k) override {
    k_.scatterAdd(dst, src, idx, outer, n, inner, k);
  }
  void im2col(float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW, int sH,
              int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW) override {
    k_.im2col(col, x, N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW);
  }
  void col2im(float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW, int sH,
              int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW) override {
    k_.col2im(dx, col, N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW);
  }
  void maxPool2d(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                 int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW) override {
    k_.maxPool2d(y, argmax, x, N, C, H, W, kH, kW, sH, sW, pH, pW, OH, OW);
  }
  void maxPool2dBackward(float* dx, const float* dy, const int32_t* argmax, int64_t N, int64_t C, int64_t H,
                         int64_t W, int64_t OH, int64_t OW) override {
    k_.maxPool2dBackward(dx, dy, argmax, N, C, H, W, OH, OW);
  }
  void avgPool2d(float* y, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW, int sH,
                 int sW, int pH, int pW, int64_t OH, int64_t OW, bool countIncludePad) override {
    k_.avgPool2d(y, x, N, C, H, W, kH, kW, sH, sW, pH, pW, OH, OW, countIncludePad);
  }
  void avgPool2dBackward(float* dx, const float* dy, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW,
                         int sH, int sW, int pH, int pW, int64_t OH, int64_t OW, bool countIncludePad) override {
    k_.avgPool2dBackward(dx, dy, N, C, H, W, kH, kW, sH, sW, pH, pW, OH, OW, countIncludePad);
  }
  void randomUniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high) override {
    k_.randomUniform(out, n, seed, offset, low, high);
  }
  void randomNormal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) override {
    k_.randomNormal(out, n, seed, offset, mean, std);
  }
  void adamStep(float* p, const float* g, float* m, float* v, float* vMax, int64_t n,
                const AdamParams& hp) override {
    k_.adamStep(p, g, m, v, vMax, n, hp);
  }
  void sgdStep(float* p, const float* g, float* buf, int64_t n, const SgdParams& hp) override {
    k_.sgdStep(p, g, buf, n, hp);
  }

 private:
  const cpu::KernelTable& k_;
};

}  // namespace

Backend* cpuBackend() {
  static CpuBackend* be = new CpuBackend(*cpu::isaChoice().table);
  return be;
}

}  // namespace kiln
