// Indexing over [outer, n, inner] with I32 indices: indexSelect / indexAdd along the middle dim,
// gather / scatterAdd with a full index tensor. Adds use atomicAdd (order of equal-index adds is
// unspecified, as on any GPU). An out-of-range index is skipped and reported at the next sync.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

// out[o, j, i] = src[o, idx[j], i]
template <class W>
__global__ void indexSelectKernel(int32_t* err, W* out, const W* src, const int32_t* idx,
                                  int64_t outer, int64_t n, int64_t inner, int64_t nIdx) {
  KILN_GRID_STRIDE(t, outer * nIdx * inner) {
    int64_t i = t % inner, r = t / inner, j = r % nIdx, o = r / nIdx;
    int32_t k = idx[j];
    if (k < 0 || k >= n) {
      reportError(err, kErrIndexSelect);
      continue;
    }
    out[t] = src[(o * n + k) * inner + i];
  }
}

// dst[o, idx[j], i] += src[o, j, i]
template <class T>
__global__ void indexAddKernel(int32_t* err, T* dst, const T* src, const int32_t* idx, int64_t outer,
                               int64_t n, int64_t inner, int64_t nIdx) {
  KILN_GRID_STRIDE(t, outer * nIdx * inner) {
    int64_t i = t % inner, r = t / inner, j = r % nIdx, o = r / nIdx;
    int32_t k = idx[j];
    if (k < 0 || k >= n) {
      reportError(err, kErrIndexAdd);
      continue;
    }
    atomicAdd(dst + (o * n + k) * inner + i, src[t]);
  }
}

// out[o, j, i] = src[o, idx[o, j, i], i]
template <class W>
__global__ void gatherKernel(int32_t* err, W* out, const W* src, const int32_t* idx,
                             int64_t outer, int64_t n, int64_t inner, int64_t k) {
  KILN_GRID_STRIDE(t, outer * k * inner) {
    int64_t i = t % inner, o = t / (k * inner);
    int32_t v = idx[t];
    if (v < 0 || v >= n) {
      reportError(err, kErrGather);
      continue;
    }
    out[t] = src[(o * n + v) * inner + i];
  }
}

// dst[o, idx[o, j, i], i] += src[o, j, i]
template <class T>
__global__ void scatterAddKernel(int32_t* err, T* dst, const T* src, const int32_t* idx, int64_t outer,
                                 int64_t n, int64_t inner, int64_t k) {
  KILN_GRID_STRIDE(t, outer * k * inner) {
    int64_t i = t % inner, o = t / (k * inner);
    int32_t v = idx[t];
    if (v < 0 || v >= n) {
      reportError(err, kErrScatterAdd);
      continue;
    }
    atomicAdd(dst + (o * n + v) * inner + i, src[t]);
  }
}

}  // namespace

void indexSelect(DeviceContext& dev, const args::indexSelect& a) {
  int64_t total = a.outer * a.nIdx * a.inner;
  if (total <= 0) return;
  if (dtypeSize(a.srcType) == 8) {
    indexSelectKernel<uint64_t><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<uint64_t*>(a.out), static_cast<const uint64_t*>(a.src), a.idx, a.outer, a.n, a.inner, a.nIdx);
  } else {
    indexSelectKernel<uint32_t><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<uint32_t*>(a.out), static_cast<const uint32_t*>(a.src), a.idx, a.outer, a.n, a.inner, a.nIdx);
  }
  checkLaunch("indexSelect");
}

void indexAdd(DeviceContext& dev, const args::indexAdd& a) {
  int64_t total = a.outer * a.nIdx * a.inner;
  if (total <= 0) return;
  if (a.dstType == DType::F64) {
    indexAddKernel<double><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<double*>(a.dst), static_cast<const double*>(a.src), a.idx, a.outer, a.n, a.inner, a.nIdx);
  } else {
    indexAddKernel<float><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<float*>(a.dst), static_cast<const float*>(a.src), a.idx, a.outer, a.n, a.inner, a.nIdx);
  }
  checkLaunch("indexAdd");
}

void gather(DeviceContext& dev, const args::gather& a) {
  int64_t total = a.outer * a.k * a.inner;
  if (total <= 0) return;
  if (dtypeSize(a.srcType) == 8) {
    gatherKernel<uint64_t><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<uint64_t*>(a.out), static_cast<const uint64_t*>(a.src), a.idx, a.outer, a.n, a.inner, a.k);
  } else {
    gatherKernel<uint32_t><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<uint32_t*>(a.out), static_cast<const uint32_t*>(a.src), a.idx, a.outer, a.n, a.inner, a.k);
  }
  checkLaunch("gather");
}

void scatterAdd(DeviceContext& dev, const args::scatterAdd& a) {
  int64_t total = a.outer * a.k * a.inner;
  if (total <= 0) return;
  if (a.dstType == DType::F64) {
    scatterAddKernel<double><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<double*>(a.dst), static_cast<const double*>(a.src), a.idx, a.outer, a.n, a.inner, a.k);
  } else {
    scatterAddKernel<float><<<gridFor(total), kThreads, 0, dev.stream()>>>(
        dev.errorWord(), static_cast<float*>(a.dst), static_cast<const float*>(a.src), a.idx, a.outer, a.n, a.inner, a.k);
  }
  checkLaunch("scatterAdd");
}

}  // namespace kiln::cuda
