// The plain (Elman) RNN recurrence over a whole sequence in two native calls, as lstm.cc does for
// the LSTM: h_t = act(proj_t + b_hh + h_{t-1} W_hh^T), act = tanh or relu. It needs no cell
// kernel of its own: each step is the backend's GEMM plus its unary (forward) or unaryBackward
// (backward), both of which read the output h_t. Layouts (contiguous):
//   proj, hs, dproj, dhs [T, B, H]   wHh [H, H], bHh [H], h0 [B, H]
#include "args.h"
#include "recurrent.h"

namespace kiln::binding {
namespace {

UnaryOp activation(const Napi::CallbackInfo& info, size_t i) {
  return boolArg(info, i, "relu") ? UnaryOp::Relu : UnaryOp::Tanh;
}

// rnnForward(hs, off, proj, off, wHh, off, bHh|null, off, h0, off, T, B, H, relu)
Napi::Value RnnForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [T, B, H] = seqDimsArg(info, 10, "rnn");
  const UnaryOp act = activation(info, 13);
  const int64_t state = B * H;
  Buf hs = bufArg(info, 0, "hs", T * state), proj = bufArg(info, 2, "proj", T * state);
  Buf w = bufArg(info, 4, "weightHh", H * H), bias = optBufArg(info, 6, "biasHh", H);
  Buf h0 = bufArg(info, 8, "h0", state);
  for (const Buf* b : {&hs, &proj, &w, &h0}) requireDtype(env, *b, DType::F32, "rnn");
  if (bias.storage) requireDtype(env, bias, DType::F32, "biasHh");
  Backend& be = backendOf(env, {&hs, &proj, &w, &bias, &h0});

  // the pre-activations of every step start as proj + b_hh
  Scratch pre(be, static_cast<size_t>(T * state));
  if (bias.storage) {
    const int64_t shape[2] = {T * B, H}, projStrides[2] = {H, 1}, biasStrides[2] = {0, 1};
    be.binary(BinaryOp::Add, DType::F32, pre.get(), proj.as<float>(), bias.as<float>(), 2, shape, projStrides,
              biasStrides);
  } else {
    be.copy(pre.get(), proj.as<float>(), static_cast<size_t>(T * state) * sizeof(float));
  }
  float* h = hs.as<float>();
  for (int64_t t = 0; t < T; ++t) {
    const float* hPrev = t == 0 ? h0.as<float>() : h + (t - 1) * state;
    float* pt = pre.get() + t * state;
    be.gemm(false, true, B, H, H, 1.f, hPrev, H, 0, w.as<float>(), H, 0, 1.f, pt, H, 0, 1);
    be.unary(act, h + t * state, pt, state, 0.f, 0.f);
  }
  return env.Undefined();
}

// rnnBackward(dproj, off, dwHh|null, off, dbHh|null, off, dh0, off, dhs, off, hs, off, h0, off,
//             wHh, off, T, B, H, relu)
// dproj (the pre-activation gradients) is also the gradient of proj.
Napi::Value RnnBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto [T, B, H] = seqDimsArg(info, 16, "rnn");
  const UnaryOp act = activation(info, 19);
  const int64_t state = B * H;
  Buf dproj = bufArg(info, 0, "dproj", T * state);
  Buf dw = optBufArg(info, 2, "dweightHh", H * H), db = optBufArg(info, 4, "dbiasHh", H);
  Buf dh0 = bufArg(info, 6, "dh0", state), dhs = bufArg(info, 8, "dhs", T * state);
  Buf hs = bufArg(info, 10, "hs", T * state), h0 = bufArg(info, 12, "h0", state);
  Buf w = bufArg(info, 14, "weightHh", H * H);
  for (const Buf* b : {&dproj, &dh0, &dhs, &hs, &h0, &w}) requireDtype(env, *b, DType::F32, "rnn");
  if (dw.storage) requireDtype(env, dw, DType::F32, "dweightHh");
  if (db.storage) requireDtype(env, db, DType::F32, "dbiasHh");
  Backend& be = backendOf(env, {&dproj, &dw, &db, &dh0, &dhs, &hs, &h0, &w});

  const float* h = hs.as<float>();
  float* dp = dproj.as<float>();
  Scratch dh(be, static_cast<size_t>(state));  // the whole gradient reaching h_t
  for (int64_t t = T - 1; t >= 0; --t) {
    be.copy(dh.get(), dhs.as<float>() + t * state, static_cast<size_t>(state) * sizeof(float));
    // + the recurrent part, dpre_{t+1} @ W_hh
    if (t + 1 < T) be.gemm(false, false, B, H, H, 1.f, dp + (t + 1) * state, H, 0, w.as<float>(), H, 0, 1.f, dh.get(), H, 0, 1);
    // tanh' reads the output; relu' reads its input, and relu(x) > 0 exactly where x > 0
    const float* ht = h + t * state;
    be.unaryBackward(act, dp + t * state, dh.get(), act == UnaryOp::Relu ? ht : nullptr,
                     act == UnaryOp::Tanh ? ht : nullptr, state, 0.f, 0.f);
  }
  be.gemm(false, false, B, H, H, 1.f, dp, H, 0, w.as<float>(), H, 0, 0.f, dh0.as<float>(), H, 0, 1);
  hiddenWeightGrads(be, dw.storage ? dw.as<float>() : nullptr, db.storage ? db.as<float>() : nullptr, dp, h,
                    h0.as<float>(), T, B, H, H);
  return env.Undefined();
}

}  // namespace

void registerRnn(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "rnnForward", RnnForward);
  exportFn(env, exports, "rnnBackward", RnnBackward);
}

}  // namespace kiln::binding
