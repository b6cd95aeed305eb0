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
#if defined(__AVX512F__)
  for (; j + 16 <= H; j += 16) {
    const __m512 i = sigmoid512(_mm512_loadu_ps(gi + j));
    const __m512 f = sigmoid512(_mm512_loadu_ps(gf + j));
    const __m512 g = tanh512(_mm512_loadu_ps(gg + j));
    const __m512 o = sigmoid512(_mm512_loadu_ps(go + j));
    const __m512 cn = _mm512_fmadd_ps(f, _mm512_loadu_ps(cPrev + j), _mm512_mul_ps(i, g));
    _mm512_storeu_ps(gi + j, i);
    _mm512_storeu_ps(gf + j, f);
    _mm512_storeu_ps(gg + j, g);
    _mm512_storeu_ps(go + j, o);
    _mm512_storeu_ps(c + j, cn);
    _mm512_storeu_ps(h + j, _mm512_mul_ps(o, tanh512(cn)));
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
#if defined(__AVX512F__)
  const __m512 one = _mm512_set1_ps(1.f);
  const __m512 zero = _mm512_setzero_ps();
  auto load = [](const float* p, int64_t k, __m512 z) { return p ? _mm512_loadu_ps(p + k) : z; };
  for (; j + 16 <= H; j += 16) {
    const __m512 i = _mm512_loadu_ps(gi + j), f = _mm512_loadu_ps(gf + j);
    const __m512 g = _mm512_loadu_ps(gg + j), o = _mm512_loadu_ps(go + j);
    const __m512 tc = tanh512(_mm512_loadu_ps(c + j));
    const __m512 dH = _mm512_add_ps(load(dh, j, zero), load(dhRec, j, zero));
    // dC = dc + dh * o * (1 - tanh(c)^2)
    const __m512 dC = _mm512_fmadd_ps(_mm512_mul_ps(dH, o), _mm512_fnmadd_ps(tc, tc, one),
                                      _mm512_add_ps(load(dc, j, zero), load(dcRec, j, zero)));
    const __m512 di = _mm512_mul_ps(_mm512_mul_ps(dC, g), _mm512_mul_ps(i, _mm512_sub_ps(one, i)));
    const __m512 df = _mm512_mul_ps(_mm512_mul_ps(dC, _mm512_loadu_ps(cPrev + j)),
                                    _mm512_mul_ps(f, _mm512_sub_ps(one, f)));
    const __m512 dg = _mm512_mul_ps(_mm512_mul_ps(dC, i), _mm512_fnmadd_ps(g, g, one));
    const __m512 dO = _mm512_mul_ps(_mm512_mul_ps(dH, tc), _mm512_mul_ps(o, _mm512_sub_ps(one, o)));
    _mm512_storeu_ps(dgt + j, di);
    _mm512_storeu_ps(dgt + H + j, df);
    _mm512_storeu_ps(dgt + 2 * H + j, dg);
    _mm512_storeu_ps(dgt + 3 * H + j, dO);
    _mm512_storeu_ps(dcPrev + j, _mm512_mul_ps(dC, f));
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
