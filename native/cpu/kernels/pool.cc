// 2-D max and average pooling, NCHW, forward and backward. Work is split by (n, c) plane, so
// the backward passes (which scatter into dx) never share an element between threads.
#include <cmath>
#include <cstring>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

struct Window {
  int64_t h0, h1, w0, w1;  // clipped to the real input
  int64_t divisor;         // avg pool: elements the sum is divided by
};

// PyTorch's avg_pool2d window: the unclipped window is first cut at the padded bounds
// [-p, size + p) (this matters with ceil_mode), its area is the count_include_pad divisor; then
// it is cut at the real input, whose area is the divisor otherwise.
inline Window windowAt(int64_t oh, int64_t ow, int64_t H, int64_t W, int kH, int kW, int sH, int sW,
                       int pH, int pW, bool countIncludePad) {
  int64_t hs = oh * sH - pH, ws = ow * sW - pW;
  int64_t he = minI64(hs + kH, H + pH), we = minI64(ws + kW, W + pW);
  int64_t padded = (he - hs) * (we - ws);
  Window w{maxI64(hs, 0), minI64(he, H), maxI64(ws, 0), minI64(we, W), 0};
  w.divisor = countIncludePad ? padded : (w.h1 - w.h0) * (w.w1 - w.w0);
  return w;
}

// best, at = v, i when v > best or v is NaN (the loop rule of maxPool2d), without a branch.
inline void pick(float& best, int32_t& at, float v, int32_t i) {
  uint32_t mask = 0u - static_cast<uint32_t>((v > best) | (v != v));
  uint32_t bb, vb;
  std::memcpy(&bb, &best, 4);
  std::memcpy(&vb, &v, 4);
  bb = (bb & ~mask) | (vb & mask);
  std::memcpy(&best, &bb, 4);
  at = static_cast<int32_t>((static_cast<uint32_t>(at) & ~mask) | (static_cast<uint32_t>(i) & mask));
}

template <class F>
void forPlanes(int64_t planes, int64_t workPerPlane, const F& f) {
  parallel_for(planes, rowGrain(workPerPlane), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) f(p);
  });
}

}  // namespace

// Padding is -inf; ties keep the first position; a NaN wins (PyTorch: val > max || isnan(val)).
void maxPool2d(const args::maxPool2d& a) {
  [[maybe_unused]] const auto [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW] = a.g;
  float* y = a.y;
  int32_t* argmax = a.argmax;
  const float* x = a.x;
  int64_t planes = N * C;
  if (planes * OH * OW == 0) return;
  if (kH == 2 && kW == 2 && sH == 2 && sW == 2 && pH == 0 && pW == 0) {
    // the common 2x2/2 case: every window is whole; same order and NaN rule as below
    forPlanes(planes, OH * OW * 4, [&](int64_t p) {
      const float* in = x + p * H * W;
      float* out = y + p * OH * OW;
      int32_t* am = argmax + p * OH * OW;
      for (int64_t oh = 0; oh < OH; ++oh) {
        const float* r0 = in + 2 * oh * W;
        const float* r1 = r0 + W;
        int32_t base = static_cast<int32_t>(2 * oh * W);
        for (int64_t ow = 0; ow < OW; ++ow) {
          int32_t c = static_cast<int32_t>(2 * ow);
          // masks, not branches: with random data a branch mispredicts every other window
          // (the compiler turns ?: back into jumps here)
          int32_t w1 = base + static_cast<int32_t>(W);
          float best = r0[c];
          int32_t at = base + c;
          pick(best, at, r0[c + 1], base + c + 1);
          pick(best, at, r1[c], w1 + c);
          pick(best, at, r1[c + 1], w1 + c + 1);
          out[oh * OW + ow] = best;
          am[oh * OW + ow] = at;
        }
      }
    });
    return;
  }
  forPlanes(planes, OH * OW * kH * kW, [&](int64_t p) {
    const float* in = x + p * H * W;
    float* out = y + p * OH * OW;
    int32_t* am = argmax + p * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh) {
      int64_t h0 = maxI64(oh * sH - pH, 0), h1 = minI64(oh * sH - pH + kH, H);
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t w0 = maxI64(ow * sW - pW, 0), w1 = minI64(ow * sW - pW + kW, W);
        float best = -INFINITY;
        int64_t at = h0 * W + w0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            float v = in[h * W + w];
            if (v > best || v != v) {
              best = v;
              at = h * W + w;
            }
          }
        out[oh * OW + ow] = best;
        am[oh * OW + ow] = static_cast<int32_t>(at);
      }
    }
  });
}

void maxPool2dBackward(const args::maxPool2dBackward& a) {
  [[maybe_unused]] const auto [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW] = a.g;
  float* dx = a.dx;
  const float* dy = a.dy;
  const int32_t* argmax = a.argmax;
  int64_t planes = N * C;
  if (planes * H * W == 0) return;
  forPlanes(planes, H * W + OH * OW, [&](int64_t p) {
    float* d = dx + p * H * W;
    std::memset(d, 0, static_cast<size_t>(H * W) * 4);
    const float* g = dy + p * OH * OW;
    const int32_t* am = argmax + p * OH * OW;
    for (int64_t i = 0; i < OH * OW; ++i) d[am[i]] += g[i];
  });
}

void avgPool2d(const args::avgPool2d& a) {
  [[maybe_unused]] const auto [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW] = a.g;
  const bool countIncludePad = a.countIncludePad;
  float* y = a.y;
  const float* x = a.x;
  int64_t planes = N * C;
  if (planes * OH * OW == 0) return;
  forPlanes(planes, OH * OW * kH * kW, [&](int64_t p) {
    const float* in = x + p * H * W;
    float* out = y + p * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        Window wd = windowAt(oh, ow, H, W, kH, kW, sH, sW, pH, pW, countIncludePad);
        float s = 0;
        for (int64_t h = wd.h0; h < wd.h1; ++h)
          for (int64_t w = wd.w0; w < wd.w1; ++w) s += in[h * W + w];
        out[oh * OW + ow] = s / static_cast<float>(wd.divisor);
      }
  });
}

void avgPool2dBackward(const args::avgPool2dBackward& a) {
  [[maybe_unused]] const auto [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW] = a.g;
  const bool countIncludePad = a.countIncludePad;
  float* dx = a.dx;
  const float* dy = a.dy;
  int64_t planes = N * C;
  if (planes * H * W == 0) return;
  forPlanes(planes, H * W + OH * OW * kH * kW, [&](int64_t p) {
    float* d = dx + p * H * W;
    std::memset(d, 0, static_cast<size_t>(H * W) * 4);
    const float* g = dy + p * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        Window wd = windowAt(oh, ow, H, W, kH, kW, sH, sW, pH, pW, countIncludePad);
        float share = g[oh * OW + ow] / static_cast<float>(wd.divisor);
        for (int64_t h = wd.h0; h < wd.h1; ++h)
          for (int64_t w = wd.w0; w < wd.w1; ++w) d[h * W + w] += share;
      }
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
