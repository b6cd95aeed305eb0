// The GRU recurrence over a whole sequence, as lstm.cc does for the LSTM: each step is the
// backend's GEMM h_{t-1} W_hh^T (+ b_hh) and its fused GRU cell. Layouts (all contiguous, gate
// order r, z, n):
//   proj, gates, hh, dproj [T, B, 3H]   hs, dhs [T, B, H]   wHh [3H, H], bHh [3H], h0 [B, H]
// hh keeps h_{t-1} W_hh^T + b_hh of every step: n's gradient reads its n part.
#include "composite.h"
#include "recurrent.h"

namespace kiln::composite {

void gruForward(Backend& be, const args::gruForward& a) {
  const int64_t T = a.T, B = a.B, H = a.H, G = 3 * H, step = B * G, state = B * H;
  float* g = a.gates;
  float* h = a.hs;
  be.copy(g, a.proj, static_cast<size_t>(T * step) * sizeof(float));
  if (a.bHh != nullptr) {  // every step's hh starts as b_hh
    be.stridedCopy({.dst = a.hh, .dstType = DType::F32, .src = a.bHh, .srcType = DType::F32,
                    .shape = dims2(T * B, G), .srcStrides = dims2(0, 1)});
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* hPrev = t == 0 ? a.h0 : h + (t - 1) * state;
    float* hht = a.hh + t * step;
    // hh_t (+)= h_{t-1} @ W_hh^T  (M = batch rows)
    be.gemm({.transB = true, .M = B, .N = G, .K = H, .alpha = 1, .A = hPrev, .lda = H, .B = a.wHh, .ldb = H,
             .beta = a.bHh != nullptr ? 1.f : 0.f, .C = hht, .ldc = G, .batch = 1});
    be.gruCellForward({.gates = g + t * step, .h = h + t * state, .hh = hht, .hPrev = hPrev, .B = B, .H = H});
  }
}

void gruBackward(Backend& be, const args::gruBackward& a) {
  const int64_t T = a.T, B = a.B, H = a.H, G = 3 * H, step = B * G, state = B * H;
  const float* h = a.hs;
  // dhh of every step (for dW_hh and db_hh at the end), then two buffers for h's running
  // gradient (the cell reads one and writes the other)
  Scratch scratch(be, static_cast<size_t>(T * step + 2 * state));
  float* dhh = scratch.get();
  float* dhBuf[2] = {dhh + T * step, dhh + T * step + state};
  const float* dhRec = nullptr;  // nothing flows back into the last step
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* hPrev = t == 0 ? a.h0 : h + (t - 1) * state;
    float* dhOut = t == 0 ? a.dh0 : dhBuf[t & 1];
    float* dhht = dhh + t * step;
    be.gruCellBackward({.dproj = a.dproj + t * step, .dhh = dhht, .dhPrev = dhOut, .dh = a.dhs + t * state,
                        .dhRec = dhRec, .gates = a.gates + t * step, .hh = a.hh + t * step, .hPrev = hPrev, .B = B,
                        .H = H});
    // dh_{t-1} += dhh_t @ W_hh
    be.gemm({.M = B, .N = H, .K = G, .alpha = 1, .A = dhht, .lda = G, .B = a.wHh, .ldb = H, .beta = 1, .C = dhOut,
             .ldc = H, .batch = 1});
    dhRec = dhOut;
  }
  hiddenWeightGrads(be, a.dwHh, a.dbHh, dhh, h, a.h0, T, B, G, H);
}

}  // namespace kiln::composite
