// Softmax / log-softmax over [outer, n, inner] with backward, and fused softmax cross-entropy
// (logits [B, C], I32 targets, ignoreIndex, label smoothing) as documented in backend.h.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

// inner == 1: one block per row.
__global__ void softmaxRows(float* y, const float* x, int64_t outer, int64_t n, bool log) {
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const float* xr = x + row * n;
    float* yr = y + row * n;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = blockMax(m);
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += expf(xr[j] - m);
    sum = blockSum(sum);
    if (log) {
      float lse = logf(sum);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - m - lse;
    } else {
      float inv = 1.0f / sum;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = expf(xr[j] - m) * inv;
    }
  }
}

__global__ void softmaxColumns(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, bool log) {
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const float* xc = x + o * n * inner + i;
    float* yc = y + o * n * inner + i;
    float m = -INFINITY;
    for (int64_t j = 0; j < n; ++j) m = fmaxf(m, xc[j * inner]);
    float sum = 0.f;
    for (int64_t j = 0; j < n; ++j) sum += expf(xc[j * inner] - m);
    if (log) {
      float lse = logf(sum);
      for (int64_t j = 0; j < n; ++j) yc[j * inner] = xc[j * inner] - m - lse;
    } else {
      float inv = 1.0f / sum;
      for (int64_t j = 0; j < n; ++j) yc[j * inner] = expf(xc[j * inner] - m) * inv;
    }
  }
}

// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy)
__global__ void softmaxBackwardRows(float* dx, const float* dy, const float* y, int64_t outer, int64_t n,
                                    bool log) {
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const float* dyr = dy + row * n;
    const float* yr = y + row * n;
    float* dxr = dx + row * n;
    float dot = 0.f;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) dot += log ? dyr[j] : dyr[j] * yr[j];
    dot = blockSum(dot);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      dxr[j] = log ? dyr[j] - expf(yr[j]) * dot : yr[j] * (dyr[j] - dot);
    }
  }
}

__global__ void softmaxBackwardColumns(float* dx, const float* dy, const float* y, int64_t outer, int64_t n,
                                       int64_t inner, bool log) {
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    int64_t base = o * n * inner + i;
    float dot = 0.f;
    for (int64_t j = 0; j < n; ++j) {
      int64_t k = base + j * inner;
      dot += log ? dy[k] : dy[k] * y[k];
    }
    for (int64_t j = 0; j < n; ++j) {
      int64_t k = base + j * inner;
      dx[k] = log ? dy[k] - expf(y[k]) * dot : y[k] * (dy[k] - dot);
    }
  }
}

// One block per row b: logProbs[b, :] = log_softmax(logits[b, :]);
// loss[b] = -(1-ls) * logp[b, t] - ls/C * sum_c logp[b, c]  (0 where t == ignoreIndex)
__global__ void xentForward(int32_t* err, float* loss, float* logProbs, const float* logits,
                            const int32_t* target, int64_t B, int64_t C, int32_t ignoreIndex, float ls) {
  for (int64_t b = blockIdx.x; b < B; b += gridDim.x) {
    const float* xr = logits + b * C;
    float* lp = logProbs + b * C;
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x) m = fmaxf(m, xr[j]);
    m = blockMax(m);
    float sum = 0.f;
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x) sum += expf(xr[j] - m);
    sum = blockSum(sum);
    float lse = m + logf(sum);
    float lpSum = 0.f;
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x) {
      float v = xr[j] - lse;
      lp[j] = v;
      lpSum += v;
    }
    lpSum = blockSum(lpSum);
    if (threadIdx.x == 0) {
      int32_t t = target[b];
      float l = 0.f;
      if (t != ignoreIndex) {
        if (t < 0 || t >= C) {
          reportError(err, kErrCrossEntropyTarget);
          l = __int_as_float(0x7fc00000);
        } else {
          l = -(1.0f - ls) * (xr[t] - lse) - (ls / static_cast<float>(C)) * lpSum;
        }
      }
      loss[b] = l;
    }
  }
}

// dlogits[b, c] = dloss[b] * (exp(logp[b, c]) - (1-ls) * [c == t] - ls/C)  (0 rows when ignored)
__global__ void xentBackward(int32_t* err, float* dlogits, const float* dloss, const float* logProbs,
                             const int32_t* target, int64_t B, int64_t C, int32_t ignoreIndex, float ls) {
  KILN_GRID_STRIDE(k, B * C) {
    int64_t b = k / C, c = k - b * C;
    int32_t t = target[b];
    float v = 0.f;
    if (t != ignoreIndex) {
      if (t < 0 || t >= C) {
        if (c == 0) reportError(err, kErrCrossEntropyTarget);
        v = __int_as_float(0x7fc00000);
      } else {
        v = dloss[b] * (expf(logProbs[k]) - (c == t ? 1.0f - ls : 0.f) - ls / static_cast<float>(C));
      }
    }
    dlogits[k] = v;
  }
}

unsigned rowBlocks(int64_t rows) { return static_cast<unsigned>(rows < 65535 * 16 ? rows : 65535 * 16); }

// float64: one thread per (outer, inner) slot walking down n, in double.
__global__ void softmaxSlotsD(double* y, const double* x, int64_t outer, int64_t n, int64_t inner, bool log) {
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const double* xc = x + o * n * inner + i;
    double* yc = y + o * n * inner + i;
    double m = xc[0];
    for (int64_t j = 1; j < n; ++j) m = (xc[j * inner] > m || xc[j * inner] != xc[j * inner]) ? xc[j * inner] : m;
    double sum = 0.0;
    for (int64_t j = 0; j < n; ++j) sum += exp(xc[j * inner] - m);
    double k = log ? ::log(sum) : 1.0 / sum;
    for (int64_t j = 0; j < n; ++j) yc[j * inner] = log ? (xc[j * inner] - m) - k : exp(xc[j * inner] - m) * k;
  }
}

__global__ void softmaxBackwardSlotsD(double* dx, const double* dy, const double* y, int64_t outer, int64_t n,
                                      int64_t inner, bool log) {
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    int64_t base = o * n * inner + i;
    double dot = 0.0;
    for (int64_t j = 0; j < n; ++j) {
      int64_t k = base + j * inner;
      dot += log ? dy[k] : dy[k] * y[k];
    }
    for (int64_t j = 0; j < n; ++j) {
      int64_t k = base + j * inner;
      dx[k] = log ? dy[k] - exp(y[k]) * dot : y[k] * (dy[k] - dot);
    }
  }
}

}  // namespace

void softmax(DeviceContext& dev, const args::softmax& a) {
  if (a.outer * a.n * a.inner <= 0) return;
  if (a.xType == DType::F64) {
    softmaxSlotsD<<<gridFor(a.outer * a.inner), kThreads, 0, dev.stream()>>>(
        static_cast<double*>(a.y), static_cast<const double*>(a.x), a.outer, a.n, a.inner, a.log);
  } else if (a.inner == 1) {
    softmaxRows<<<rowBlocks(a.outer), kThreads, 0, dev.stream()>>>(static_cast<float*>(a.y), static_cast<const float*>(a.x),
                                                                   a.outer, a.n, a.log);
  } else {
    softmaxColumns<<<gridFor(a.outer * a.inner), kThreads, 0, dev.stream()>>>(
        static_cast<float*>(a.y), static_cast<const float*>(a.x), a.outer, a.n, a.inner, a.log);
  }
  checkLaunch("softmax");
}

void softmaxBackward(DeviceContext& dev, const args::softmaxBackward& a) {
  if (a.outer * a.n * a.inner <= 0) return;
  if (a.dxType == DType::F64) {
    softmaxBackwardSlotsD<<<gridFor(a.outer * a.inner), kThreads, 0, dev.stream()>>>(
        static_cast<double*>(a.dx), static_cast<const double*>(a.dy), static_cast<const double*>(a.y), a.outer, a.n, a.inner,
        a.log);
  } else if (a.inner == 1) {
    softmaxBackwardRows<<<rowBlocks(a.outer), kThreads, 0, dev.stream()>>>(
        static_cast<float*>(a.dx), static_cast<const float*>(a.dy), static_cast<const float*>(a.y), a.outer, a.n, a.log);
  } else {
    softmaxBackwardColumns<<<gridFor(a.outer * a.inner), kThreads, 0, dev.stream()>>>(
        static_cast<float*>(a.dx), static_cast<const float*>(a.dy), static_cast<const float*>(a.y), a.outer, a.n, a.inner,
        a.log);
  }
  checkLaunch("softmaxBackward");
}

void crossEntropyForward(DeviceContext& dev, const args::crossEntropyForward& a) {
  if (a.B <= 0) return;
  if (a.C <= 0) throw Error("cuda: crossEntropy: expected at least one class");
  xentForward<<<rowBlocks(a.B), kThreads, 0, dev.stream()>>>(dev.errorWord(), a.loss, a.logProbs, a.logits, a.target,
                                                              a.B, a.C, a.ignoreIndex, a.labelSmoothing);
  checkLaunch("crossEntropyForward");
}

void crossEntropyBackward(DeviceContext& dev, const args::crossEntropyBackward& a) {
  if (a.B * a.C <= 0) return;
  xentBackward<<<gridFor(a.B * a.C), kThreads, 0, dev.stream()>>>(dev.errorWord(), a.dlogits, a.dloss, a.logProbs,
                                                                   a.target, a.B, a.C, a.ignoreIndex, a.labelSmoothing);
  checkLaunch("crossEntropyBackward");
}

}  // namespace kiln::cuda
