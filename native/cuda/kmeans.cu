// k-means (Lloyd) assignment and accumulation (ops.def kmeansAssign), the CPU kernel's results:
// one thread per row scans the centers (||c_j||^2 - 2 x.c_j in x's dtype, strict < so the lowest j
// wins ties), then the exact squared distance to the chosen center in float64; sums, counts and
// the inertia are float64 atomic adds (their order, hence the last bits, vary between runs).
// Correctness first, not tuned: the centers are read through the cache, not staged.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

template <class T>
__global__ void kmeansAssignKernel(int32_t* labels, double* minDist, double* sums, double* counts, double* inertia,
                                   const T* x, const T* c, int64_t n, int64_t d, int64_t k) {
  KILN_GRID_STRIDE(i, n) {
    const T* xr = x + i * d;
    T best = static_cast<T>(INFINITY);
    int64_t lab = 0;
    for (int64_t j = 0; j < k; ++j) {
      const T* cr = c + j * d;
      T cs = 0, dot = 0;
      for (int64_t f = 0; f < d; ++f) {
        cs += cr[f] * cr[f];
        dot += xr[f] * cr[f];
      }
      const T v = cs - 2 * dot;
      if (v < best) {
        best = v;
        lab = j;
      }
    }
    const T* cr = c + lab * d;
    double dist = 0;
    for (int64_t f = 0; f < d; ++f) {
      const double t = static_cast<double>(xr[f]) - static_cast<double>(cr[f]);
      dist += t * t;
    }
    labels[i] = static_cast<int32_t>(lab);
    if (minDist != nullptr) minDist[i] = dist;
    atomicAdd(inertia, dist);
    if (sums != nullptr) {
      for (int64_t f = 0; f < d; ++f) atomicAdd(sums + lab * d + f, static_cast<double>(xr[f]));
      atomicAdd(counts + lab, 1.0);
    }
  }
}

}  // namespace

void kmeansAssign(DeviceContext& dev, const args::kmeansAssign& a) {
  KILN_CUDA(cudaMemsetAsync(a.inertia, 0, sizeof(double), dev.stream()));
  if (a.sums != nullptr) {
    if (a.k * a.d > 0) KILN_CUDA(cudaMemsetAsync(a.sums, 0, static_cast<size_t>(a.k * a.d) * sizeof(double), dev.stream()));
    if (a.k > 0) KILN_CUDA(cudaMemsetAsync(a.counts, 0, static_cast<size_t>(a.k) * sizeof(double), dev.stream()));
  }
  if (a.n == 0) return;
  if (a.xType == DType::F64) {
    kmeansAssignKernel<double><<<gridFor(a.n), kThreads, 0, dev.stream()>>>(
        a.labels, a.minDist, a.sums, a.counts, a.inertia, static_cast<const double*>(a.x),
        static_cast<const double*>(a.centers), a.n, a.d, a.k);
  } else {
    kmeansAssignKernel<float><<<gridFor(a.n), kThreads, 0, dev.stream()>>>(
        a.labels, a.minDist, a.sums, a.counts, a.inertia, static_cast<const float*>(a.x),
        static_cast<const float*>(a.centers), a.n, a.d, a.k);
  }
  checkLaunch("kmeansAssign");
}

}  // namespace kiln::cuda
