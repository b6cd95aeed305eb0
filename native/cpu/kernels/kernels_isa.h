// Declarations of every CPU kernel, compiled once per instruction set into
// kiln::cpu::KILN_ISA_NS (see kernels.h). table.cc gathers them into a KernelTable.
// Also the few tiny helpers the kernel files share; they live in the ISA namespace so no copy
// compiled with AVX-512 flags can be picked for the portable path.
#pragma once
#include <cstdint>

#include "../thread_pool.h"
#include "kernels.h"

#ifndef KILN_ISA_NS
#error "KILN_ISA_NS must be defined (portable, avx2 or avx512)"
#endif

namespace kiln::cpu::KILN_ISA_NS {

// ---- shared helpers ----
// Elementwise work per thread chunk: below ~16K elements a dispatch costs more than it saves.
constexpr int64_t kElemGrain = 16384;
inline int64_t minI64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t maxI64(int64_t a, int64_t b) { return a > b ? a : b; }
// Rows per chunk so a chunk holds about kElemGrain elements.
inline int64_t rowGrain(int64_t rowLen) { return maxI64(1, kElemGrain / maxI64(1, rowLen)); }

// ---- layout.cc ----
void fill(void* dst, DType dt, int64_t n, double value);
void cast(void* dst, DType dstType, const void* src, DType srcType, int64_t n);
void stridedCopy(void* dst, const void* src, DType dt, int ndim, const int64_t* shape,
                 const int64_t* srcStrides);

// ---- elementwise.cc ----
void unary(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta);
void unaryBackward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y,
                   int64_t n, float alpha, float beta);
void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, int ndim,
            const int64_t* shape, const int64_t* aStrides, const int64_t* bStrides);
void where(float* out, const float* cond, const float* a, const float* b, int ndim,
           const int64_t* shape, const int64_t* condStrides, const int64_t* aStrides,
           const int64_t* bStrides);

// ---- reduce.cc ----
void reduce(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n, int64_t inner);

// ---- softmax_xent.cc ----
void softmax(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, bool log);
void softmaxBackward(float* dx, const float* dy, const float* y, int64_t outer, int64_t n,
                     int64_t inner, bool log);
void crossEntropyForward(float* loss, float* logProbs, const float* logits, const int32_t* target,
                         int64_t B, int64_t C, int32_t ignoreIndex, float labelSmoothing);
void crossEntropyBackward(float* dlogits, const float* dloss, const float* logProbs,
                          const int32_t* target, int64_t B, int64_t C, int32_t ignoreIndex,
                          float labelSmoothing);

// ---- lstm.cc ----
void lstmCellForward(float* gates, float* h, float* c, const float* cPrev, int64_t B, int64_t H);
void lstmCellBackward(float* dgates, float* dcPrev, const float* dh, const float* dhRec,
                      const float* dc, const float* dcRec, const float* gates, const float* c,
                      const float* cPrev, int64_t B, int64_t H);

// ---- gru.cc ----
void gruCellForward(float* gates, float* h, const float* hh, const float* hPrev, int64_t B, int64_t H);
void gruCellBackward(float* dproj, float* dhh, float* dhPrev, const float* dh, const float* dhRec,
                     const float* gates, const float* hh, const float* hPrev, int64_t B, int64_t H);

// ---- gemm.cc ----
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, int64_t strideA, const float* B, int64_t ldb, int64_t strideB, float beta,
          float* C, int64_t ldc, int64_t strideC, int64_t batch);

// ---- index.cc ----
void indexSelect(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer,
                 int64_t n, int64_t inner, int64_t nIdx);
void indexAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n,
              int64_t inner, int64_t nIdx);
void gather(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer, int64_t n,
            int64_t inner, int64_t k);
void scatterAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n,
                int64_t inner, int64_t k);

// ---- conv.cc ----
void im2col(float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
            int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW);
void col2im(float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
            int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW);

// ---- pool.cc ----
void maxPool2d(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H,
               int64_t W, int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW);
void maxPool2dBackward(float* dx, const float* dy, const int32_t* argmax, int64_t N, int64_t C,
                       int64_t H, int64_t W, int64_t OH, int64_t OW);
void avgPool2d(float* y, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
               int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW,
               bool countIncludePad);
void avgPool2dBackward(float* dx, const float* dy, int64_t N, int64_t C, int64_t H, int64_t W,
                       int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW,
                       bool countIncludePad);

// ---- random.cc ----
void randomUniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low, float high);
void randomNormal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean, float std);

// ---- optim.cc ----
void adamStep(float* p, const float* g, float* m, float* v, float* vMax, int64_t n,
              const AdamParams& hp);
void sgdStep(float* p, const float* g, float* buf, int64_t n, const SgdParams& hp);

}  // namespace kiln::cpu::KILN_ISA_NS
