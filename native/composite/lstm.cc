// The LSTM recurrence over a whole sequence, in two native calls (forward, backward) instead of
// a dozen recorded ops per time step: each step is the backend's GEMM plus its fused cell kernel
// (lstmCellForward/Backward). Layouts (all contiguous, gate order i, f, g, o):
//   proj, gates, dgates [T, B, 4H]   hc, dhc [2, T, B, H] (h_t for every t, then c_t)
//   wHh [4H, H], bHh [4H], h0, c0 [B, H]
#include "composite.h"
#include "recurrent.h"

namespace kiln::composite {

// gates gets the activated gates (the backward reads them), hc the states.
void lstmForward(Backend& be, const args::lstmForward& a) {
  const int64_t T = a.T, B = a.B, H = a.H, G = 4 * H, step = B * G, state = B * H;
  float* g = a.gates;
  float* h = a.hc;
  float* c = h + T * state;
  if (a.bHh != nullptr) {  // every step's gates start as proj + b_hh
    be.binary({.op = BinaryOp::Add, .out = g, .outType = DType::F32, .a = a.proj, .aType = DType::F32, .b = a.bHh,
               .bType = DType::F32, .shape = dims2(T * B, G), .aStrides = dims2(G, 1), .bStrides = dims2(0, 1)});
  } else {
    be.copy(g, a.proj, static_cast<size_t>(T * step) * sizeof(float));
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* hPrev = t == 0 ? a.h0 : h + (t - 1) * state;
    const float* cPrev = t == 0 ? a.c0 : c + (t - 1) * state;
    float* gt = g + t * step;
    // gates_t += h_{t-1} @ W_hh^T  (M = batch rows)
    be.gemm({.transB = true, .M = B, .N = G, .K = H, .alpha = 1, .A = hPrev, .lda = H, .B = a.wHh, .ldb = H,
             .beta = 1, .C = gt, .ldc = G, .batch = 1});
    be.lstmCellForward({.gates = gt, .h = h + t * state, .c = c + t * state, .cPrev = cPrev, .B = B, .H = H});
  }
}

// dgates (the pre-activation gradients) is also the gradient of proj.
void lstmBackward(Backend& be, const args::lstmBackward& a) {
  const int64_t T = a.T, B = a.B, H = a.H, G = 4 * H, step = B * G, state = B * H;
  const float* h = a.hc;
  const float* c = h + T * state;
  const float* dh = a.dhc;
  const float* dc = dh + T * state;
  float* dg = a.dgates;
  // the recurrent gradient of h, and two buffers for that of c (the cell reads one, writes the other)
  Scratch scratch(be, static_cast<size_t>(3 * state));
  float* dhBuf = scratch.get();
  float* dcBuf[2] = {dhBuf + state, dhBuf + 2 * state};
  const float* dhRec = nullptr;  // nothing flows back into the last step
  const float* dcRec = nullptr;
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* cPrev = t == 0 ? a.c0 : c + (t - 1) * state;
    float* dcOut = t == 0 ? a.dc0 : dcBuf[t & 1];
    float* dgt = dg + t * step;
    be.lstmCellBackward({.dgates = dgt, .dcPrev = dcOut, .dh = dh + t * state, .dhRec = dhRec, .dc = dc + t * state,
                         .dcRec = dcRec, .gates = a.gates + t * step, .c = c + t * state, .cPrev = cPrev, .B = B,
                         .H = H});
    // dh_{t-1} (recurrent part) = dgates_t @ W_hh
    float* dhOut = t == 0 ? a.dh0 : dhBuf;
    be.gemm({.M = B, .N = H, .K = G, .alpha = 1, .A = dgt, .lda = G, .B = a.wHh, .ldb = H, .beta = 0, .C = dhOut,
             .ldc = H, .batch = 1});
    dhRec = dhBuf;
    dcRec = dcOut;
  }
  hiddenWeightGrads(be, a.dwHh, a.dbHh, dg, h, a.h0, T, B, G, H);
}

}  // namespace kiln::composite
