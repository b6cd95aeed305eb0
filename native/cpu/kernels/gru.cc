// The GRU cell, fused: one pass over the gates of a time step forward, one backward (gate order
// r, z, n as PyTorch, with n = tanh(x_n + r * (h W_hn^T + b_hn))). The time loop around it is in
// native/binding/gru.cc, written against the Backend interface.
#include "kernels_isa.h"
#include "scalar_math.h"
#include "vec_math.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

// One row: gates [3H] holds x W_ih^T + b_ih in, r, z, n out; hh [3H] = h W_hh^T + b_hh.
inline void cellForwardRow(float* __restrict gt, float* __restrict h, const float* __restrict hh,
                           const float* __restrict hPrev, int64_t H) {
  int64_t j = 0;
#if defined(__AVX512F__)
  for (; j + 16 <= H; j += 16) {
    const __m512 r = sigmoid512(_mm512_add_ps(_mm512_loadu_ps(gt + j), _mm512_loadu_ps(hh + j)));
    const __m512 z = sigmoid512(_mm512_add_ps(_mm512_loadu_ps(gt + H + j), _mm512_loadu_ps(hh + H + j)));
    const __m512 n = tanh512(_mm512_fmadd_ps(r, _mm512_loadu_ps(hh + 2 * H + j), _mm512_loadu_ps(gt + 2 * H + j)));
    const __m512 hp = _mm512_loadu_ps(hPrev + j);
    _mm512_storeu_ps(gt + j, r);
    _mm512_storeu_ps(gt + H + j, z);
    _mm512_storeu_ps(gt + 2 * H + j, n);
    _mm512_storeu_ps(h + j, _mm512_fmadd_ps(z, _mm512_sub_ps(hp, n), n));  // (1 - z) n + z hPrev
  }
#endif
  for (; j < H; ++j) {
    const float r = sigmoid(gt[j] + hh[j]);
    const float z = sigmoid(gt[H + j] + hh[H + j]);
    const float n = tanhFast(gt[2 * H + j] + r * hh[2 * H + j]);
    gt[j] = r;
    gt[H + j] = z;
    gt[2 * H + j] = n;
    h[j] = n + z * (hPrev[j] - n);
  }
}

inline float both(const float* a, const float* b, int64_t j) {
  return (a ? a[j] : 0.f) + (b ? b[j] : 0.f);
}

// One row of the backward: see gruCellBackward.
inline void cellBackwardRow(float* __restrict dproj, float* __restrict dhh, float* __restrict dhPrev,
                            const float* dh, const float* dhRec, const float* __restrict gt,
                            const float* __restrict hh, const float* __restrict hPrev, int64_t H) {
  int64_t j = 0;
#if defined(__AVX512F__)
  const __m512 one = _mm512_set1_ps(1.f);
  const __m512 zero = _mm512_setzero_ps();
  auto load = [](const float* p, int64_t k, __m512 zr) { return p ? _mm512_loadu_ps(p + k) : zr; };
  for (; j + 16 <= H; j += 16) {
    const __m512 r = _mm512_loadu_ps(gt + j), z = _mm512_loadu_ps(gt + H + j), n = _mm512_loadu_ps(gt + 2 * H + j);
    const __m512 dH = _mm512_add_ps(load(dh, j, zero), load(dhRec, j, zero));
    const __m512 dnPre = _mm512_mul_ps(_mm512_mul_ps(dH, _mm512_sub_ps(one, z)), _mm512_fnmadd_ps(n, n, one));
    const __m512 dzPre = _mm512_mul_ps(_mm512_mul_ps(dH, _mm512_sub_ps(_mm512_loadu_ps(hPrev + j), n)),
                                       _mm512_mul_ps(z, _mm512_sub_ps(one, z)));
    const __m512 drPre = _mm512_mul_ps(_mm512_mul_ps(dnPre, _mm512_loadu_ps(hh + 2 * H + j)),
                                       _mm512_mul_ps(r, _mm512_sub_ps(one, r)));
    _mm512_storeu_ps(dproj + j, drPre);
    _mm512_storeu_ps(dproj + H + j, dzPre);
    _mm512_storeu_ps(dproj + 2 * H + j, dnPre);
    _mm512_storeu_ps(dhh + j, drPre);
    _mm512_storeu_ps(dhh + H + j, dzPre);
    _mm512_storeu_ps(dhh + 2 * H + j, _mm512_mul_ps(dnPre, r));
    _mm512_storeu_ps(dhPrev + j, _mm512_mul_ps(dH, z));
  }
#endif
  for (; j < H; ++j) {
    const float r = gt[j], z = gt[H + j], n = gt[2 * H + j];
    const float dH = both(dh, dhRec, j);
    const float dnPre = dH * (1.f - z) * (1.f - n * n);
    const float dzPre = dH * (hPrev[j] - n) * z * (1.f - z);
    const float drPre = dnPre * hh[2 * H + j] * r * (1.f - r);
    dproj[j] = drPre;
    dproj[H + j] = dzPre;
    dproj[2 * H + j] = dnPre;
    dhh[j] = drPre;
    dhh[H + j] = dzPre;
    dhh[2 * H + j] = dnPre * r;
    dhPrev[j] = dH * z;
  }
}

inline const float* rowOf(const float* p, int64_t b, int64_t H) { return p ? p + b * H : nullptr; }

}  // namespace

void gruCellForward(const args::gruCellForward& a) {
  float *gates = a.gates, *h = a.h;
  const float *hh = a.hh, *hPrev = a.hPrev;
  const int64_t B = a.B, H = a.H;
  if (B * H == 0) return;  // B alone may be any size when H is 0: no rows to walk
  parallel_for(B, rowGrain(3 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      cellForwardRow(gates + b * 3 * H, h + b * H, hh + b * 3 * H, hPrev + b * H, H);
  });
}

void gruCellBackward(const args::gruCellBackward& a) {
  float *dproj = a.dproj, *dhh = a.dhh, *dhPrev = a.dhPrev;
  const float *dh = a.dh, *dhRec = a.dhRec, *gates = a.gates, *hh = a.hh, *hPrev = a.hPrev;
  const int64_t B = a.B, H = a.H;
  if (B * H == 0) return;  // B alone may be any size when H is 0: no rows to walk
  parallel_for(B, rowGrain(3 * H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b)
      cellBackwardRow(dproj + b * 3 * H, dhh + b * 3 * H, dhPrev + b * H, rowOf(dh, b, H),
                      rowOf(dhRec, b, H), gates + b * 3 * H, hh + b * 3 * H, hPrev + b * H, H);
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
