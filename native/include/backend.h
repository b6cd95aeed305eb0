// The one interface both backends implement (CPU in native/cpu, CUDA in native/cuda).
//
// Conventions, for every method:
// - Pointers are device pointers of this backend, already advanced to the first element.
// - Outputs are contiguous (row-major) unless a stride is given; outputs never alias inputs
//   unless the method says so.
// - "[outer, n, inner]" means the op works on the middle axis of a contiguous tensor viewed as
//   those three dims: reducing/indexing dim d of shape S gives outer = prod(S[:d]), n = S[d],
//   inner = prod(S[d+1:]).
// - Strides are in elements; a stride of 0 broadcasts that dim.
// - Bad arguments throw kiln::Error (status.h); the JS front end validates first, so a throw here
//   is a second line of defence, never the user's first message.
// - A backend that lacks an op throws kiln::Error("<backend>: <op> is not implemented").
#pragma once
#include <cstdint>

#include "dtype.h"
#include "status.h"

namespace kiln {

// Values match src/native.ts.
enum class UnaryOp : int32_t {
  Neg = 0, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Relu, Sigmoid, Tanh,
  Gelu,        // exact (erf) form, PyTorch's default
  LeakyRelu,   // alpha = negative slope
  Clamp,       // alpha = min, beta = max (either may be +-inf)
  PowScalar,   // x ** alpha
  AddScalar,   // x + alpha
  MulScalar,   // x * alpha
  Square, Reciprocal, Sin, Cos,
  RSubScalar,  // alpha - x
  Count
};

enum class BinaryOp : int32_t {
  Add = 0, Sub, Mul, Div, Pow, Max, Min,
  Eq, Ne, Gt, Ge, Lt, Le,  // comparisons write F32 1/0
  Count
};

enum class ReduceOp : int32_t { Sum = 0, Mean, Max, Min, ArgMax, ArgMin, Count };

// Hyperparameters are doubles, as PyTorch's Python scalars: 1 - beta2 must be formed before
// rounding to float (1 - float(0.999) is 1.3e-5 off).
struct AdamParams {
  double lr, beta1, beta2, eps, weightDecay;
  int64_t step;     // 1-based step count after this update
  bool decoupled;   // AdamW: p -= lr * wd * p instead of g += wd * p
  bool amsgrad;     // uses vMax
  bool maximize;
};

struct SgdParams {
  double lr, momentum, dampening, weightDecay;
  bool nesterov;
  bool firstStep;  // momentum buffer is initialised to the gradient on the first step
  bool maximize;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // ---- memory ----
  virtual void* alloc(size_t bytes) = 0;  // throws kiln::Error when out of memory
  virtual void release(void* p) = 0;
  virtual void copyFromHost(void* dst, const void* src, size_t bytes) = 0;
  virtual void copyToHost(void* dst, const void* src, size_t bytes) = 0;  // waits for the data
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;        // within this device
  virtual void synchronize() = 0;

  // ---- fill, cast, layout ----
  virtual void fill(void* dst, DType dt, int64_t n, double value) = 0;
  virtual void cast(void* dst, DType dstType, const void* src, DType srcType, int64_t n) = 0;
  // dst (contiguous, shape) = src viewed with srcStrides.
  virtual void stridedCopy(void* dst, const void* src, DType dt, int ndim, const int64_t* shape,
                           const int64_t* srcStrides) = 0;

  // ---- elementwise (F32) ----
  virtual void unary(UnaryOp op, float* y, const float* x, int64_t n, float alpha, float beta) = 0;
  // dx = dy * f'(x); ops whose derivative reads the output (Exp, Sqrt, Rsqrt, Sigmoid, Tanh)
  // use y, the rest use x. Either pointer may be null when the op does not read it.
  virtual void unaryBackward(UnaryOp op, float* dx, const float* dy, const float* x, const float* y,
                             int64_t n, float alpha, float beta) = 0;
  // out (contiguous, shape) = a op b with broadcasting. dt is the dtype of a and b (F32, or I32
  // for Add/Sub/Mul/Max/Min and comparisons). Arithmetic writes dt; comparisons write F32.
  virtual void binary(BinaryOp op, DType dt, void* out, const void* a, const void* b, int ndim,
                      const int64_t* shape, const int64_t* aStrides, const int64_t* bStrides) = 0;
  // out = cond != 0 ? a : b, all F32, broadcasting.
  virtual void where(float* out, const float* cond, const float* a, const float* b, int ndim,
                     const int64_t* shape, const int64_t* condStrides, const int64_t* aStrides,
                     const int64_t* bStrides) = 0;

  // ---- reductions over [outer, n, inner] -> [outer, inner] (F32 in; ArgMax/ArgMin write I32) ----
  virtual void reduce(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n,
                      int64_t inner) = 0;

  // ---- softmax over [outer, n, inner] ----
  virtual void softmax(float* y, const float* x, int64_t outer, int64_t n, int64_t inner,
                       bool log) = 0;
  virtual void softmaxBackward(float* dx, const float* dy, const float* y, int64_t outer, int64_t n,
                               int64_t inner, bool log) = 0;

  // ---- fused softmax cross-entropy, logits [B, C], target I32 [B] ----
  // loss[b] = -(1-ls) * logp[b, t] - ls/C * sum_c logp[b, c]  (0 where t == ignoreIndex)
  // logProbs (B x C) is written for the backward pass.
  virtual void crossEntropyForward(float* loss, float* logProbs, const float* logits,
                                   const int32_t* target, int64_t B, int64_t C, int32_t ignoreIndex,
                                   float labelSmoothing) = 0;
  // dlogits[b, c] = dloss[b] * (exp(logp[b, c]) - (1-ls) * [c == t] - ls/C)  (0 rows when ignored)
  virtual void crossEntropyBackward(float* dlogits, const float* dloss, const float* logProbs,
                                    const int32_t* target, int64_t B, int64_t C,
                                    int32_t ignoreIndex, float labelSmoothing) = 0;

  // ---- LSTM cell, batch B, hidden H; a gates row is [i | f | g | o] (PyTorch's order) ----
  // gates [B, 4H]: the pre-activations in, the activations out (the backward reads them);
  // c = f * cPrev + i * g, h = o * tanh(c). The time loop around it: native/binding/lstm.cc.
  virtual void lstmCellForward(float* gates, float* h, float* c, const float* cPrev, int64_t B,
                               int64_t H) = 0;
  // dgates [B, 4H] (pre-activation gradients) and dcPrev [B, H] from the gradients reaching h
  // (dh + dhRec) and c besides through h (dc + dcRec); any of those four may be null for 0.
  // gates are the activations the forward wrote; c is its output, cPrev its input.
  virtual void lstmCellBackward(float* dgates, float* dcPrev, const float* dh, const float* dhRec,
                                const float* dc, const float* dcRec, const float* gates,
                                const float* c, const float* cPrev, int64_t B, int64_t H) = 0;

  // ---- GRU cell, batch B, hidden H; a gates row is [r | z | n] (PyTorch's order) ----
  // gates [B, 3H]: x W_ih^T + b_ih in, the activations r, z, n out (the backward reads them);
  // hh [B, 3H] = h W_hh^T + b_hh. n = tanh(x_n + r * hh_n), h = (1 - z) * n + z * hPrev.
  virtual void gruCellForward(float* gates, float* h, const float* hh, const float* hPrev, int64_t B,
                              int64_t H) = 0;
  // From the gradient reaching h (dh + dhRec; either may be null for 0): dproj [B, 3H] (of the
  // input projection), dhh [B, 3H] (of hh) and dhPrev [B, H], the part of hPrev's gradient that
  // does not go through hh (z * dh).
  virtual void gruCellBackward(float* dproj, float* dhh, float* dhPrev, const float* dh,
                               const float* dhRec, const float* gates, const float* hh,
                               const float* hPrev, int64_t B, int64_t H) = 0;

  // ---- matmul, row-major: C[i] = alpha * op(A[i]) @ op(B[i]) + beta * C[i], i < batch ----
  // op(A) is M x K, op(B) is K x N. lda/ldb/ldc are the row strides of A, B, C as stored.
  // strideA/B/C step between batch items (0 broadcasts). beta == 0 ignores C's old contents.
  virtual void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, int64_t strideA, const float* B, int64_t ldb,
                    int64_t strideB, float beta, float* C, int64_t ldc, int64_t strideC,
                    int64_t batch) = 0;

  // ---- indexing over [outer, n, inner]; indices are I32 and already range-checked by JS ----
  // out[o, j, i] = src[o, idx[j], i], out is [outer, nIdx, inner]
  virtual void indexSelect(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer,
                           int64_t n, int64_t inner, int64_t nIdx) = 0;
  // dst[o, idx[j], i] += src[o, j, i]  (dst is not cleared)
  virtual void indexAdd(float* dst, const float* src, const int32_t* idx, int64_t outer, int64_t n,
                        int64_t inner, int64_t nIdx) = 0;
  // out[o, j, i] = src[o, idx[o, j, i], i]; idx and out are [outer, k, inner]
  virtual void gather(DType dt, void* out, const void* src, const int32_t* idx, int64_t outer,
                      int64_t n, int64_t inner, int64_t k) = 0;
  // dst[o, idx[o, j, i], i] += src[o, j, i]  (dst is not cleared)
  virtual void scatterAdd(float* dst, const float* src, const int32_t* idx, int64_t outer,
                          int64_t n, int64_t inner, int64_t k) = 0;

  // ---- convolution helpers, NCHW ----
  // col [N, C*kH*kW, OH*OW] from x [N, C, H, W]; out-of-image taps are 0.
  virtual void im2col(float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W,
                      int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH,
                      int64_t OW) = 0;
  // dx [N, C, H, W] = sum of col's taps back into the image (dx is overwritten).
  virtual void col2im(float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W,
                      int kH, int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH,
                      int64_t OW) = 0;

  // ---- pooling, NCHW ----
  // argmax holds the flat index (h * W + w) of each window's max within its plane; padding is -inf.
  virtual void maxPool2d(float* y, int32_t* argmax, const float* x, int64_t N, int64_t C, int64_t H,
                         int64_t W, int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH,
                         int64_t OW) = 0;
  virtual void maxPool2dBackward(float* dx, const float* dy, const int32_t* argmax, int64_t N,
                                 int64_t C, int64_t H, int64_t W, int64_t OH, int64_t OW) = 0;
  virtual void avgPool2d(float* y, const float* x, int64_t N, int64_t C, int64_t H, int64_t W,
                         int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW,
                         bool countIncludePad) = 0;
  virtual void avgPool2dBackward(float* dx, const float* dy, int64_t N, int64_t C, int64_t H,
                                 int64_t W, int kH, int kW, int sH, int sW, int pH, int pW,
                                 int64_t OH, int64_t OW, bool countIncludePad) = 0;

  // ---- random numbers: Philox4x32-10, counter-based ----
  // Element i uses counter (offset + i / 4), lane i % 4, key = seed; the same (seed, offset)
  // gives the same numbers on every backend and thread count.
  virtual void randomUniform(float* out, int64_t n, uint64_t seed, uint64_t offset, float low,
                             float high) = 0;
  // Box-Muller over lane pairs (0,1) and (2,3) of each counter.
  virtual void randomNormal(float* out, int64_t n, uint64_t seed, uint64_t offset, float mean,
                            float std) = 0;

  // ---- fused optimizer updates, one pass over the parameters ----
  virtual void adamStep(float* p, const float* g, float* m, float* v, float* vMax, int64_t n,
                        const AdamParams& hp) = 0;
  // buf may be null when momentum == 0.
  virtual void sgdStep(float* p, const float* g, float* buf, int64_t n, const SgdParams& hp) = 0;
};

// Backends by device id (dtype.h). The CPU backend is always registered; the CUDA addon
// registers its devices through registerBackend when it loads.
Backend* backendFor(int device);
void registerBackend(int device, Backend* backend);

}  // namespace kiln
