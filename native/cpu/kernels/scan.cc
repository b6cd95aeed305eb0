// Scans (cumsum, cumprod, logcumsumexp), cumprod's gradient and a stable sort, all over the middle
// axis of [outer, n, inner]. One column (o, i) walks n with stride inner; columns run in parallel.
#include <cmath>
#include <cstdlib>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

// log(exp(a) + exp(b)) without overflow; -inf when both are -inf.
inline double logAddExp(double a, double b) {
  double m = a > b ? a : b;
  if (m == -INFINITY) return -INFINITY;
  if (m == INFINITY) return INFINITY;
  return m + ::log1p(::exp(-::fabs(a - b)));
}

// Runs fn(base) over every column, base = o * n * inner + i, in parallel.
template <class F>
void forColumns(int64_t outer, int64_t n, int64_t inner, const F& fn) {
  parallel_for(outer * inner, rowGrain(n), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      int64_t o = c / inner, i = c - o * inner;
      fn(o * n * inner + i);
    }
  });
}

// Sort order: a before b. NaN is above every number; equal keys keep the index order (stable).
inline bool before(float a, int32_t ia, float b, int32_t ib, bool descending) {
  bool an = a != a, bn = b != b;
  if (an || bn) {
    if (an && bn) return ia < ib;
    return descending ? an : bn;
  }
  if (a != b) return descending ? a > b : a < b;
  return ia < ib;
}

// Bottom-up merge sort of (v, idx) pairs of length n, using tmp buffers of the same size.
void mergeSort(float* v, int32_t* idx, float* tv, int32_t* ti, int64_t n, bool descending) {
  for (int64_t w = 1; w < n; w *= 2) {
    for (int64_t lo = 0; lo < n; lo += 2 * w) {
      int64_t mid = minI64(lo + w, n), hi = minI64(lo + 2 * w, n);
      int64_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi) {
        if (before(v[b], idx[b], v[a], idx[a], descending)) {
          tv[k] = v[b];
          ti[k++] = idx[b++];
        } else {
          tv[k] = v[a];
          ti[k++] = idx[a++];
        }
      }
      while (a < mid) {
        tv[k] = v[a];
        ti[k++] = idx[a++];
      }
      while (b < hi) {
        tv[k] = v[b];
        ti[k++] = idx[b++];
      }
    }
    for (int64_t j = 0; j < n; ++j) {
      v[j] = tv[j];
      idx[j] = ti[j];
    }
  }
}

}  // namespace

void scan(const args::scan& a) {
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  if (outer * n * inner == 0) return;
  const ScanOp op = a.op;
  const bool reverse = a.reverse;
  float* y = a.y;
  const float* x = a.x;
  forColumns(outer, n, inner, [&](int64_t base) {
    double acc = op == ScanOp::Sum ? 0.0 : op == ScanOp::Prod ? 1.0 : -INFINITY;
    for (int64_t t = 0; t < n; ++t) {
      int64_t j = reverse ? n - 1 - t : t;
      double v = x[base + j * inner];
      if (op == ScanOp::Sum) acc += v;
      else if (op == ScanOp::Prod) acc *= v;
      else acc = logAddExp(acc, v);
      // x NaN: logAddExp's max drops it, so carry it explicitly
      if (v != v) acc = v;
      y[base + j * inner] = static_cast<float>(acc);
    }
  });
}

void cumprodBackward(const args::cumprodBackward& a) {
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  if (outer * n * inner == 0) return;
  float* dx = a.dx;
  const float *dy = a.dy, *x = a.x;
  forColumns(outer, n, inner, [&](int64_t base) {
    // S[k] = dy[k] + x[k+1] * S[k+1], written into dx from the end
    double s = 0;
    for (int64_t k = n - 1; k >= 0; --k) {
      double next = k + 1 < n ? x[base + (k + 1) * inner] : 0.0;
      s = dy[base + k * inner] + next * s;
      dx[base + k * inner] = static_cast<float>(s);
    }
    double p = 1;  // prod(x[0..k-1])
    for (int64_t k = 0; k < n; ++k) {
      dx[base + k * inner] = static_cast<float>(p * dx[base + k * inner]);
      p *= x[base + k * inner];
    }
  });
}

void sort(const args::sort& a) {
  const int64_t outer = a.outer, n = a.n, inner = a.inner;
  if (outer * n * inner == 0) return;
  float* values = a.values;
  int32_t* indices = a.indices;
  const float* x = a.x;
  const bool descending = a.descending;
  parallel_for(outer * inner, rowGrain(n * 8), [&](int64_t b, int64_t e) {
    // per chunk: a column's values and indices, and the merge buffers
    size_t bytes = static_cast<size_t>(n) * 4 * 4;
    char* buf = static_cast<char*>(std::malloc(bytes));
    if (buf == nullptr) {
      for (int64_t c = b; c < e; ++c) {  // out of memory: mark the columns NaN / -1 rather than crash
        int64_t o = c / inner, i = c - o * inner, base = o * n * inner + i;
        for (int64_t j = 0; j < n; ++j) {
          values[base + j * inner] = NAN;
          indices[base + j * inner] = -1;
        }
      }
      return;
    }
    float* v = reinterpret_cast<float*>(buf);
    int32_t* idx = reinterpret_cast<int32_t*>(buf + n * 4);
    float* tv = reinterpret_cast<float*>(buf + n * 8);
    int32_t* ti = reinterpret_cast<int32_t*>(buf + n * 12);
    for (int64_t c = b; c < e; ++c) {
      int64_t o = c / inner, i = c - o * inner, base = o * n * inner + i;
      for (int64_t j = 0; j < n; ++j) {
        v[j] = x[base + j * inner];
        idx[j] = static_cast<int32_t>(j);
      }
      mergeSort(v, idx, tv, ti, n, descending);
      for (int64_t j = 0; j < n; ++j) {
        values[base + j * inner] = v[j];
        indices[base + j * inner] = idx[j];
      }
    }
    std::free(buf);
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
