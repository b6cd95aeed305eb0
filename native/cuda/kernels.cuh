// Launchers for the CUDA kernels, one per Backend op, with the same names and argument meanings
// as the Backend methods (native/include/backend.h) plus the device's stream. Every launcher
// checks its launch (common.h). Index-reading kernels take `err`, a device int32 they set to a
// DeviceErrorCode when an index is out of range (the element is then skipped).
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "../include/backend.h"

namespace kiln::cuda {

// Strided view of up to kMaxDims dims, passed to kernels by value.
struct Strided {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
};

// ---- layout.cu ----
void fill(cudaStream_t s, void* dst, DType dt, int64_t n, double value);
void cast(cudaStream_t s, void* dst, DType dstType, const void* src, DType srcType, int64_t n);
void stridedCopy(cudaStream_t s, void* dst, const void* src, int ndim, const int64_t* shape,
                 const int64_t* srcStrides);

// ---- elementwise.cu ----
void unary(cudaStream_t s, UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta);
void unaryBackward(cudaStream_t s, UnaryOp op, float* dx, const float* dy, const float* x,
                   const float* y, int64_t n, float alpha, float beta);
void binary(cudaStream_t s, BinaryOp op, DType dt, void* out, const void* a, const void* b, int ndim,
            const int64_t* shape, const int64_t* aStrides, const int64_t* bStrides);
void where(cudaStream_t s, float* out, const float* cond, const float* a, const float* b, int ndim,
           const int64_t* shape, const int64_t* condStrides, const int64_t* aStrides,
           const int64_t* bStrides);

// ---- lstm.cu ----
void lstmCellForward(cudaStream_t s, float* gates, float* h, float* c, const float* cPrev, int64_t B, int64_t H);
void lstmCellBackward(cudaStream_t s, float* dgates, float* dcPrev, const float* dh, const float* dhRec,
                      const float* dc, const float* dcRec, const float* gates, const float* c, const float* cPrev,
                      int64_t B, int64_t H);

// ---- gru.cu ----
void gruCellForward(cudaStream_t s, float* gates, float* h, const float* hh, const float* hPrev, int64_t B,
                    int64_t H);
void gruCellBackward(cudaStream_t s, float* dproj, float* dhh, float* dhPrev, const float* dh, const float* dhRec,
                     const float* gates, const float* hh, const float* hPrev, int64_t B, int64_t H);

// ---- reduce.cu ----
void reduce(cudaStream_t s, ReduceOp op, void* out, const float* x, int64_t outer, int64_t n,
            int64_t inner);

// ---- softmax_xent.cu ----
void softmax(cudaStream_t s, float* y, const float* x, int64_t outer, int64_t n, int64_t inner, bool log);
void softmaxBackward(cudaStream_t s, float* dx, const float* dy, const float* y, int64_t outer,
                     int64_t n, int64_t inner, bool log);
void crossEntropyForward(cudaStream_t s, int32_t* err, float* loss, float* logProbs,
                         const float* logits, const int32_t* target, int64_t B, int64_t C,
                         int32_t ignoreIndex, float labelSmoothing);
void crossEntropyBackward(cudaStream_t s, int32_t* err, float* dlogits, const float* dloss,
                          const float* logProbs, const int32_t* target, int64_t B, int64_t C,
                          int32_t ignoreIndex, float labelSmoothing);

// ---- gemm.cu (cuBLASLt / cuBLAS calls live in cuda_backend.cu; this is the K == 0 case) ----
// C[i] = beta * C[i] (beta == 0 writes zeros), C row-major M x N with row stride ldc.
void scaleMatrix(cudaStream_t s, float* C, int64_t M, int64_t N, int64_t ldc, int64_t strideC,
                 int64_t batch, float beta);

// ---- index.cu ----
void indexSelect(cudaStream_t s, int32_t* err, void* out, const void* src, const int32_t* idx,
                 int64_t outer, int64_t n, int64_t inner, int64_t nIdx);
void indexAdd(cudaStream_t s, int32_t* err, float* dst, const float* src, const int32_t* idx,
              int64_t outer, int64_t n, int64_t inner, int64_t nIdx);
void gather(cudaStream_t s, int32_t* err, void* out, const void* src, const int32_t* idx,
            int64_t outer, int64_t n, int64_t inner, int64_t k);
void scatterAdd(cudaStream_t s, int32_t* err, float* dst, const float* src, const int32_t* idx,
                int64_t outer, int64_t n, int64_t inner, int64_t k);

// ---- conv.cu ----
void im2col(cudaStream_t s, float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W,
            int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW);
void col2im(cudaStream_t s, float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W,
            int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW);

// ---- pool.cu ----
void maxPool2d(cudaStream_t s, float* y, int32_t* argmax, const float* x, int64_t N, int64_t C,
               int64_t H, int64_t W, int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH,
               int64_t OW);
void maxPool2dBackward(cudaStream_t s, int32_t* err, float* dx, const float* dy,
                       const int32_t* argmax, int64_t N, int64_t C, int64_t H, int64_t W,
                       int64_t OH, int64_t OW);
void avgPool2d(cudaStream_t s, float* y, const float* x, int64_t N, int64_t C, int64_t H, int64_t W,
               int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW,
               bool countIncludePad);
void avgPool2dBackward(cudaStream_t s, float* dx, const float* dy, int64_t N, int64_t C, int64_t H,
                       int64_t W, int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH,
                       int64_t OW, bool countIncludePad);

// ---- random.cu ----
void randomUniform(cudaStream_t s, float* out, int64_t n, uint64_t seed, uint64_t offset, float low,
                   float high);
void randomNormal(cudaStream_t s, float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                  float std);

// ---- optim.cu ----
// stepSize = lr / (1 - beta1^step) and bc2Sqrt = sqrt(1 - beta2^step), computed in double on the host.
void adamStep(cudaStream_t s, float* p, const float* g, float* m, float* v, float* vMax, int64_t n,
              const AdamParams& hp, float stepSize, float bc2Sqrt);
void sgdStep(cudaStream_t s, float* p, const float* g, float* buf, int64_t n, const SgdParams& hp);

}  // namespace kiln::cuda
