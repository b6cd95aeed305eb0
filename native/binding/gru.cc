// The GRU recurrence over a whole sequence in two native calls, as lstm.cc does for the LSTM:
// each step is the backend's GEMM h_{t-1} W_hh^T (+ b_hh) and its fused GRU cell. Layouts (all
// contiguous, gate order r, z, n):
//   proj, gates, hh, dproj [T, B, 3H]   hs, dhs [T, B, H]   wHh [3H, H], bHh [3H], h0 [B, H]
// hh keeps h_{t-1} W_hh^T + b_hh of every step: n's gradient reads its n part.
#include "args.h"
#include "recurrent.h"

namespace kiln::binding {
namespace {

// gruForward(gates, off, hh, off, hs, off, proj, off, wHh, off, bHh|null, off, h0, off, T, B, H)
Napi::Value GruForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [T, B, H] = seqDimsArg(info, 14, "gru");
  const int64_t G = 3 * H, step = B * G, state = B * H;
  Buf gates = bufArg(info, 0, "gates", T * step), hh = bufArg(info, 2, "hh", T * step);
  Buf hs = bufArg(info, 4, "hs", T * state), proj = bufArg(info, 6, "proj", T * step);
  Buf w = bufArg(info, 8, "weightHh", G * H), bias = optBufArg(info, 10, "biasHh", G);
  Buf h0 = bufArg(info, 12, "h0", state);
  for (const Buf* b : {&gates, &hh, &hs, &proj, &w, &h0}) requireDtype(env, *b, DType::F32, "gru");
  if (bias.storage) requireDtype(env, bias, DType::F32, "biasHh");
  Backend& be = backendOf(env, {&gates, &hh, &hs, &proj, &w, &bias, &h0});

  float* g = gates.as<float>();
  float* hhp = hh.as<float>();
  float* h = hs.as<float>();
  be.copy(g, proj.as<float>(), static_cast<size_t>(T * step) * sizeof(float));
  if (bias.storage) {  // every step's hh starts as b_hh
    const int64_t shape[2] = {T * B, G}, strides[2] = {0, 1};
    be.stridedCopy(hhp, bias.as<float>(), DType::F32, 2, shape, strides);
  }
  for (int64_t t = 0; t < T; ++t) {
    const float* hPrev = t == 0 ? h0.as<float>() : h + (t - 1) * state;
    float* hht = hhp + t * step;
    be.gemm(false, true, B, G, H, 1.f, hPrev, H, 0, w.as<float>(), H, 0, bias.storage ? 1.f : 0.f, hht, G, 0, 1);
    be.gruCellForward(g + t * step, h + t * state, hht, hPrev, B, H);
  }
  return env.Undefined();
}

// gruBackward(dproj, off, dwHh|null, off, dbHh|null, off, dh0, off, dhs, off, gates, off, hh, off,
//             hs, off, h0, off, wHh, off, T, B, H)
Napi::Value GruBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [T, B, H] = seqDimsArg(info, 20, "gru");
  const int64_t G = 3 * H, step = B * G, state = B * H;
  Buf dproj = bufArg(info, 0, "dproj", T * step);
  Buf dw = optBufArg(info, 2, "dweightHh", G * H), db = optBufArg(info, 4, "dbiasHh", G);
  Buf dh0 = bufArg(info, 6, "dh0", state), dhs = bufArg(info, 8, "dhs", T * state);
  Buf gates = bufArg(info, 10, "gates", T * step), hh = bufArg(info, 12, "hh", T * step);
  Buf hs = bufArg(info, 14, "hs", T * state), h0 = bufArg(info, 16, "h0", state);
  Buf w = bufArg(info, 18, "weightHh", G * H);
  for (const Buf* b : {&dproj, &dh0, &dhs, &gates, &hh, &hs, &h0, &w}) requireDtype(env, *b, DType::F32, "gru");
  if (dw.storage) requireDtype(env, dw, DType::F32, "dweightHh");
  if (db.storage) requireDtype(env, db, DType::F32, "dbiasHh");
  Backend& be = backendOf(env, {&dproj, &dw, &db, &dh0, &dhs, &gates, &hh, &hs, &h0, &w});

  const float* h = hs.as<float>();
  // dhh of every step (for dW_hh and db_hh at the end), then two buffers for h's running
  // gradient (the cell reads one and writes the other)
  Scratch scratch(be, static_cast<size_t>(T * step + 2 * state));
  float* dhh = scratch.get();
  float* dhBuf[2] = {dhh + T * step, dhh + T * step + state};
  const float* dhRec = nullptr;  // nothing flows back into the last step
  for (int64_t t = T - 1; t >= 0; --t) {
    const float* hPrev = t == 0 ? h0.as<float>() : h + (t - 1) * state;
    float* dhOut = t == 0 ? dh0.as<float>() : dhBuf[t & 1];
    float* dhht = dhh + t * step;
    be.gruCellBackward(dproj.as<float>() + t * step, dhht, dhOut, dhs.as<float>() + t * state, dhRec,
                       gates.as<float>() + t * step, hh.as<float>() + t * step, hPrev, B, H);
    // dh_{t-1} += dhh_t @ W_hh
    be.gemm(false, false, B, H, G, 1.f, dhht, G, 0, w.as<float>(), H, 0, 1.f, dhOut, H, 0, 1);
    dhRec = dhOut;
  }
  hiddenWeightGrads(be, dw.storage ? dw.as<float>() : nullptr, db.storage ? db.as<float>() : nullptr, dhh,
                    h, h0.as<float>(), T, B, G, H);
  return env.Undefined();
}

}  // namespace

void registerGru(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "gruForward", GruForward);
  exportFn(env, exports, "gruBackward", GruBackward);
}

}  // namespace kiln::binding
