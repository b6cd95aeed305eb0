// The plain (Elman) RNN recurrence over a whole sequence, as lstm.cc does for the LSTM:
// h_t = act(proj_t + b_hh + h_{t-1} W_hh^T), act = tanh or relu. It needs no cell kernel of its
// own: each step is the backend's GEMM plus its unary (forward) or unaryBackward (backward), both
// of which read the output h_t. Layouts (contiguous):
//   proj, hs, dproj, dhs [T, B, H]   wHh [H, H], bHh [H], h0 [B, H]
#include "composite.h"
#include "recurrent.h"

namespace kiln::composite {

void rnnForward(Backend& be, const args::rnnForward& a) {
  const int64_t T = a.T, B = a.B, H = a.H, state = B * H;
  const UnaryOp act = a.relu ? UnaryOp::Relu : UnaryOp::Tanh;
  // the pre-activations of every step start as proj + b_hh
  Scratch pre(be, static_cast<size_t>(T * state));
  if (a.bHh != nullptr) {
    be.binary({.op = BinaryOp::Add, .out = pre.get(), .outType = DType::F32, .a = a.proj, .aType = DType::F32,
               .b = a.bHh, .bType = DType::F32, .shape = dims2(T * B, H), .aStrides = dims2(H, 1),
               .bStrides = dims2(0, 1)});
  } else {
    be.copy(pre.get(), a.proj, static_cast<size_t>(T * state) * sizeof(float));
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* hPrev = t == 0 ? a.h0 : a.hs + (t - 1) * state;
    float* pt = pre.get() + t * state;
    // pre_t += h_{t-1} @ W_hh^T  (M = batch rows)
    be.gemm({.transB = true, .M = B, .N = H, .K = H, .alpha = 1, .A = hPrev, .lda = H, .B = a.wHh, .ldb = H,
             .beta = 1, .C = pt, .ldc = H, .batch = 1});
    be.unary({.op = act, .y = a.hs + t * state, .x = pt, .n = state});
  }
}

void rnnBackward(Backend& be, const args::rnnBackward& a) {
  const int64_t T = a.T, B = a.B, H = a.H, state = B * H;
  const UnaryOp act = a.relu ? UnaryOp::Relu : UnaryOp::Tanh;
  float* dp = a.dproj;
  Scratch dh(be, static_cast<size_t>(state));  // the whole gradient reaching h_t
  for (int64_t t = T - 1; t >= 0; --t) {
    be.copy(dh.get(), a.dhs + t * state, static_cast<size_t>(state) * sizeof(float));
    // + the recurrent part, dpre_{t+1} @ W_hh
    if (t + 1 < T) {
      be.gemm({.M = B, .N = H, .K = H, .alpha = 1, .A = dp + (t + 1) * state, .lda = H, .B = a.wHh, .ldb = H,
               .beta = 1, .C = dh.get(), .ldc = H, .batch = 1});
    }
    // tanh' reads the output; relu' reads its input, and relu(x) > 0 exactly where x > 0
    const float* ht = a.hs + t * state;
    be.unaryBackward({.op = act, .dx = dp + t * state, .dy = dh.get(), .x = act == UnaryOp::Relu ? ht : nullptr,
                      .y = act == UnaryOp::Tanh ? ht : nullptr, .n = state});
  }
  be.gemm({.M = B, .N = H, .K = H, .alpha = 1, .A = dp, .lda = H, .B = a.wHh, .ldb = H, .beta = 0, .C = a.dh0,
           .ldc = H, .batch = 1});
  hiddenWeightGrads(be, a.dwHh, a.dbHh, dp, a.hs, a.h0, T, B, H, H);
}

}  // namespace kiln::composite
