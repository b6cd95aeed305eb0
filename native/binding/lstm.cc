// The LSTM recurrence over a whole sequence, in two native calls (forward, backward) instead of
// a dozen recorded ops per time step. Written once against the Backend interface: each step is
// the backend's GEMM plus its fused cell kernel (lstmCellForward/Backward), so the CPU and CUDA
// backends share this loop. Layouts (all contiguous, gate order i, f, g, o):
//   proj, gates, dgates [T, B, 4H]   hc, dhc [2, T, B, H] (h_t for every t, then c_t)
//   wHh [4H, H], bHh [4H], h0, c0 [B, H]
#include "args.h"
#include "recurrent.h"

namespace kiln::binding {
namespace {

// lstmForward(gates, off, hc, off, proj, off, wHh, off, bHh|null, off, h0, off, c0, off, T, B, H)
// gates gets the activated gates (the backward reads them), hc the states.
Napi::Value LstmForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [T, B, H] = seqDimsArg(info, 14, "lstm");
  const int64_t G = 4 * H, step = B * G, state = B * H;
  Buf gates = bufArg(info, 0, "gates", T * step), hc = bufArg(info, 2, "hc", 2 * T * state);
  Buf proj = bufArg(info, 4, "proj", T * step), w = bufArg(info, 6, "weightHh", G * H);
  Buf bias = optBufArg(info, 8, "biasHh", G);
  Buf h0 = bufArg(info, 10, "h0", state), c0 = bufArg(info, 12, "c0", state);
  for (const Buf* b : {&gates, &hc, &proj, &w, &h0, &c0}) requireDtype(env, *b, DType::F32, "lstm");
  if (bias.storage) requireDtype(env, bias, DType::F32, "biasHh");
  Backend& be = backendOf(env, {&gates, &hc, &proj, &w, &bias, &h0, &c0});

  float* g = gates.as<float>();
  float* h = hc.as<float>();
  float* c = h + T * state;
  if (bias.storage) {  // every step's gates start as proj + b_hh
    const int64_t shape[2] = {T * B, G}, projStrides[2] = {G, 1}, biasStrides[2] = {0, 1};
    be.binary(BinaryOp::Add, DType::F32, g, proj.as<float>(), bias.as<float>(), 2, shape, projStrides,
              biasStrides);
  } else {
    be.copy(g, proj.as<float>(), static_cast<size_t>(T * step) * sizeof(float));
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* hPrev = t == 0 ? h0.as<float>() : h + (t - 1) * state;
    const float* cPrev = t == 0 ? c0.as<float>() : c + (t - 1) * state;
    float* gt = g + t * step;
    // gates_t += h_{t-1} @ W_hh^T
    be.gemm(false, true, B, G, H, 1.f, hPrev, H, 0, w.as<float>(), H, 0, 1.f, gt, G, 0, 1);
    be.lstmCellForward(gt, h + t * state, c + t * state, cPrev, B, H);
  }
  return env.Undefined();
}

// lstmBackward(dgates, off, dwHh|null, off, dbHh|null, off, dh0, off, dc0, off,
//              dhc, off, gates, off, hc, off, h0, off, c0, off, wHh, off, T, B, H)
// dgates (the pre-activation gradients) is also the gradient of proj.
Napi::Value LstmBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [T, B, H] = seqDimsArg(info, 22, "lstm");
  const int64_t G = 4 * H, step = B * G, state = B * H;
  Buf dgates = bufArg(info, 0, "dgates", T * step);
  Buf dw = optBufArg(info, 2, "dweightHh", G * H), db = optBufArg(info, 4, "dbiasHh", G);
  Buf dh0 = bufArg(info, 6, "dh0", state), dc0 = bufArg(info, 8, "dc0", state);
  Buf dhc = bufArg(info, 10, "dhc", 2 * T * state), gates = bufArg(info, 12, "gates", T * step);
  Buf hc = bufArg(info, 14, "hc", 2 * T * state);
  Buf h0 = bufArg(info, 16, "h0", state), c0 = bufArg(info, 18, "c0", state);
  Buf w = bufArg(info, 20, "weightHh", G * H);
  for (const Buf* b : {&dgates, &dh0, &dc0, &dhc, &gates, &hc, &h0, &c0, &w}) requireDtype(env, *b, DType::F32, "lstm");
  if (dw.storage) requireDtype(env, dw, DType::F32, "dweightHh");
  if (db.storage) requireDtype(env, db, DType::F32, "dbiasHh");
  Backend& be = backendOf(env, {&dgates, &dw, &db, &dh0, &dc0, &dhc, &gates, &hc, &h0, &c0, &w});

  const float* h = hc.as<float>();
  const float* c = h + T * state;
  const float* dh = dhc.as<float>();
  const float* dc = dh + T * state;
  float* dg = dgates.as<float>();
  // the recurrent gradient of h, and two buffers for that of c (the cell reads one, writes the other)
  Scratch scratch(be, static_cast<size_t>(3 * state));
  float* dhBuf = scratch.get();
  float* dcBuf[2] = {dhBuf + state, dhBuf + 2 * state};
  const float* dhRec = nullptr;  // nothing flows back into the last step
  const float* dcRec = nullptr;
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* cPrev = t == 0 ? c0.as<float>() : c + (t - 1) * state;
    float* dcOut = t == 0 ? dc0.as<float>() : dcBuf[t & 1];
    float* dgt = dg + t * step;
    be.lstmCellBackward(dgt, dcOut, dh + t * state, dhRec, dc + t * state, dcRec, gates.as<float>() + t * step,
                        c + t * state, cPrev, B, H);
    // dh_{t-1} (recurrent part) = dgates_t @ W_hh
    float* dhOut = t == 0 ? dh0.as<float>() : dhBuf;
    be.gemm(false, false, B, H, G, 1.f, dgt, G, 0, w.as<float>(), H, 0, 0.f, dhOut, H, 0, 1);
    dhRec = dhBuf;
    dcRec = dcOut;
  }
  hiddenWeightGrads(be, dw.storage ? dw.as<float>() : nullptr, db.storage ? db.as<float>() : nullptr, dg,
                    h, h0.as<float>(), T, B, G, H);
  return env.Undefined();
}

}  // namespace

void registerLstm(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "lstmForward", LstmForward);
  exportFn(env, exports, "lstmBackward", LstmBackward);
}

}  // namespace kiln::binding
