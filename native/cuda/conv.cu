// Convolution helpers, NCHW. col is [N, C*kH*kW, OH*OW], row (c*kH + kh)*kW + kw.
// col2im gathers (one thread per image element), so it is deterministic and needs no atomics.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__global__ void im2colKernel(float* col, const float* x, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                             int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW) {
  int64_t L = OH * OW, rows = C * kH * kW;
  KILN_GRID_STRIDE(t, N * rows * L) {
    int64_t l = t % L, r = (t / L) % rows, n = t / (L * rows);
    int64_t kw = r % kW, kh = (r / kW) % kH, c = r / (static_cast<int64_t>(kW) * kH);
    int64_t oh = l / OW, ow = l - oh * OW;
    int64_t h = oh * sH - pH + kh * dH, w = ow * sW - pW + kw * dW;
    col[t] = (h >= 0 && h < H && w >= 0 && w < W) ? x[((n * C + c) * H + h) * W + w] : 0.f;
  }
}

__global__ void col2imKernel(float* dx, const float* col, int64_t N, int64_t C, int64_t H, int64_t W, int kH,
                             int kW, int sH, int sW, int pH, int pW, int dH, int dW, int64_t OH, int64_t OW) {
  int64_t L = OH * OW, rows = C * kH * kW;
  KILN_GRID_STRIDE(t, N * C * H * W) {
    int64_t w = t % W, h = (t / W) % H, c = (t / (W * H)) % C, n = t / (W * H * C);
    float acc = 0.f;
    for (int kh = 0; kh < kH; ++kh) {
      int64_t hs = h + pH - static_cast<int64_t>(kh) * dH;
      if (hs < 0 || hs % sH != 0) continue;
      int64_t oh = hs / sH;
      if (oh >= OH) continue;
      for (int kw = 0; kw < kW; ++kw) {
        int64_t ws = w + pW - static_cast<int64_t>(kw) * dW;
        if (ws < 0 || ws % sW != 0) continue;
        int64_t ow = ws / sW;
        if (ow >= OW) continue;
        int64_t r = (c * kH + kh) * kW + kw;
        acc += col[(n * rows + r) * L + oh * OW + ow];
      }
    }
    dx[t] = acc;
  }
}

}  // namespace

void im2col(DeviceContext& dev, const args::im2col& a) {
  const ConvGeom& g = a.g;
  int64_t total = g.N * g.C * g.kH * g.kW * g.OH * g.OW;
  if (total <= 0) return;
  im2colKernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(a.col, a.x, g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW,
                                                               g.pH, g.pW, g.dH, g.dW, g.OH, g.OW);
  checkLaunch("im2col");
}

void col2im(DeviceContext& dev, const args::col2im& a) {
  const ConvGeom& g = a.g;
  int64_t total = g.N * g.C * g.H * g.W;
  if (total <= 0) return;
  if (g.OH * g.OW == 0) {  // no taps to fold back (kH * kW alone may be large): dx is all zeros
    KILN_CUDA(cudaMemsetAsync(a.dx, 0, static_cast<size_t>(total) * sizeof(float), dev.stream()));
    return;
  }
  col2imKernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(a.dx, a.col, g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW,
                                                               g.pH, g.pW, g.dH, g.dW, g.OH, g.OW);
  checkLaunch("col2im");
}

}  // namespace kiln::cuda
