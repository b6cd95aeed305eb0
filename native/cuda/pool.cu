// Pooling, NCHW, with PyTorch's window rules: max pooling treats padding as -inf and records the
// flat index h * W + w of the first maximum (NaN wins); average pooling divides by the window
// clipped to the padded image (countIncludePad) or to the image.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__global__ void maxPoolKernel(float* y, int32_t* argmax, const float* x, int64_t NC, int64_t H, int64_t W,
                              int kH, int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW) {
  KILN_GRID_STRIDE(t, NC * OH * OW) {
    int64_t ow = t % OW, oh = (t / OW) % OH, plane = t / (OW * OH);
    int64_t h0 = oh * sH - pH, w0 = ow * sW - pW;
    int64_t h1 = min(h0 + kH, H), w1 = min(w0 + kW, W);
    h0 = max(h0, int64_t{0});
    w0 = max(w0, int64_t{0});
    const float* xp = x + plane * H * W;
    float best = -INFINITY;
    int64_t bi = h0 * W + w0;
    for (int64_t h = h0; h < h1; ++h) {
      for (int64_t w = w0; w < w1; ++w) {
        float v = xp[h * W + w];
        if (v > best || v != v) {
          best = v;
          bi = h * W + w;
          if (v != v) goto done;
        }
      }
    }
  done:
    y[t] = best;
    argmax[t] = static_cast<int32_t>(bi);
  }
}

__global__ void maxPoolBackwardKernel(int32_t* err, float* dx, const float* dy, const int32_t* argmax,
                                      int64_t NC, int64_t HW, int64_t OHW) {
  KILN_GRID_STRIDE(t, NC * OHW) {
    int64_t plane = t / OHW;
    int32_t a = argmax[t];
    if (a < 0 || a >= HW) {
      reportError(err, kErrMaxPoolArgmax);
      continue;
    }
    atomicAdd(dx + plane * HW + a, dy[t]);
  }
}

struct Window {
  int64_t h0, h1, w0, w1;
  float divisor;
};

__device__ __forceinline__ Window avgWindow(int64_t oh, int64_t ow, int64_t H, int64_t W, int kH, int kW, int sH,
                                            int sW, int pH, int pW, bool countIncludePad) {
  int64_t h0 = oh * sH - pH, w0 = ow * sW - pW;
  int64_t h1 = min(h0 + kH, H + pH), w1 = min(w0 + kW, W + pW);
  int64_t poolSize = (h1 - h0) * (w1 - w0);
  h0 = max(h0, int64_t{0});
  w0 = max(w0, int64_t{0});
  h1 = min(h1, H);
  w1 = min(w1, W);
  int64_t count = countIncludePad ? poolSize : (h1 - h0) * (w1 - w0);
  return Window{h0, h1, w0, w1, static_cast<float>(count)};
}

__global__ void avgPoolKernel(float* y, const float* x, int64_t NC, int64_t H, int64_t W, int kH, int kW, int sH,
                              int sW, int pH, int pW, int64_t OH, int64_t OW, bool countIncludePad) {
  KILN_GRID_STRIDE(t, NC * OH * OW) {
    int64_t ow = t % OW, oh = (t / OW) % OH, plane = t / (OW * OH);
    Window win = avgWindow(oh, ow, H, W, kH, kW, sH, sW, pH, pW, countIncludePad);
    const float* xp = x + plane * H * W;
    float acc = 0.f;
    for (int64_t h = win.h0; h < win.h1; ++h)
      for (int64_t w = win.w0; w < win.w1; ++w) acc += xp[h * W + w];
    y[t] = acc / win.divisor;
  }
}

// One thread per input element, gathering from the windows that cover it.
__global__ void avgPoolBackwardKernel(float* dx, const float* dy, int64_t NC, int64_t H, int64_t W, int kH,
                                      int kW, int sH, int sW, int pH, int pW, int64_t OH, int64_t OW,
                                      bool countIncludePad) {
  KILN_GRID_STRIDE(t, NC * H * W) {
    int64_t w = t % W, h = (t / W) % H, plane = t / (W * H);
    int64_t ohStart = (h + pH < kH) ? 0 : (h + pH - kH) / sH + 1;
    int64_t ohEnd = min((h + pH) / sH + 1, OH);
    int64_t owStart = (w + pW < kW) ? 0 : (w + pW - kW) / sW + 1;
    int64_t owEnd = min((w + pW) / sW + 1, OW);
    const float* dyp = dy + plane * OH * OW;
    float acc = 0.f;
    for (int64_t oh = ohStart; oh < ohEnd; ++oh) {
      for (int64_t ow = owStart; ow < owEnd; ++ow) {
        Window win = avgWindow(oh, ow, H, W, kH, kW, sH, sW, pH, pW, countIncludePad);
        if (h >= win.h0 && h < win.h1 && w >= win.w0 && w < win.w1) acc += dyp[oh * OW + ow] / win.divisor;
      }
    }
    dx[t] = acc;
  }
}

}  // namespace

void maxPool2d(DeviceContext& dev, const args::maxPool2d& a) {
  const ConvGeom& g = a.g;
  int64_t total = g.N * g.C * g.OH * g.OW;
  if (total <= 0) return;
  maxPoolKernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(a.y, a.argmax, a.x, g.N * g.C, g.H, g.W, g.kH, g.kW,
                                                                g.sH, g.sW, g.pH, g.pW, g.OH, g.OW);
  checkLaunch("maxPool2d");
}

// dx is overwritten: zeroed, then each output's gradient is added at its argmax.
void maxPool2dBackward(DeviceContext& dev, const args::maxPool2dBackward& a) {
  const ConvGeom& g = a.g;
  int64_t nx = g.N * g.C * g.H * g.W;
  if (nx <= 0) return;
  KILN_CUDA(cudaMemsetAsync(a.dx, 0, static_cast<size_t>(nx) * sizeof(float), dev.stream()));
  int64_t total = g.N * g.C * g.OH * g.OW;
  if (total <= 0) return;
  maxPoolBackwardKernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(dev.errorWord(), a.dx, a.dy, a.argmax, g.N * g.C,
                                                                        g.H * g.W, g.OH * g.OW);
  checkLaunch("maxPool2dBackward");
}

void avgPool2d(DeviceContext& dev, const args::avgPool2d& a) {
  const ConvGeom& g = a.g;
  int64_t total = g.N * g.C * g.OH * g.OW;
  if (total <= 0) return;
  avgPoolKernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(a.y, a.x, g.N * g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW,
                                                                g.pH, g.pW, g.OH, g.OW, a.countIncludePad);
  checkLaunch("avgPool2d");
}

void avgPool2dBackward(DeviceContext& dev, const args::avgPool2dBackward& a) {
  const ConvGeom& g = a.g;
  int64_t total = g.N * g.C * g.H * g.W;
  if (total <= 0) return;
  avgPoolBackwardKernel<<<gridFor(total), kThreads, 0, dev.stream()>>>(a.dx, a.dy, g.N * g.C, g.H, g.W, g.kH, g.kW,
                                                                        g.sH, g.sW, g.pH, g.pW, g.OH, g.OW,
                                                                        a.countIncludePad);
  checkLaunch("avgPool2dBackward");
}

}  // namespace kiln::cuda
