// Reductions over [outer, n, inner] -> [outer, inner]. float32: Sum/Mean accumulate in double per thread
// (then a float tree across the block for inner == 1); Max/Min propagate NaN and ArgMax/ArgMin give the first index of the
// extreme value (NaN counts as the extreme), as torch does.
#include <climits>
#include <cmath>

#include "launch.cuh"

namespace kiln::cuda {
namespace {

struct Best {
  float v;
  int64_t i;  // -1: nothing seen yet
};

// Whether (a, ia) beats (b, ib) for a max (isMax) or min search.
__device__ __forceinline__ bool better(float a, int64_t ia, float b, int64_t ib, bool isMax) {
  if (ia < 0) return false;
  if (ib < 0) return true;
  bool an = a != a, bn = b != b;
  if (an || bn) return (an && bn) ? ia < ib : an;
  if (a == b) return ia < ib;
  return isMax ? a > b : a < b;
}

__device__ __forceinline__ void writeOut(ReduceOp op, void* out, int64_t o, float sum, Best best, int64_t n) {
  switch (op) {
    case ReduceOp::Sum: static_cast<float*>(out)[o] = sum; break;
    case ReduceOp::Mean: static_cast<float*>(out)[o] = sum / static_cast<float>(n); break;
    case ReduceOp::Max:
    case ReduceOp::Min: static_cast<float*>(out)[o] = best.v; break;
    default: static_cast<int32_t*>(out)[o] = static_cast<int32_t>(best.i); break;
  }
}

// inner == 1: one block per row.
__global__ void reduceRows(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n) {
  __shared__ float shV[32];
  __shared__ int64_t shI[32];
  bool sum = op == ReduceOp::Sum || op == ReduceOp::Mean;
  bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const float* xr = x + row * n;
    if (sum) {
      double part = 0.0;  // per-thread partials in double, as the CPU sums in double
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) part += xr[j];
      float acc = blockSum(static_cast<float>(part));
      if (threadIdx.x == 0) writeOut(op, out, row, acc, Best{0.f, 0}, n);
    } else {
      Best b{0.f, -1};
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
        float v = xr[j];
        if (better(v, j, b.v, b.i, isMax)) b = Best{v, j};
      }
      for (int o = 16; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(0xffffffffu, b.v, o);
        int64_t oi = __shfl_xor_sync(0xffffffffu, b.i, o);
        if (better(ov, oi, b.v, b.i, isMax)) b = Best{ov, oi};
      }
      int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
      __syncthreads();
      if (lane == 0) {
        shV[warp] = b.v;
        shI[warp] = b.i;
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        Best r = Best{shV[0], shI[0]};
        for (int w = 1; w < static_cast<int>(blockDim.x >> 5); ++w) {
          if (better(shV[w], shI[w], r.v, r.i, isMax)) r = Best{shV[w], shI[w]};
        }
        writeOut(op, out, row, 0.f, r, n);
      }
    }
  }
}

// inner > 1: one thread per output (o, i), reading down the column (coalesced across i).
__global__ void reduceColumns(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n,
                              int64_t inner) {
  bool sum = op == ReduceOp::Sum || op == ReduceOp::Mean;
  bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const float* xc = x + o * n * inner + i;
    double acc = 0.0;
    Best b{0.f, -1};
    for (int64_t j = 0; j < n; ++j) {
      float v = xc[j * inner];
      if (sum) acc += v;
      else if (better(v, j, b.v, b.i, isMax)) b = Best{v, j};
    }
    if (op == ReduceOp::Mean) acc /= static_cast<double>(n);
    writeOut(op == ReduceOp::Mean ? ReduceOp::Sum : op, out, t, static_cast<float>(acc), b, n);
  }
}

// Sum/Mean over a long column with few outputs (a bias gradient: [batch, features] summed over the
// batch): one thread per output left most of the GPU idle (16 blocks for 4096 columns, 8.8x
// PyTorch's time). A 32 x 32 block takes 32 adjacent columns; its 32 rows of threads each sum
// every 32nd element in double, and the 32 partial sums are added in a fixed order.
constexpr int kColTile = 32;

__global__ void sumColumnsTiled(bool mean, float* out, const float* x, int64_t outer, int64_t n, int64_t inner) {
  __shared__ double part[kColTile][kColTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kColTile + tx;
  for (int64_t o = blockIdx.y; o < outer; o += gridDim.y) {
    double acc = 0.0;
    if (i < inner) {
      const float* xc = x + o * n * inner + i;
      for (int64_t j = ty; j < n; j += kColTile) acc += xc[j * inner];
    }
    part[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && i < inner) {
      double total = 0.0;
      for (int r = 0; r < kColTile; ++r) total += part[r][tx];
      if (mean) total /= static_cast<double>(n);
      out[o * inner + i] = static_cast<float>(total);
    }
    __syncthreads();
  }
}

// int32, one thread per output: sums accumulate in int64 and wrap to int32 on store (as the
// CPU's reduceI32), extrema and their first indices are exact.
__global__ void reduceI32Columns(ReduceOp op, int32_t* out, const int32_t* x, int64_t outer, int64_t n,
                                 int64_t inner) {
  bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  bool isArg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const int32_t* xc = x + o * n * inner + i;
    if (op == ReduceOp::Sum) {
      long long acc = 0;
      for (int64_t j = 0; j < n; ++j) acc += xc[j * inner];
      out[t] = static_cast<int32_t>(static_cast<uint32_t>(acc));
      continue;
    }
    int32_t best = xc[0];
    int64_t at = 0;
    for (int64_t j = 1; j < n; ++j) {
      int32_t v = xc[j * inner];
      if (isMax ? v > best : v < best) {
        best = v;
        at = j;
      }
    }
    out[t] = isArg ? static_cast<int32_t>(at) : best;
  }
}

// float64: one block per output (inner == 1, a row) or one thread per output (a column); sums in
// double, extrema and first indices with the float32 rules.
__device__ __forceinline__ bool betterD(double a, int64_t ia, double b, int64_t ib, bool isMax) {
  if (ia < 0) return false;
  if (ib < 0) return true;
  bool an = a != a, bn = b != b;
  if (an || bn) return (an && bn) ? ia < ib : an;
  if (a == b) return ia < ib;
  return isMax ? a > b : a < b;
}

__device__ __forceinline__ void writeOutD(ReduceOp op, void* out, int64_t o, double sum, double best, int64_t at, int64_t n) {
  switch (op) {
    case ReduceOp::Sum: static_cast<double*>(out)[o] = sum; break;
    case ReduceOp::Mean: static_cast<double*>(out)[o] = sum / static_cast<double>(n); break;
    case ReduceOp::Max:
    case ReduceOp::Min: static_cast<double*>(out)[o] = best; break;
    default: static_cast<int32_t*>(out)[o] = static_cast<int32_t>(at); break;
  }
}

__global__ void reduceRowsD(ReduceOp op, void* out, const double* x, int64_t outer, int64_t n) {
  __shared__ double shV[kThreads];
  __shared__ int64_t shI[kThreads];
  bool sum = op == ReduceOp::Sum || op == ReduceOp::Mean;
  bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  for (int64_t row = blockIdx.x; row < outer; row += gridDim.x) {
    const double* xr = x + row * n;
    double v = 0.0;
    int64_t at = -1;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
      if (sum) v += xr[j];
      else if (betterD(xr[j], j, v, at, isMax)) {
        v = xr[j];
        at = j;
      }
    }
    __syncthreads();
    shV[threadIdx.x] = v;
    shI[threadIdx.x] = at;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s) {
        double ov = shV[threadIdx.x + s];
        int64_t oi = shI[threadIdx.x + s];
        if (sum) shV[threadIdx.x] += ov;
        else if (betterD(ov, oi, shV[threadIdx.x], shI[threadIdx.x], isMax)) {
          shV[threadIdx.x] = ov;
          shI[threadIdx.x] = oi;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) writeOutD(op, out, row, shV[0], shV[0], shI[0], n);
  }
}

__global__ void reduceColumnsD(ReduceOp op, void* out, const double* x, int64_t outer, int64_t n, int64_t inner) {
  bool sum = op == ReduceOp::Sum || op == ReduceOp::Mean;
  bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
  KILN_GRID_STRIDE(t, outer * inner) {
    int64_t o = t / inner, i = t - o * inner;
    const double* xc = x + o * n * inner + i;
    double v = 0.0;
    int64_t at = -1;
    for (int64_t j = 0; j < n; ++j) {
      double e = xc[j * inner];
      if (sum) v += e;
      else if (betterD(e, j, v, at, isMax)) {
        v = e;
        at = j;
      }
    }
    writeOutD(op, out, t, v, v, at, n);
  }
}

}  // namespace

void reduce(DeviceContext& dev, const args::reduce& a) {
  const ReduceOp op = a.op;
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  cudaStream_t s = dev.stream();
  void* out = a.out;
  int64_t total = outer * inner;
  if (total <= 0) return;
  if (a.xType == DType::I32) {
    reduceI32Columns<<<gridFor(total), kThreads, 0, s>>>(op, static_cast<int32_t*>(out),
                                                         static_cast<const int32_t*>(a.x), outer, n, inner);
    checkLaunch("reduce(int32)");
    return;
  }
  if (a.xType == DType::F64) {
    if (n == 0) {
      if (op != ReduceOp::Sum && op != ReduceOp::Mean) throw Error("cuda: reduce: cannot reduce an empty dim with this op");
      fill(dev, {.dst = out, .dstType = DType::F64, .n = total, .value = op == ReduceOp::Sum ? 0.0 : std::nan("")});
      return;
    }
    const double* xd = static_cast<const double*>(a.x);
    if (inner == 1) {
      unsigned blocks = static_cast<unsigned>(outer < 65535 * 16 ? outer : 65535 * 16);
      reduceRowsD<<<blocks, kThreads, 0, s>>>(op, out, xd, outer, n);
    } else {
      reduceColumnsD<<<gridFor(total), kThreads, 0, s>>>(op, out, xd, outer, n, inner);
    }
    checkLaunch("reduce(float64)");
    return;
  }
  const float* x = static_cast<const float*>(a.x);
  if (n == 0) {
    if (op != ReduceOp::Sum && op != ReduceOp::Mean) throw Error("cuda: reduce: cannot reduce an empty dim with this op");
    fill(dev, {.dst = out, .dstType = DType::F32, .n = total, .value = op == ReduceOp::Sum ? 0.0 : std::nan("")});
    return;
  }
  if (inner == 1) {
    unsigned blocks = static_cast<unsigned>(outer < 65535 * 16 ? outer : 65535 * 16);
    reduceRows<<<blocks, kThreads, 0, s>>>(op, out, x, outer, n);
    checkLaunch("reduce(rows)");
  } else if ((op == ReduceOp::Sum || op == ReduceOp::Mean) && n >= 4 * kColTile && total < (int64_t{1} << 20)) {
    const int64_t tiles = (inner + kColTile - 1) / kColTile;
    if (tiles > INT_MAX) throw Error("cuda: reduce: too many columns");
    dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(outer < 65535 ? outer : 65535));
    sumColumnsTiled<<<grid, dim3(kColTile, kColTile), 0, s>>>(op == ReduceOp::Mean, static_cast<float*>(out), x, outer,
                                                             n, inner);
    checkLaunch("reduce(column sums)");
  } else {
    reduceColumns<<<gridFor(total), kThreads, 0, s>>>(op, out, x, outer, n, inner);
    checkLaunch("reduce(columns)");
  }
}

}  // namespace kiln::cuda
