// kiln::Backend on one CUDA device: memory through the caching allocator, every op on the
// device's one stream (asynchronous; the host waits only in copyToHost and synchronize), matmul
// through cuBLASLt (cuBLAS as a fallback), the rest through the launchers in kernels.cuh.
#include "cuda_backend.h"

#include <cmath>
#include <climits>
#include <memory>
#include <mutex>
#include <string>

#include "common.h"
#include "context.h"
#include "cublas_loader.h"
#include "kernels.cuh"

namespace kiln::cuda {
namespace {

std::string blasStatus(blas::Status s) { return "status " + std::to_string(static_cast<int>(s)); }

// Largest power of two (<= 256) dividing the address and every byte step from it.
uint32_t alignmentOf(const void* p, int64_t ld, int64_t stride, int64_t batch) {
  uint64_t bits = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)) | static_cast<uint64_t>(ld) * 4u;
  if (batch > 1) bits |= static_cast<uint64_t>(stride) * 4u;
  uint32_t a = 256;
  while (a > 4 && (bits & (a - 1)) != 0) a >>= 1;
  return a;
}

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : ctx_(device) {
    name_ = "cuda:" + std::to_string(device);
  }

  const char* name() const override { return name_.c_str(); }

  // ---- memory ----
  void* alloc(size_t bytes) override {
    ctx_.activate();
    return ctx_.allocator().alloc(bytes);
  }
  void release(void* p) override {
    // Stream-ordered reuse: the block goes back to the cache, no sync needed (allocator.h).
    ctx_.allocator().release(p);
  }
  void copyFromHost(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    ctx_.activate();
    KILN_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s()));
  }
  void copyToHost(void* dst, const void* src, size_t bytes) override {
    ctx_.activate();
    if (bytes != 0) KILN_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s()));
    ctx_.sync();
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0 || dst == src) return;
    ctx_.activate();
    KILN_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s()));
  }
  void synchronize() override {
    ctx_.activate();
    ctx_.sync();
  }

  // ---- fill, cast, layout ----
  void fill(void* dst, DType dt, int64_t n, double value) override {
    ctx_.activate();
    cuda::fill(s(), dst, dt, n, value);
  }
  void cast(void* dst, DType dstType, const void* src, DType srcType, int64_t n) override {
    ctx_.activate();
    cuda::cast(s(), dst, dstType, src, srcType, n);
  }
  void stridedCopy(void* dst, const void* src, DType, int ndim, const int64_t* shape,
                   const int64_t* srcStrides) override {
    ctx_.activate();
    cuda::stridedCopy(s(), dst, src, ndim, shape, srcStrides);
  }

  // ---- elementwise ----
  void unary(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta) override {
    ctx_.activate();
    cuda::unary(s(), op, y, x, n, alpha, beta);
  }
  void unaryBackward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y, int64_t n,
                     float alpha, float beta) override {
    ctx_.activate();
    cuda::unaryBackward(s(), op, dx, dy, x, y, n, alpha, beta);
  }
  void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, int ndim, const int64_t* shape,
              const int64_t* aStrides, const int64_t* bStrides) override {
    ctx_.activate();
    cuda::binary(s(), op, dt, out, a, b, ndim, shape, aStrides, bStrides);
  }
  void where(float* out, const float* cond, const float* a, const float* b, int ndim, const int64_t* shape,
             const int64_t* condStrides, const int64_t* aStrides, const int64_t* bStrides) override {
    ctx_.activate();
    cuda::where(s(), out, cond, a, b, ndim, shape, condStrides, aStrides, bStrides);
  }

  // ---- reductions, softmax, cross-entropy ----
  void reduce(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n, int64_t inner) override {
    ctx_.activate();
    cuda::reduce(s(), op, out, x, outer, n, inner);
  }
  void softmax(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, bool log) override {
    ctx_.activate();
    cuda::softmax(s(), y, x, outer, n, inner, log);
  }
  void softmaxBackward(float* dx, const float* dy, const float* y, int64_t outer, int64_t n, int64_t inner,
                       bool log) override {
    ctx_.activate();
    cuda::softmaxBackward(s(), dx, dy, y, outer, n, inner, log);
  }
  void crossEntropyForward(float* loss, float* logProbs, const float* logits, const int32_t* target, int64_t B,
                           int64_t C, int32_t ignoreIndex, float labelSmoothing) override {
    ctx_.activate();
    cuda::crossEntropyForward(s(), ctx_.errorWord(), loss, logProbs, logits, target, B, C, ignoreIndex,
                              labelSmoothing);
  }
  void lstmCellForward(float* gates, float* h, float* c, const float* cPrev, int64_t B, int64_t H) override {
    ctx_.activate();
    cuda::lstmCellForward(s(), gates, h, c, cPrev, B, H);
  }
  void lstmCellBackward(float* dgates, float* dcPrev, const float* dh, const float* dhRec, const float* dc,
                        const float* dcRec, const float* gates, const float* c, const float* cPrev, int64_t B,
                        int64_t H) override {
    ctx_.activate();
    cuda::lstmCellBackward(s(), dgates, dcPrev, dh, dhRec, dc, dcRec, gates, c, cPrev, B, H);
  }
  void gruCellForward(float* gates, float* h, const float* hh, const float* hPrev, int64_t B, int64_t H) override {
    ctx_.activate();
    cuda::gruCellForward(s(), gates, h, hh, hPrev, B, H);
  }
  void gruCellBackward(float* dproj, float* dhh, float* dhPrev, const float* dh, const float* dhRec,
                       const float* gates, const float* hh, const float* hPrev, int64_t B, int64_t H) override {
    ctx_.activate();
    cuda::gruCellBackward(s(), dproj, dhh, dhPrev, dh, dhRec, gates, hh, hPrev, B, H);
  }
  void crossEntropyBackward(float* dlogits, const float* dloss, const float* logProbs, const int32_t* target,
                            int64_t B, int64_t C, int32_t ignoreIndex, float labelSmoothing) override {
    ctx_.activate();
    cuda::crossEntropyBackward(s(), ctx_.errorWord(), dlogits, dloss, logProbs, target, B, C, ignoreIndex,
                               labelSmoothing);
  }

  // ---- matmul ----
  void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
            int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
            int64_t strideC, int64_t batch) override {
    if (M <= 0 || N <= 0 || batch <= 0) return;
    ctx_.activate();
    if (K <= 0) {
      cuda::scaleMatrix(s(), C, M, N, ldc, strideC, batch, beta);
      return;
    }
    if (strideC == 0 && batch > 1) {
      // Every item writes the same C: run them in order, as a loop over the batch would.
      for (int64_t i = 0; i < batch; ++i) {
        gemm(transA, transB, M, N, K, alpha, A + i * strideA, lda, 0, B + i * strideB, ldb, 0, beta, C, ldc, 0, 1);
      }
      return;
    }
    if (batch > INT_MAX) throw Error("cuda: gemm: batch count exceeds 2^31 - 1");
    if (!gemmLt(transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch)) {
      gemmClassic(transA, transB, M, N, K, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch);
    }
  }

  // ---- indexing ----
  void indexSelect(DType, void* out, const void* src, const int32_t* idx, int64_t outer, int64_t n,
                   int64_t inner, int64_t nIdx) override {
    ctx_.activate();
    cuda::indexSelect(s(), ctx_.errorWord(), out, src, idx, outer, n, inner, nIdx);
  }
  void indexAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n, int64_t inner,
                int64_t nIdx) override {
    ctx_.activate();
    cuda::indexAdd(s(), ctx_.errorWord(), dst, src, idx, outer, n, inner, nIdx);
  }
  void gather(DType, void* out, const void* src, const int32_t* idx, int64_t outer, int64_t n, int64_t inner,
              int64_t k) override {
    ctx_.activate();
    cuda::gather(s(), ctx_.errorWord(), out, src, idx, outer, n, inner, k);
  }
  void scatterAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n, int64_t inner,
                  int64_t k) override {
    ctx_.activate();
    cuda::scatterAdd(s(), ctx_.errorWord(), dst, src, idx, outer, n, inner, k);
  }

  // ---- convolution helpers, pooling ----
  void im2col(float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW, int sH,
              int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW) override {
    ctx_.activate();
    cuda::im2col(s(), col, x, N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW);
  }
  void col2im(float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW, int sH,
              int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW) override {
    ctx_.activate();
    cuda::col2im(s(), dx, col, N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW);
  }
  void maxPool2d(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                 int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW) override {
    ctx_.activate();
    cuda::maxPool2d(s(), y, argmax, x, N, C, H, W, kH, kW, sH, sW, pH, pW, OH, OW);
  }
  void maxPool2dBackward(float* dx, const float* dy, const int32_t* argmax, int64_t N, int64_t C, int64_t H,
                         int64_t W, int64_t OH, int64_t OW) override {
    ctx_.activate();
    cuda::maxPool2dBackward(s(), ctx_.errorWord(), dx, dy, argmax, N, C, H, W, OH, OW);
  }
  void avgPool2d(float* y, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW, int sH,
                 int sW, int pH, int pW, int64_t OH, int64_t OW, bool countIncludePad) override {
    ctx_.activate();
    cuda::avgPool2d(s(), y, x, N, C, H, W, kH, kW, sH, sW, pH, pW, OH, OW, countIncludePad);
  }
  void avgPool2dBackward(float* dx, const float* dy, int64_t N, int64_t C, int64_t H, int64_t W, int kH, int kW,
                         int sH, int sW, int pH, int pW, int64_t OH, int64_t OW, bool countIncludePad) override {
    ctx_.activate();
    cuda::avgPool2dBackward(s(), dx, dy, N, C, H, W, kH, kW, sH, sW, pH, pW, OH, OW, countIncludePad);
  }

  // ---- random ----
  void randomUniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high) override {
    ctx_.activate();
    cuda::randomUniform(s(), out, n, seed, offset, low, high);
  }
  void randomNormal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std) override {
    ctx_.activate();
    cuda::randomNormal(s(), out, n, seed, offset, mean, std);
  }

  // ---- optimizers ----
  void adamStep(float* p, const float* g, float* m, float* v, float* vMax, int64_t n,
                const AdamParams& hp) override {
    if (hp.step < 1) throw Error("cuda: adamStep: step must be >= 1");
    ctx_.activate();
    double bc1 = 1.0 - std::pow(static_cast<double>(hp.beta1), static_cast<double>(hp.step));
    double bc2 = 1.0 - std::pow(static_cast<double>(hp.beta2), static_cast<double>(hp.step));
    float stepSize = static_cast<float>(static_cast<double>(hp.lr) / bc1);
    float bc2Sqrt = static_cast<float>(std::sqrt(bc2));
    cuda::adamStep(s(), p, g, m, v, vMax, n, hp, stepSize, bc2Sqrt);
  }
  void sgdStep(float* p, const float* g, float* buf, int64_t n, const SgdParams& hp) override {
    ctx_.activate();
    cuda::sgdStep(s(), p, g, buf, n, hp);
  }

 private:
  cudaStream_t s() const { return ctx_.stream(); }

  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS sees B first.
  // Returns false (nothing enqueued) when cuBLASLt has no algorithm for the problem.
  bool gemmLt(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, float* C, int64_t ldc,
              int64_t strideC, int64_t batch) {
    const CublasLib& L = cublasLib();
    if (!L.ok) throw Error("cuda: gemm: " + L.reason);
    blas::LtHandle h = ctx_.lt();
    bool tf32 = gMatmulPrecision.load(std::memory_order_relaxed) != static_cast<int>(MatmulPrecision::Highest);

    blas::LtMatmulDesc desc = nullptr;
    blas::LtMatrixLayout la = nullptr, lb = nullptr, lc = nullptr;
    blas::LtMatmulPreference pref = nullptr;
    struct Cleanup {
      const CublasLib& L;
      blas::LtMatmulDesc& d;
      blas::LtMatrixLayout &a, &b, &c;
      blas::LtMatmulPreference& p;
      ~Cleanup() {
        if (p) L.prefDestroy(p);
        if (c) L.layoutDestroy(c);
        if (b) L.layoutDestroy(b);
        if (a) L.layoutDestroy(a);
        if (d) L.matmulDescDestroy(d);
      }
    } cleanup{L, desc, la, lb, lc, pref};

    auto ok = [](blas::Status st, const char* what) {
      if (st != blas::STATUS_SUCCESS) throw Error(std::string("cuda: gemm: ") + what + " failed with " + blasStatus(st));
    };
    ok(L.matmulDescCreate(&desc, tf32 ? blas::COMPUTE_32F_FAST_TF32 : blas::COMPUTE_32F, CUDA_R_32F),
       "cublasLtMatmulDescCreate");
    int32_t opFirst = transB ? blas::OP_T : blas::OP_N;   // cuBLAS's A is our B
    int32_t opSecond = transA ? blas::OP_T : blas::OP_N;  // cuBLAS's B is our A
    ok(L.matmulDescSetAttribute(desc, blas::LT_MATMUL_DESC_TRANSA, &opFirst, sizeof(opFirst)), "set TRANSA");
    ok(L.matmulDescSetAttribute(desc, blas::LT_MATMUL_DESC_TRANSB, &opSecond, sizeof(opSecond)), "set TRANSB");

    // Stored (column-major) shapes: our B as stored is bCols x bRows with ld ldb, etc.
    uint64_t aRowsCm = transB ? K : N, aColsCm = transB ? N : K;
    uint64_t bRowsCm = transA ? M : K, bColsCm = transA ? K : M;
    ok(L.layoutCreate(&la, CUDA_R_32F, aRowsCm, aColsCm, ldb), "layout(B)");
    ok(L.layoutCreate(&lb, CUDA_R_32F, bRowsCm, bColsCm, lda), "layout(A)");
    ok(L.layoutCreate(&lc, CUDA_R_32F, static_cast<uint64_t>(N), static_cast<uint64_t>(M), ldc), "layout(C)");
    if (batch > 1) {
      int32_t count = static_cast<int32_t>(batch);
      int64_t sA = strideB, sB = strideA, sC = strideC;
      ok(L.layoutSetAttribute(la, blas::LT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)), "batch count");
      ok(L.layoutSetAttribute(lb, blas::LT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)), "batch count");
      ok(L.layoutSetAttribute(lc, blas::LT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)), "batch count");
      ok(L.layoutSetAttribute(la, blas::LT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &sA, sizeof(sA)), "batch stride");
      ok(L.layoutSetAttribute(lb, blas::LT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &sB, sizeof(sB)), "batch stride");
      ok(L.layoutSetAttribute(lc, blas::LT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &sC, sizeof(sC)), "batch stride");
    }

    size_t wsBytes = 0;
    void* ws = ctx_.workspace(&wsBytes);
    uint64_t wsPref = wsBytes;
    uint32_t alA = alignmentOf(B, ldb, strideB, batch), alB = alignmentOf(A, lda, strideA, batch);
    uint32_t alC = alignmentOf(C, ldc, strideC, batch);
    ok(L.prefCreate(&pref), "cublasLtMatmulPreferenceCreate");
    ok(L.prefSetAttribute(pref, blas::LT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsPref, sizeof(wsPref)), "workspace");
    ok(L.prefSetAttribute(pref, blas::LT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alA, sizeof(alA)), "alignment A");
    ok(L.prefSetAttribute(pref, blas::LT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alB, sizeof(alB)), "alignment B");
    ok(L.prefSetAttribute(pref, blas::LT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alC, sizeof(alC)), "alignment C");
    ok(L.prefSetAttribute(pref, blas::LT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alC, sizeof(alC)), "alignment D");

    blas::LtMatmulHeuristicResult result{};
    int found = 0;
    blas::Status hs = L.algoGetHeuristic(h, desc, la, lb, lc, lc, pref, 1, &result, &found);
    if (hs != blas::STATUS_SUCCESS || found == 0) {
      if (L.sgemmStridedBatched != nullptr) return false;
      throw Error("cuda: gemm: cuBLASLt has no algorithm for M=" + std::to_string(M) + " N=" + std::to_string(N) +
                  " K=" + std::to_string(K) + " (" + blasStatus(hs) + ") and libcublas was not found");
    }
    blas::Status ms = L.matmul(h, desc, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &result.algo, ws, wsBytes, s());
    if (ms == blas::STATUS_SUCCESS) return true;
    // cublasLtMatmul validates before it launches: on a refusal nothing was enqueued.
    if (ms != blas::STATUS_EXECUTION_FAILED && L.sgemmStridedBatched != nullptr) return false;
    throw Error("cuda: gemm: cublasLtMatmul failed with " + blasStatus(ms));
  }

  void gemmClassic(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                   int64_t lda, int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta, float* C,
                   int64_t ldc, int64_t strideC, int64_t batch) {
    const CublasLib& L = cublasLib();
    blas::Handle h = ctx_.classic();
    if (h == nullptr) throw Error("cuda: gemm: libcublas is not available for the fallback path");
    for (int64_t v : {M, N, K, lda, ldb, ldc}) {
      if (v > INT_MAX) throw Error("cuda: gemm: a dimension exceeds 2^31 - 1");
    }
    bool tf32 = gMatmulPrecision.load(std::memory_order_relaxed) != static_cast<int>(MatmulPrecision::Highest);
    blas::Status st = L.setMathMode(h, tf32 ? blas::TF32_TENSOR_OP_MATH : blas::DEFAULT_MATH);
    if (st != blas::STATUS_SUCCESS) throw Error("cuda: cublasSetMathMode failed with " + blasStatus(st));
    st = L.sgemmStridedBatched(h, transB ? blas::OP_T : blas::OP_N, transA ? blas::OP_T : blas::OP_N,
                               static_cast<int>(N), static_cast<int>(M), static_cast<int>(K), &alpha, B,
                               static_cast<int>(ldb), strideB, A, static_cast<int>(lda), strideA, &beta, C,
                               static_cast<int>(ldc), strideC, static_cast<int>(batch));
    if (st != blas::STATUS_SUCCESS) throw Error("cuda: cublasSgemmStridedBatched failed with " + blasStatus(st));
  }

  DeviceContext ctx_;
  std::string name_;
};

}  // namespace

Backend* backendForDevice(int device) {
  static std::mutex mu;
  static CudaBackend* backends[kMaxDevices] = {};
  if (device < 0 || device >= kMaxDevices - 1) throw Error("cuda: device index out of range");
  std::lock_guard<std::mutex> lock(mu);
  if (backends[device] == nullptr) backends[device] = new CudaBackend(device);
  return backends[device];
}

}  // namespace kiln::cuda
