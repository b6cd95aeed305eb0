// What the recurrences (rnn.cc, lstm.cc, gru.cc) share: scratch device memory for one call, and
// the weight gradients of the hidden-to-hidden GEMM.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../include/backend.h"

namespace kiln::composite {

// Device memory for the duration of one call (the running gradients), released on every exit.
class Scratch {
 public:
  Scratch(Backend& be, size_t floats)
      : be_(be), bytes_(floats * sizeof(float)), p_(static_cast<float*>(be.alloc(bytes_))) {}
  ~Scratch() { be_.release(p_, bytes_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return p_; }

 private:
  Backend& be_;
  size_t bytes_;
  float* p_;
};

// dW_hh = sum_t dpre_t^T @ h_{t-1} as one GEMM over steps 1..T-1 (h_0..h_{T-2} are contiguous
// in hs) plus step 0 against h0; db_hh = the column sums of dpre. dpre [T, B, G] holds the
// gradients of h_{t-1} W_hh^T + b_hh; hs [T, B, H]. dw or db may be null (not wanted).
inline void hiddenWeightGrads(Backend& be, float* dw, float* db, const float* dpre, const float* hs,
                              const float* h0, int64_t T, int64_t B, int64_t G, int64_t H) {
  if (dw != nullptr) {
    if (T > 1) {
      be.gemm({.transA = true, .M = G, .N = H, .K = (T - 1) * B, .alpha = 1, .A = dpre + B * G, .lda = G,
               .B = hs, .ldb = H, .beta = 0, .C = dw, .ldc = H, .batch = 1});
    }
    be.gemm({.transA = true, .M = G, .N = H, .K = B, .alpha = 1, .A = dpre, .lda = G, .B = h0, .ldb = H,
             .beta = T > 1 ? 1.f : 0.f, .C = dw, .ldc = H, .batch = 1});
  }
  if (db != nullptr) {
    be.reduce({.op = ReduceOp::Sum, .out = db, .outType = DType::F32, .x = dpre, .xType = DType::F32, .outer = 1,
               .n = T * B, .inner = G});
  }
}

// The shape [rows, cols] read with the given strides (for broadcasting a bias over rows).
inline Dims dims2(int64_t a, int64_t b) {
  Dims d;
  d.n = 2;
  d.v[0] = a;
  d.v[1] = b;
  return d;
}

}  // namespace kiln::composite
