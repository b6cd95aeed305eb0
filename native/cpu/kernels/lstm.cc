// The LSTM cell, fused: one pass over the gates of a time step forward, one backward (gate order
// i, f, g, o as PyTorch). The recurrence around it (GEMMs, the time loop) is in
// native/binding/lstm.cc, written against the Backend interface.
#include "kernels_isa.h"
#include "scalar_math.h"
#include "vec_math.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

// One row of the forward: gates [4H] pre-activations in, activations out.
inline void cellForwardRow(float* __restrict gt, float* __restrict h, float* __restrict c,
                           const float* __restrict cPrev, int64_t H) {
  float* gi = gt;
  float* gf = gt + H;
  float* gg = gt + 2 * H;
  float* go = gt + 3 * H;
  int64_t j = 0;
#if defined(KILN_VEC)
  for (; j + kVecW <= H; j += kVecW) {
    const vfloat i = vsigmoid(vload(gi + j));
    const vfloat f = vsigmoid(vload(gf + j));
    const vfloat g = vtanh(vload(gg + j));
    const vfloat o = vsigmoid(vload(go + j));
    const vfloat cn = vfma(f, vload(cPrev + j), i * g);
    vstore(gi + j, i);
    vstore(gf + j, f);
    vstore(gg + j, g);
    vstore(go + j, o);
    vstore(c + j, cn);
    vstore(h + j, o * vtanh(cn));
  }
#endif
  for (; j < H; ++j) {
    const float i = sigmoid(gi[j]), f = sigmoid(gf[j]), g = tanhFast(gg[j]), o = sigmoid(go[j]);
    const float cn = f * cPrev[j] + i * g;
    gi[j] = i;
    gf[j] = f;
    gg[j] = g;
    go[j] = o;
    c[j] = cn;
    h[j] = o * tanhFast(cn);
  }
}

// Sum of two optional rows at j (null counts as 0).
inline float both(const float* a, const float* b, int64_t j) {
  return (a ? a[j] : 0.f) + (b ? b[j] : 0.f);
}

// One row of the backward: see lstmCellBackward.
inline void cellBackwardRow(float* __restrict dgt, float* __restrict dcPrev, const float* dh,
                            const float* dhRec, const float* dc, const float* dcRec,
                            const float* __restrict gt, const float* __restrict c,
                            const float* __restrict cPrev, int64_t H) {
  const float* gi = gt;
  const float* gf = gt + H;
  const float* gg = gt + 2 * H;
  const float* go = gt + 3 * H;
  int64_t j = 0;
#if defined(KILN_VEC)
  const vfloat one = vset(1.f);
  auto load = [](const float* p, int64_t k) { return p ? vload(p + k) : vzero(); };
  for (; j + kVecW <= H; j += kVecW) {
    const vfloat i = vload(gi + j), f = vload(gf + j);
    const vfloat g = vload(gg + j), o = vload(go + j);
    const vfloat tc = vtanh(vload(c + j));
    const vfloat dH = load(dh, j) + load(dhRec, j);
    // dC = dc + dh * o * (1 - tanh(c)^2)
    const vfloat dC = vfma(dH * o, vfnma(tc, tc, one), load(dc, j) + load(dcRec, j));
    const vfloat di = (dC * g) * (i * (one - i));
    const vfloat df = (dC * vload(cPrev + j)) * (f * (one - f));
    const vfloat dg = (dC * i) * vfnma(g, g, one);
    const vfloat dO = (dH * tc) * (o * (one - o));
    vstore(dgt + j, di);
    vstore(dgt + H + j, df);
    vstore(dgt + 2 * H + j, dg);
    vstore(dgt + 3 * H + j, dO);
    vstore(dcPrev + j, dC * f);
  }
#endif
  for (; j < H; ++j) {
    const float i = gi[j], f = gf[j], g = gg[j], o = go[j];
    const float tc = tanhFast(c[j]);
    const float dH = both(dh, dhRec, j);
    const float dC = both(dc, dcRec, j) + dH * o * (1.f - tc * tc);
    dgt[j] = dC * g * i * (1.f - i);
    dgt[H + j] = dC * cPrev[j] * f * (1.f - f);
    dgt[2 * H + j] = dC * i * (1.f - g * g);
    dgt[3 * H + j] = dH * tc * o * (1.f - o);
    dcPrev[j] = dC * f;
  }
}

inline const float* rowOf(const float* p, int64_t b, int64_t H) { return p ? p + b * H : nullptr; }

}  // namespace

void lstmCellForward(const args::lstmCellForward& a) {
  float *gates = a.gates, *h = a.h, *c = a.c;
  const float* cPrev = a.cPrev;
  const int64_t B = a.B, H = a.H;
  if (B * H == 0) return;  // B alone may be any size when H is 0: no rows to walk
  parallel_for(B, rowGrain(4 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      cellForwardRow(gates + b * 4 * H, h + b * H, c + b * H, cPrev + b * H, H);
  });
}

void lstmCellBackward(const args::lstmCellBackward& a) {
  float *dgates = a.dgates, *dcPrev = a.dcPrev;
  const float *dh = a.dh, *dhRec = a.dhRec, *dc = a.dc, *dcRec = a.dcRec, *gates = a.gates, *c = a.c,
              *cPrev = a.cPrev;
  const int64_t B = a.B, H = a.H;
  if (B * H == 0) return;  // B alone may be any size when H is 0: no rows to walk
  parallel_for(B, rowGrain(4 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      cellBackwardRow(dgates + b * 4 * H, dcPrev + b * H, rowOf(dh, b, H), rowOf(dhRec, b, H),
                      rowOf(dc, b, H), rowOf(dcRec, b, H), gates + b * 4 * H, c + b * H,
                      cPrev + b * H, H);
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
