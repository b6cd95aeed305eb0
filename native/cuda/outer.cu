// Upper triangles of row outer products (ops.def outerTriangle), the CPU kernel's results (outer.cc).
#include "launch.cuh"

// One thread per (row, i) writes x_i x_j for j >= i.
namespace kiln::cuda {
namespace {

template <class T>
__global__ void outerTriangleKernel(T* out, const T* x, int64_t n, int64_t d) {
  const int64_t m = d * (d + 1) / 2;
  KILN_GRID_STRIDE(t, n * d) {
    const int64_t r = t / d, i = t - r * d;
    const T* xr = x + r * d;
    T* o = out + r * m + i * d - i * (i - 1) / 2;  // the pairs of rows before i: sum of d - i' for i' < i
    const T xi = xr[i];
    for (int64_t j = i; j < d; ++j) o[j - i] = xi * xr[j];
  }
}

}  // namespace

void outerTriangle(DeviceContext& dev, const args::outerTriangle& a) {
  if (a.n * a.d == 0) return;
  if (a.xType == DType::F64) {
    outerTriangleKernel<double><<<gridFor(a.n * a.d), kThreads, 0, dev.stream()>>>(
        static_cast<double*>(a.out), static_cast<const double*>(a.x), a.n, a.d);
  } else {
    outerTriangleKernel<float><<<gridFor(a.n * a.d), kThreads, 0, dev.stream()>>>(
        static_cast<float*>(a.out), static_cast<const float*>(a.x), a.n, a.d);
  }
  checkLaunch("outerTriangle");
}

}  // namespace kiln::cuda
