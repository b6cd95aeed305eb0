// What the native recurrences (rnn.cc, lstm.cc, gru.cc) share: scratch device memory for one call, and
// the weight gradients of the hidden-to-hidden GEMM.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../include/backend.h"
#include "args.h"

namespace kiln::binding {

// The sequence length, batch and hidden size at info[i], i + 1, i + 2; all must be positive.
struct SeqDims {
  int64_t T, B, H;
};
inline SeqDims seqDimsArg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  SeqDims d{intArg(info, i, "seqLen"), intArg(info, i + 1, "batch"), intArg(info, i + 2, "hidden")};
  if (d.T <= 0 || d.B <= 0 || d.H <= 0) {
    throwKilnError(info.Env(), std::string(op) + ": seqLen, batch and hidden must be positive");
  }
  return d;
}

// Device memory for the duration of one call (the running gradients), released on every exit.
class Scratch {
 public:
  Scratch(Backend& be, size_t floats) : be_(be), p_(static_cast<float*>(be.alloc(floats * sizeof(float)))) {}
  ~Scratch() { be_.release(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return p_; }

 private:
  Backend& be_;
  float* p_;
};

// dW_hh = sum_t dpre_t^T @ h_{t-1} as one GEMM over steps 1..T-1 (h_0..h_{T-2} are contiguous
// in hs) plus step 0 against h0; db_hh = the column sums of dpre. dpre [T, B, G] holds the
// gradients of h_{t-1} W_hh^T + b_hh; hs [T, B, H]. dw or db may be null (not wanted).
inline void hiddenWeightGrads(Backend& be, float* dw, float* db, const float* dpre, const float* hs,
                              const float* h0, int64_t T, int64_t B, int64_t G, int64_t H) {
  if (dw != nullptr) {
    if (T > 1) be.gemm(true, false, G, H, (T - 1) * B, 1.f, dpre + B * G, G, 0, hs, H, 0, 0.f, dw, H, 0, 1);
    be.gemm(true, false, G, H, B, 1.f, dpre, G, 0, h0, H, 0, T > 1 ? 1.f : 0.f, dw, H, 0, 1);
  }
  if (db != nullptr) be.reduce(ReduceOp::Sum, db, dpre, 1, T * B, G);
}

}  // namespace kiln::binding
