// Scans (cumsum, cumprod, logcumsumexp), cumprod's gradient and a stable sort over the middle axis
// of [outer, n, inner], as the CPU kernels (native/cpu/kernels/scan.cc). One thread per column for
// the scans (n is walked serially, in double, as on the CPU); the sort writes each element at its
// rank among its column (O(n^2) comparisons per column, all in parallel, stable by index).
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__device__ __forceinline__ double logAddExp(double a, double b) {
  double m = a > b ? a : b;
  if (m == -INFINITY) return -INFINITY;
  if (m == INFINITY) return INFINITY;
  return m + log1p(exp(-fabs(a - b)));
}

__global__ void scanKernel(float* y, const float* x, int64_t outer, int64_t n, int64_t inner, int op, bool reverse) {
  KILN_GRID_STRIDE(c, outer * inner) {
    int64_t o = c / inner, i = c - o * inner, base = o * n * inner + i;
    double acc = op == 0 ? 0.0 : op == 1 ? 1.0 : -INFINITY;
    for (int64_t t = 0; t < n; ++t) {
      int64_t j = reverse ? n - 1 - t : t;
      double v = x[base + j * inner];
      if (op == 0) acc += v;
      else if (op == 1) acc *= v;
      else acc = logAddExp(acc, v);
      if (v != v) acc = v;
      y[base + j * inner] = static_cast<float>(acc);
    }
  }
}

__global__ void cumprodBackwardKernel(float* dx, const float* dy, const float* x, int64_t outer, int64_t n,
                                      int64_t inner) {
  KILN_GRID_STRIDE(c, outer * inner) {
    int64_t o = c / inner, i = c - o * inner, base = o * n * inner + i;
    double s = 0;
    for (int64_t k = n - 1; k >= 0; --k) {
      double next = k + 1 < n ? x[base + (k + 1) * inner] : 0.0;
      s = dy[base + k * inner] + next * s;
      dx[base + k * inner] = static_cast<float>(s);
    }
    double p = 1;
    for (int64_t k = 0; k < n; ++k) {
      dx[base + k * inner] = static_cast<float>(p * dx[base + k * inner]);
      p *= x[base + k * inner];
    }
  }
}

// a before b in the sort order (NaN above every number, ties by index).
__device__ __forceinline__ bool before(float a, int64_t ia, float b, int64_t ib, bool descending) {
  bool an = a != a, bn = b != b;
  if (an || bn) {
    if (an && bn) return ia < ib;
    return descending ? an : bn;
  }
  if (a != b) return descending ? a > b : a < b;
  return ia < ib;
}

__global__ void sortRankKernel(float* values, int32_t* indices, const float* x, int64_t outer, int64_t n,
                               int64_t inner, bool descending) {
  KILN_GRID_STRIDE(t, outer * n * inner) {
    int64_t o = t / (n * inner), rem = t - o * n * inner, j = rem / inner, i = rem - j * inner;
    int64_t base = o * n * inner + i;
    float v = x[base + j * inner];
    int64_t rank = 0;
    for (int64_t m = 0; m < n; ++m)
      if (before(x[base + m * inner], m, v, j, descending)) ++rank;
    values[base + rank * inner] = v;
    indices[base + rank * inner] = static_cast<int32_t>(j);
  }
}

}  // namespace

void scan(DeviceContext& dev, const args::scan& a) {
  if (a.outer * a.n * a.inner <= 0) return;
  scanKernel<<<gridFor(a.outer * a.inner), kThreads, 0, dev.stream()>>>(a.y, a.x, a.outer, a.n, a.inner,
                                                                         static_cast<int>(a.op), a.reverse);
  checkLaunch("scan");
}

void cumprodBackward(DeviceContext& dev, const args::cumprodBackward& a) {
  if (a.outer * a.n * a.inner <= 0) return;
  cumprodBackwardKernel<<<gridFor(a.outer * a.inner), kThreads, 0, dev.stream()>>>(a.dx, a.dy, a.x, a.outer, a.n,
                                                                                     a.inner);
  checkLaunch("cumprodBackward");
}

void sort(DeviceContext& dev, const args::sort& a) {
  if (a.outer * a.n * a.inner <= 0) return;
  sortRankKernel<<<gridFor(a.outer * a.n * a.inner), kThreads, 0, dev.stream()>>>(a.values, a.indices, a.x, a.outer,
                                                                                    a.n, a.inner, a.descending);
  checkLaunch("sort");
}

}  // namespace kiln::cuda
