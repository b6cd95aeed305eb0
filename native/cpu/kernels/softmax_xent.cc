// Softmax / log-softmax over [outer, n, inner] (max-subtracted, so large logits are safe) and the
// fused softmax cross-entropy over logits [B, C] with int32 targets.
#include <cmath>

#include "kernels_isa.h"
#include "vec_math.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr int64_t kTile = 256;  // inner columns handled together when inner > 1

inline float maxNan(float acc, float v) { return ((v > acc) | (v != v)) ? v : acc; }

// sum_j exp(x[j] - m), also stored to out when it is not null; a vector at a time (AVX-512 or AVX2),
// lane sums flushed into a double every 256 vectors so long rows keep their precision.
double expShiftSum(const float* __restrict x, float m, int64_t n, float* __restrict out) {
  double sum = 0;
  int64_t j = 0;
#if defined(KILN_VEC)
  const vfloat mv = vset(m);
  while (j + kVecW <= n) {
    vfloat acc = vzero();
    for (int k = 0; k < 256 && j + kVecW <= n; ++k, j += kVecW) {
      const vfloat e = vexp(vload(x + j) - mv);
      if (out != nullptr) vstore(out + j, e);
      acc = acc + e;
    }
    sum += vsum(acc);
  }
#endif
  for (; j < n; ++j) {
    float e = expf(x[j] - m);
    if (out != nullptr) out[j] = e;
    sum += e;
  }
  return sum;
}

// One contiguous row of length n (inner == 1).
void softmaxRow(float* __restrict y, const float* __restrict x, int64_t n, bool log) {
  float m = x[0];
  for (int64_t j = 1; j < n; ++j) m = maxNan(m, x[j]);
  double sum = 0;
  if (log) {
    sum = expShiftSum(x, m, n, nullptr);
    // (x - m) - log(sum), not x - (m + log(sum)): the near-zero outputs keep their precision
    float logSum = static_cast<float>(::log(sum));
    for (int64_t j = 0; j < n; ++j) y[j] = (x[j] - m) - logSum;
  } else {
    sum = expShiftSum(x, m, n, y);
    float inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < n; ++j) y[j] *= inv;
  }
}

// A tile of w columns (stride inner) walking down n.
void softmaxTile(float* __restrict y, const float* __restrict x, int64_t n, int64_t inner,
                 int64_t w, bool log) {
  float m[kTile];
  double sum[kTile];
  for (int64_t i = 0; i < w; ++i) {
    m[i] = x[i];
    sum[i] = 0;
  }
  for (int64_t j = 1; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) m[i] = maxNan(m[i], x[j * inner + i]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      float e = expf(x[j * inner + i] - m[i]);
      if (!log) y[j * inner + i] = e;
      sum[i] += e;
    }
  float k[kTile];  // log: subtract log(sum) after m; softmax: multiply by 1/sum
  for (int64_t i = 0; i < w; ++i)
    k[i] = log ? static_cast<float>(::log(sum[i])) : static_cast<float>(1.0 / sum[i]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      if (log) y[j * inner + i] = (x[j * inner + i] - m[i]) - k[i];
      else y[j * inner + i] *= k[i];
    }
}

// softmax: dx = y * (dy - sum(dy * y)); log-softmax: dx = dy - exp(y) * sum(dy).
void softmaxBackwardTile(float* __restrict dx, const float* __restrict dy, const float* __restrict y,
                         int64_t n, int64_t inner, int64_t w, bool log) {
  double dot[kTile];
  for (int64_t i = 0; i < w; ++i) dot[i] = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      int64_t p = j * inner + i;
      dot[i] += log ? dy[p] : dy[p] * y[p];
    }
  float d[kTile];
  for (int64_t i = 0; i < w; ++i) d[i] = static_cast<float>(dot[i]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      int64_t p = j * inner + i;
      dx[p] = log ? dy[p] - expf(y[p]) * d[i] : y[p] * (dy[p] - d[i]);
    }
}

// Runs tileFn(offset, w) over every [outer, inner-tile] pair, in parallel.
template <class F>
void forTiles(int64_t outer, int64_t n, int64_t inner, const F& tileFn) {
  int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(outer * tiles, rowGrain(n * minI64(inner, kTile)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / tiles, i0 = (t % tiles) * kTile;
      tileFn(o * n * inner + i0, minI64(kTile, inner - i0));
    }
  });
}

// float64: one plain form over a column tile of w (w = 1 with stride 1 for rows).
inline double maxNanD(double acc, double v) { return ((v > acc) | (v != v)) ? v : acc; }

void softmaxTileF64(double* __restrict y, const double* __restrict x, int64_t n, int64_t inner, int64_t w, bool log) {
  double m[kTile], sum[kTile];
  for (int64_t i = 0; i < w; ++i) {
    m[i] = x[i];
    sum[i] = 0;
  }
  for (int64_t j = 1; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) m[i] = maxNanD(m[i], x[j * inner + i]);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      double e = ::exp(x[j * inner + i] - m[i]);
      if (!log) y[j * inner + i] = e;
      sum[i] += e;
    }
  for (int64_t i = 0; i < w; ++i) sum[i] = log ? ::log(sum[i]) : 1.0 / sum[i];
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      if (log) y[j * inner + i] = (x[j * inner + i] - m[i]) - sum[i];
      else y[j * inner + i] *= sum[i];
    }
}

void softmaxBackwardTileF64(double* __restrict dx, const double* __restrict dy, const double* __restrict y,
                            int64_t n, int64_t inner, int64_t w, bool log) {
  double dot[kTile];
  for (int64_t i = 0; i < w; ++i) dot[i] = 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      int64_t p = j * inner + i;
      dot[i] += log ? dy[p] : dy[p] * y[p];
    }
  for (int64_t j = 0; j < n; ++j)
    for (int64_t i = 0; i < w; ++i) {
      int64_t p = j * inner + i;
      dx[p] = log ? dy[p] - ::exp(y[p]) * dot[i] : y[p] * (dy[p] - dot[i]);
    }
}

// Runs tile(offset, w, stride) over rows (inner == 1: w = 1) or column tiles, in parallel.
template <class F>
void forRowsOrTiles(int64_t outer, int64_t n, int64_t inner, const F& tile) {
  if (inner == 1) {
    parallel_for(outer, rowGrain(n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) tile(o * n, 1);
    });
    return;
  }
  forTiles(outer, n, inner, tile);
}

}  // namespace

void softmax(const args::softmax& a) {
  if (a.xType == DType::F64) {
    double* y = static_cast<double*>(a.y);
    const double* x = static_cast<const double*>(a.x);
    if (a.outer * a.n * a.inner == 0) return;
    forRowsOrTiles(a.outer, a.n, a.inner,
                   [&](int64_t off, int64_t w) { softmaxTileF64(y + off, x + off, a.n, a.inner, w, a.log); });
    return;
  }
  float* y = static_cast<float*>(a.y);
  const float* x = static_cast<const float*>(a.x);
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  const bool log = a.log;
  if (outer * n * inner == 0) return;
  if (inner == 1) {
    parallel_for(outer, rowGrain(n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) softmaxRow(y + o * n, x + o * n, n, log);
    });
    return;
  }
  forTiles(outer, n, inner, [&](int64_t off, int64_t w) { softmaxTile(y + off, x + off, n, inner, w, log); });
}

void softmaxBackward(const args::softmaxBackward& a) {
  if (a.dxType == DType::F64) {
    double* dx = static_cast<double*>(a.dx);
    const double *dy = static_cast<const double*>(a.dy), *y = static_cast<const double*>(a.y);
    if (a.outer * a.n * a.inner == 0) return;
    forRowsOrTiles(a.outer, a.n, a.inner, [&](int64_t off, int64_t w) {
      softmaxBackwardTileF64(dx + off, dy + off, y + off, a.n, a.inner, w, a.log);
    });
    return;
  }
  float* dx = static_cast<float*>(a.dx);
  const float *dy = static_cast<const float*>(a.dy), *y = static_cast<const float*>(a.y);
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  const bool log = a.log;
  if (outer * n * inner == 0) return;
  forTiles(outer, n, inner, [&](int64_t off, int64_t w) {
    softmaxBackwardTile(dx + off, dy + off, y + off, n, inner, w, log);
  });
}

// loss[b] = -(1-ls) * logp[b, t] - ls/C * sum_c logp[b, c]; 0 where t == ignoreIndex.
void crossEntropyForward(const args::crossEntropyForward& a) {
  float *loss = a.loss, *logProbs = a.logProbs;
  const float* logits = a.logits;
  const int32_t* target = a.target;
  const int64_t B = a.B, C = a.C;
  const int32_t ignoreIndex = a.ignoreIndex;
  const float labelSmoothing = a.labelSmoothing;
  if (B == 0) return;
  parallel_for(B, rowGrain(C), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* lp = logProbs + b * C;
      if (C > 0) softmaxRow(lp, logits + b * C, C, true);
      int32_t t = target[b];
      if (t == ignoreIndex) {
        loss[b] = 0;
        continue;
      }
      double l = -(1.0 - labelSmoothing) * lp[t];
      if (labelSmoothing != 0) {
        double s = 0;
        for (int64_t c = 0; c < C; ++c) s += lp[c];
        l -= static_cast<double>(labelSmoothing) / C * s;
      }
      loss[b] = static_cast<float>(l);
    }
  });
}

// dlogits[b, c] = dloss[b] * (exp(logp[b, c]) - (1-ls) * [c == t] - ls/C); 0 rows when ignored.
void crossEntropyBackward(const args::crossEntropyBackward& a) {
  float* dlogits = a.dlogits;
  const float *dloss = a.dloss, *logProbs = a.logProbs;
  const int32_t* target = a.target;
  const int64_t B = a.B, C = a.C;
  const int32_t ignoreIndex = a.ignoreIndex;
  const float labelSmoothing = a.labelSmoothing;
  if (B == 0) return;
  parallel_for(B, rowGrain(C), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      float* __restrict d = dlogits + b * C;
      const float* __restrict lp = logProbs + b * C;
      int32_t t = target[b];
      if (t == ignoreIndex) {
        for (int64_t c = 0; c < C; ++c) d[c] = 0;
        continue;
      }
      float g = dloss[b], smooth = C > 0 ? labelSmoothing / static_cast<float>(C) : 0.0f;
      for (int64_t c = 0; c < C; ++c) d[c] = g * (expf(lp[c]) - smooth);
      d[t] -= g * (1.0f - labelSmoothing);
    }
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
