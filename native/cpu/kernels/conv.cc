// im2col / col2im for NCHW convolution with stride, padding and dilation.
// col is [N, C*kH*kW, OH*OW], row (c*kH + kh)*kW + kw; taps outside the image are 0.
#include <cstring>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

// Output columns [lo, hi) whose input column ow*sW - pW + off lies inside [0, W).
inline void validRange(int64_t off, int64_t s, int64_t W, int64_t OW, int64_t* lo, int64_t* hi) {
  // iw = ow*s + off; need 0 <= iw < W
  int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t h = W - off <= 0 ? 0 : (W - off + s - 1) / s;
  *lo = minI64(l, OW);
  *hi = maxI64(*lo, minI64(h, OW));
}

// One col row (fixed n, c, kh, kw) from one input plane.
void im2colRow(float* __restrict out, const float* __restrict plane, const ConvGeom& g, int kh, int kw) {
  int64_t colOff = static_cast<int64_t>(kw) * g.dW - g.pW, lo, hi;
  validRange(colOff, g.sW, g.W, g.OW, &lo, &hi);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    float* __restrict o = out + oh * g.OW;
    int64_t ih = oh * g.sH - g.pH + static_cast<int64_t>(kh) * g.dH;
    if (ih < 0 || ih >= g.H) {
      std::memset(o, 0, static_cast<size_t>(g.OW) * 4);
      continue;
    }
    const float* __restrict r = plane + ih * g.W + colOff;
    for (int64_t ow = 0; ow < lo; ++ow) o[ow] = 0;
    if (g.sW == 1) {
      std::memcpy(o + lo, r + lo, static_cast<size_t>(hi - lo) * 4);
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) o[ow] = r[ow * g.sW];
    }
    for (int64_t ow = hi; ow < g.OW; ++ow) o[ow] = 0;
  }
}

// Adds one col row back into its input plane.
void col2imRow(float* __restrict plane, const float* __restrict in, const ConvGeom& g, int kh, int kw) {
  int64_t colOff = static_cast<int64_t>(kw) * g.dW - g.pW, lo, hi;
  validRange(colOff, g.sW, g.W, g.OW, &lo, &hi);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    int64_t ih = oh * g.sH - g.pH + static_cast<int64_t>(kh) * g.dH;
    if (ih < 0 || ih >= g.H) continue;
    float* __restrict r = plane + ih * g.W + colOff;
    const float* __restrict c = in + oh * g.OW;
    for (int64_t ow = lo; ow < hi; ++ow) r[ow * g.sW] += c[ow];
  }
}

}  // namespace

void im2col(const args::im2col& a) {
  const ConvGeom& g = a.g;
  [[maybe_unused]] const auto [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW] = g;
  float* col = a.col;
  const float* x = a.x;
  int64_t rows = N * C * kH * kW, rowLen = OH * OW;
  if (rows * rowLen == 0) return;
  parallel_for(rows, rowGrain(rowLen), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t nc = r / (kH * kW), k = r % (kH * kW);  // nc = n*C + c, the input plane
      im2colRow(col + r * rowLen, x + nc * H * W, g, static_cast<int>(k / kW), static_cast<int>(k % kW));
    }
  });
}

void col2im(const args::col2im& a) {
  const ConvGeom& g = a.g;
  [[maybe_unused]] const auto [N, C, H, W, kH, kW, sH, sW, pH, pW, dH, dW, OH, OW] = g;
  float* dx = a.dx;
  const float* col = a.col;
  int64_t planes = N * C, taps = static_cast<int64_t>(kH) * kW, rowLen = OH * OW;
  if (planes * H * W == 0) return;
  if (OH * OW == 0) {  // no taps to fold back (kH * kW alone may be large): dx is all zeros
    std::memset(dx, 0, static_cast<size_t>(planes * H * W) * 4);
    return;
  }
  // Each plane's taps are its own consecutive col rows, so planes are independent.
  parallel_for(planes, rowGrain(taps * rowLen + H * W), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      float* plane = dx + p * H * W;
      std::memset(plane, 0, static_cast<size_t>(H * W) * 4);
      for (int64_t k = 0; k < taps; ++k)
        col2imRow(plane, col + (p * taps + k) * rowLen, g, static_cast<int>(k / kW), static_cast<int>(k % kW));
    }
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
