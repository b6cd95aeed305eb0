// matmul: float32 through cuBLASLt (cuBLAS as a fallback) through the dlopen'ed table in
// cublas_loader.cc, and ours for C = beta * C when K == 0; float64 through our own tiled kernel
// (shared-memory 16 x 16 tiles: correct, not tuned; cuBLAS's dgemm is not loaded).
#include <climits>
#include <string>

#include "cublas_loader.h"
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

std::string blasStatus(blas::Status s) { return "status " + std::to_string(static_cast<int>(s)); }

// Largest power of two (<= 256) dividing the address and every byte step from it.
uint32_t alignmentOf(const void* p, int64_t ld, int64_t stride, int64_t batch, uint64_t elemBytes) {
  uint64_t bits = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)) | static_cast<uint64_t>(ld) * elemBytes;
  if (batch > 1) bits |= static_cast<uint64_t>(stride) * elemBytes;
  uint32_t a = 256;
  while (a > 4 && (bits & (a - 1)) != 0) a >>= 1;
  return a;
}

}  // namespace

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS sees B first.
// A and B are float32, or bfloat16 (abType CUDA_R_16BF: gemmBf16's packed copies, float32
// accumulation and C). Returns false (nothing enqueued) when cuBLASLt has no algorithm for the problem.
bool gemmLt(DeviceContext& dev, const args::gemm& g, cudaDataType_t abType) {
  const bool transA = g.transA, transB = g.transB;
  const int64_t M = g.M, N = g.N, K = g.K, lda = g.lda, strideA = g.strideA, ldb = g.ldb, strideB = g.strideB;
  const int64_t ldc = g.ldc, strideC = g.strideC, batch = g.batch;
  const float alpha = g.alpha, beta = g.beta;
  const void* A = g.A;
  const void* B = g.B;
  float* C = static_cast<float*>(g.C);
  const CublasLib& L = cublasLib();
  if (!L.ok) throw Error("cuda: gemm: " + L.reason);
  blas::LtHandle h = dev.lt();
  const bool bf16 = abType == CUDA_R_16BF;
  const uint64_t abBytes = bf16 ? 2 : 4;
  bool tf32 = !bf16 && gMatmulPrecision.load(std::memory_order_relaxed) != static_cast<int>(MatmulPrecision::Highest);

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
  ok(L.layoutCreate(&la, abType, aRowsCm, aColsCm, ldb), "layout(B)");
  ok(L.layoutCreate(&lb, abType, bRowsCm, bColsCm, lda), "layout(A)");
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
  void* ws = dev.workspace(&wsBytes);
  uint64_t wsPref = wsBytes;
  uint32_t alA = alignmentOf(B, ldb, strideB, batch, abBytes), alB = alignmentOf(A, lda, strideA, batch, abBytes);
  uint32_t alC = alignmentOf(C, ldc, strideC, batch, 4);
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
  blas::Status ms = L.matmul(h, desc, &alpha, B, la, A, lb, &beta, C, lc, C, lc, &result.algo, ws, wsBytes, dev.stream());
  if (ms == blas::STATUS_SUCCESS) return true;
  // cublasLtMatmul validates before it launches: on a refusal nothing was enqueued.
  if (ms != blas::STATUS_EXECUTION_FAILED && L.sgemmStridedBatched != nullptr) return false;
  throw Error("cuda: gemm: cublasLtMatmul failed with " + blasStatus(ms));
}

namespace {

void gemmClassic(DeviceContext& dev, const args::gemm& g) {
  const bool transA = g.transA, transB = g.transB;
  const int64_t M = g.M, N = g.N, K = g.K, lda = g.lda, strideA = g.strideA, ldb = g.ldb, strideB = g.strideB;
  const int64_t ldc = g.ldc, strideC = g.strideC, batch = g.batch;
  const float alpha = g.alpha, beta = g.beta;
  const float* A = static_cast<const float*>(g.A);
  const float* B = static_cast<const float*>(g.B);
  float* C = static_cast<float*>(g.C);
  const CublasLib& L = cublasLib();
  blas::Handle h = dev.classic();
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


// C[i] = beta * C[i] (beta == 0 writes zeros), C row-major M x N with row stride ldc.
void scaleMatrix(cudaStream_t s, float* C, int64_t M, int64_t N, int64_t ldc, int64_t strideC, int64_t batch,
                 float beta) {
  int64_t total = batch * M * N;
  if (total <= 0) return;
  scaleKernel<<<gridFor(total), kThreads, 0, s>>>(C, M, N, ldc, strideC, batch, beta);
  checkLaunch("gemm(scale, K == 0)");
}

constexpr int kTileD = 16;

// C[b] = alpha op(A[b]) op(B[b]) + beta C[b] in float64, one 16 x 16 tile of C per block.
__global__ void gemmF64Kernel(bool tA, bool tB, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
                              int64_t lda, int64_t sA, const double* B, int64_t ldb, int64_t sB, double beta, double* C,
                              int64_t ldc, int64_t sC, int64_t batch) {
  __shared__ double As[kTileD][kTileD + 1], Bs[kTileD][kTileD + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t b = blockIdx.z; b < batch; b += gridDim.z) {
    const double* Ab = A + b * sA;
    const double* Bb = B + b * sB;
    double* Cb = C + b * sC;
    for (int64_t rowTile = blockIdx.y; rowTile * kTileD < M; rowTile += gridDim.y) {
      const int64_t i = rowTile * kTileD + ty, j = static_cast<int64_t>(blockIdx.x) * kTileD + tx;
      double acc = 0.0;
      for (int64_t k0 = 0; k0 < K; k0 += kTileD) {
        const int64_t ka = k0 + tx, kb = k0 + ty;
        As[ty][tx] = (i < M && ka < K) ? (tA ? Ab[ka * lda + i] : Ab[i * lda + ka]) : 0.0;
        Bs[ty][tx] = (kb < K && j < N) ? (tB ? Bb[j * ldb + kb] : Bb[kb * ldb + j]) : 0.0;
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < kTileD; ++kk) acc += As[ty][kk] * Bs[kk][tx];
        __syncthreads();
      }
      if (i < M && j < N) {
        double* c = Cb + i * ldc + j;
        *c = alpha * acc + (beta == 0.0 ? 0.0 : beta * *c);
      }
    }
  }
}

void gemmF64(DeviceContext& dev, const args::gemm& a) {
  dim3 block(kTileD, kTileD);
  int64_t rowTiles = (a.M + kTileD - 1) / kTileD, colTiles = (a.N + kTileD - 1) / kTileD;
  if (colTiles > INT_MAX) throw Error("cuda: gemm: N is too large for the float64 kernel");
  dim3 grid(static_cast<unsigned>(colTiles), static_cast<unsigned>(rowTiles < 65535 ? rowTiles : 65535),
            static_cast<unsigned>(a.batch < 65535 ? a.batch : 65535));
  const bool ordered = a.strideC == 0 && a.batch > 1;  // items accumulate into one C: run them in order
  for (int64_t i = 0; i < (ordered ? a.batch : 1); ++i) {
    gemmF64Kernel<<<ordered ? dim3(grid.x, grid.y, 1) : grid, block, 0, dev.stream()>>>(
        a.transA, a.transB, a.M, a.N, a.K, a.alpha, static_cast<const double*>(a.A) + i * a.strideA, a.lda,
        ordered ? 0 : a.strideA, static_cast<const double*>(a.B) + i * a.strideB, a.ldb, ordered ? 0 : a.strideB,
        a.beta, static_cast<double*>(a.C), a.ldc, ordered ? 0 : a.strideC, ordered ? 1 : a.batch);
    checkLaunch("gemm(float64)");
  }
}

}  // namespace

void gemm(DeviceContext& dev, const args::gemm& a) {
  if (a.M <= 0 || a.N <= 0 || a.batch <= 0) return;
  if (a.AType == DType::F64) return gemmF64(dev, a);
  if (a.K <= 0) {
    scaleMatrix(dev.stream(), static_cast<float*>(a.C), a.M, a.N, a.ldc, a.strideC, a.batch, a.beta);
    return;
  }
  if (a.strideC == 0 && a.batch > 1) {
    // Every item writes the same C: run them in order, as a loop over the batch would.
    for (int64_t i = 0; i < a.batch; ++i) {
      args::gemm one = a;
      one.A = static_cast<const float*>(a.A) + i * a.strideA;
      one.B = static_cast<const float*>(a.B) + i * a.strideB;
      one.strideA = one.strideB = 0;
      one.batch = 1;
      gemm(dev, one);
    }
    return;
  }
  if (a.batch > INT_MAX) throw Error("cuda: gemm: batch count exceeds 2^31 - 1");
  if (!gemmLt(dev, a, CUDA_R_32F)) gemmClassic(dev, a);
}

}  // namespace kiln::cuda
