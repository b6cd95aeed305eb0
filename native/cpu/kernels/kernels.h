// CPU kernels compiled once per instruction set (portable, avx2, avx512) from the same sources.
//
// Each file in this folder is built three times with different -m flags and
// -DKILN_ISA_NS=portable|avx2|avx512, so every symbol lives in kiln::cpu::<isa>. The files use no
// STL and throw nothing: an inline STL function compiled with AVX-512 flags could be the copy
// the linker keeps for the portable path. Validation happens in cpu_backend.cc, which picks one
// table at start (CPUID, or KILN_CPU=portable|avx2|avx512) and forwards the Backend methods.
#pragma once
#include <cstdint>

#include "../../include/backend.h"

namespace kiln::cpu {

// Function pointers with the same meaning as the Backend methods of the same name.
struct KernelTable {
  const char* isa;
  void (*fill)(void* dst, DType dt, int64_t n, double value);
  void (*cast)(void* dst, DType dstType, const void* src, DType srcType, int64_t n);
  void (*stridedCopy)(void* dst, const void* src, DType dt, int ndim, const int64_t* shape,
                      const int64_t* srcStrides);
  void (*unary)(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta);
  void (*unaryBackward)(UnaryOp op, float* dx, const float* dy, const float* x, const float* y,
                        int64_t n, float alpha, float beta);
  void (*binary)(BinaryOp op, DType dt, void* out, const void* a, const void* b, int ndim,
                 const int64_t* shape, const int64_t* aStrides, const int64_t* bStrides);
  void (*where)(float* out, const float* cond, const float* a, const float* b, int ndim,
                const int64_t* shape, const int64_t* condStrides, const int64_t* aStrides,
                const int64_t* bStrides);
  void (*reduce)(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n, int64_t inner);
  void (*softmax)(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, bool log);
  void (*softmaxBackward)(float* dx, const float* dy, const float* y, int64_t outer, int64_t n,
                          int64_t inner, bool log);
  void (*crossEntropyForward)(float* loss, float* logProbs, const float* logits,
                              const int32_t* target, int64_t B, int64_t C, int32_t ignoreIndex,
                              float labelSmoothing);
  void (*crossEntropyBackward)(float* dlogits, const float* dloss, const float* logProbs,
                               const int32_t* target, int64_t B, int64_t C, int32_t ignoreIndex,
                               float labelSmoothing);
  void (*lstmCellForward)(float* gates, float* h, float* c, const float* cPrev, int64_t B,
                          int64_t H);
  void (*lstmCellBackward)(float* dgates, float* dcPrev, const float* dh, const float* dhRec,
                           const float* dc, const float* dcRec, const float* gates,
                           const float* c, const float* cPrev, int64_t B, int64_t H);
  void (*gruCellForward)(float* gates, float* h, const float* hh, const float* hPrev, int64_t B,
                         int64_t H);
  void (*gruCellBackward)(float* dproj, float* dhh, float* dhPrev, const float* dh,
                          const float* dhRec, const float* gates, const float* hh,
                          const float* hPrev, int64_t B, int64_t H);
  void (*gemm)(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
               const float* A, int64_t lda, int64_t strideA, const float* B, int64_t ldb,
               int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC, int64_t batch);
  void (*indexSelect)(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer,
                      int64_t n, int64_t inner, int64_t nIdx);
  void (*indexAdd)(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n,
                   int64_t inner, int64_t nIdx);
  void (*gather)(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer,
                 int64_t n, int64_t inner, int64_t k);
  void (*scatterAdd)(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n,
                     int64_t inner, int64_t k);
  void (*im2col)(float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                 int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW);
  void (*col2im)(float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                 int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW);
  void (*maxPool2d)(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H,
                    int64_t W, int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH,
                    int64_t OW);
  void (*maxPool2dBackward)(float* dx, const float* dy, const int32_t* argmax, int64_t N,
                            int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW);
  void (*avgPool2d)(float* y, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                    int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW,
                    bool countIncludePad);
  void (*avgPool2dBackward)(float* dx, const float* dy, int64_t N, int64_t C, int64_t H,
                            int64_t W, int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH,
                            int64_t OW, bool countIncludePad);
  void (*randomUniform)(float* out, int64_t n, uint64_t seed, uint64_t offset, float low,
                        float high);
  void (*randomNormal)(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                       float std);
  void (*adamStep)(float* p, const float* g, float* m, float* v, float* vMax, int64_t n,
                   const AdamParams& hp);
  void (*sgdStep)(float* p, const float* g, float* buf, int64_t n, const SgdParams& hp);
};

// One table per instruction set, filled in kernels/table.cc.
namespace portable { const KernelTable& kernelTable(); }
namespace avx2 { const KernelTable& kernelTable(); }
namespace avx512 { const KernelTable& kernelTable(); }

}  // namespace kiln::cpu
