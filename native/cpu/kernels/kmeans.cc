// k-means (Lloyd) assignment and accumulation in one sweep (ops.def kmeansAssign).
//
// Shapes: x [n, d] rows, centers [k, d]; kp = k rounded up to whole vectors.
// The centers are packed once per call as ct [d, kp] = -2 c^T and cs [kp] = ||c||^2, so a row's
// values ||c_j||^2 - 2 x.c_j for a vector of centers are d FMAs on one loaded vector of ct with
// the row's value broadcast: SIMD over the centers, R rows at a time to reuse each load. The
// argmin keeps a running minimum and its index per lane (strict <: the lowest index at ties),
// reduced across lanes at the end. Then, for the chosen center only, the exact squared distance
// from the differences (float64), and the row is added to its cluster's sum and count.
// Threads take fixed row ranges by tid and keep their own float64 partial sums, merged in tid
// order, so a call gives the same bits for a given thread count.
// Vectors are GCC vector extensions (one zmm with AVX-512, one ymm with AVX2, two xmm on the
// portable table): the same source for every instruction set.
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#else
constexpr int kVecBytes = 32;
#endif
typedef double VecD __attribute__((vector_size(kVecBytes)));
typedef float VecF __attribute__((vector_size(kVecBytes)));
template <class T> struct VecOf;
template <> struct VecOf<double> { using type = VecD; };
template <> struct VecOf<float> { using type = VecF; };

// Rows per register block: R rows x one vector of centers, plus a running min and index per row.
constexpr int kRows = 4;

// One thread's share of the float64 results.
struct Partial {
  double* sums;    // [k, d], or null
  double* counts;  // [k], or null
  double inertia;
};

template <class T>
struct Packed {
  const T* x;
  const T* c;    // the centers as given, [k, d]
  const T* ct;   // [d, kp]: -2 c^T, zero past k
  const T* cs;   // [kp]: ||c||^2, +inf past k
  int64_t d, k, kp;
  int32_t* labels;
  double* minDist;
};

// Rows [i, i + R): labels, then distance and accumulation.
template <class T, int R>
inline void assignBlock(const Packed<T>& p, int64_t i, Partial& part) {
  using V = typename VecOf<T>::type;
  constexpr int L = kVecBytes / static_cast<int>(sizeof(T));
  const int64_t d = p.d, kp = p.kp;
  const T* x = p.x + i * d;
  V best[R], bidx[R];
  V lane;
  for (int l = 0; l < L; ++l) lane[l] = static_cast<T>(l);
  for (int r = 0; r < R; ++r) {
    best[r] = V{} + static_cast<T>(INFINITY);
    bidx[r] = V{};
  }
  for (int64_t j0 = 0; j0 < kp; j0 += L) {
    V acc[R];
    const V cs = *reinterpret_cast<const V*>(p.cs + j0);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) acc[r] = cs;
    const T* ct = p.ct + j0;
    for (int64_t f = 0; f < d; ++f) {
      const V cv = *reinterpret_cast<const V*>(ct + f * kp);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r] += x[r * d + f] * cv;
    }
    const V jv = lane + static_cast<T>(j0);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      auto m = acc[r] < best[r];
      best[r] = m ? acc[r] : best[r];
      bidx[r] = m ? jv : bidx[r];
    }
  }
  for (int r = 0; r < R; ++r) {
    T bv = best[r][0];
    T bj = bidx[r][0];
    for (int l = 1; l < L; ++l) {
      T v = best[r][l], j = bidx[r][l];
      if (v < bv || (v == bv && j < bj)) {
        bv = v;
        bj = j;
      }
    }
    const int64_t lab = static_cast<int64_t>(bj);
    const T* xr = x + r * d;
    const T* cr = p.c + lab * d;
    double dist = 0;
    for (int64_t f = 0; f < d; ++f) {
      const double t = static_cast<double>(xr[f]) - static_cast<double>(cr[f]);
      dist += t * t;
    }
    p.labels[i + r] = static_cast<int32_t>(lab);
    if (p.minDist != nullptr) p.minDist[i + r] = dist;
    part.inertia += dist;
    if (part.sums != nullptr) {
      double* s = part.sums + lab * d;
      for (int64_t f = 0; f < d; ++f) s[f] += static_cast<double>(xr[f]);
      part.counts[lab] += 1;
    }
  }
}

// The same results without scratch memory (when an allocation fails): one thread, scalar.
template <class T>
void assignScalar(const args::kmeansAssign& a) {
  const T* x = static_cast<const T*>(a.x);
  const T* c = static_cast<const T*>(a.centers);
  const int64_t n = a.n, d = a.d, k = a.k;
  double inertia = 0;
  for (int64_t i = 0; i < n; ++i) {
    const T* xr = x + i * d;
    T bv = static_cast<T>(INFINITY);
    int64_t lab = 0;
    for (int64_t j = 0; j < k; ++j) {
      T cs = 0, dot = 0;
      for (int64_t f = 0; f < d; ++f) {
        cs += c[j * d + f] * c[j * d + f];
        dot += xr[f] * c[j * d + f];
      }
      T v = cs - 2 * dot;
      if (v < bv) {
        bv = v;
        lab = j;
      }
    }
    double dist = 0;
    for (int64_t f = 0; f < d; ++f) {
      const double t = static_cast<double>(xr[f]) - static_cast<double>(c[lab * d + f]);
      dist += t * t;
    }
    a.labels[i] = static_cast<int32_t>(lab);
    if (a.minDist != nullptr) a.minDist[i] = dist;
    inertia += dist;
    if (a.sums != nullptr) {
      for (int64_t f = 0; f < d; ++f) a.sums[lab * d + f] += static_cast<double>(xr[f]);
      a.counts[lab] += 1;
    }
  }
  a.inertia[0] = inertia;
}

template <class T>
void assignTyped(const args::kmeansAssign& a) {
  constexpr int L = kVecBytes / static_cast<int>(sizeof(T));
  const int64_t n = a.n, d = a.d, k = a.k;
  const bool acc = a.sums != nullptr;
  if (acc) {
    std::memset(a.sums, 0, static_cast<size_t>(k * d) * sizeof(double));
    std::memset(a.counts, 0, static_cast<size_t>(k) * sizeof(double));
  }
  a.inertia[0] = 0;
  if (n == 0) return;
  const int64_t kp = (k + L - 1) / L * L;
  // threads: at least ~64K multiply-adds each
  const int64_t grain = maxI64(kRows, (int64_t{1} << 16) / maxI64(1, k * d));
  const int nt = static_cast<int>(minI64(numThreads(), maxI64(1, n / grain)));
  const size_t packBytes = static_cast<size_t>((d + 1) * kp) * sizeof(T);
  const size_t partBytes = acc ? static_cast<size_t>(nt) * static_cast<size_t>(k * d + k) * sizeof(double) : 0;
  const size_t packRounded = (packBytes + 63) / 64 * 64;
  char* buf = static_cast<char*>(std::aligned_alloc(64, packRounded + (partBytes + 63) / 64 * 64 + 64));
  if (buf == nullptr) {
    assignScalar<T>(a);
    return;
  }
  const T* c = static_cast<const T*>(a.centers);
  T* ct = reinterpret_cast<T*>(buf);
  T* cs = ct + d * kp;
  for (int64_t j = 0; j < kp; ++j) {
    T s = 0;
    for (int64_t f = 0; f < d; ++f) {
      const T v = j < k ? c[j * d + f] : T(0);
      ct[f * kp + j] = -2 * v;
      s += v * v;
    }
    cs[j] = j < k ? s : static_cast<T>(INFINITY);
  }
  double* parts = acc ? reinterpret_cast<double*>(buf + packRounded) : nullptr;
  if (acc) std::memset(parts, 0, partBytes);
  double inertias[64] = {};
  Packed<T> p{static_cast<const T*>(a.x), c, ct, cs, d, k, kp, a.labels, a.minDist};
  const int ntUsed = nt < 64 ? nt : 64;
  parallel_run(ntUsed, [&](int tid, int nthreads) {
    const int64_t r0 = n * tid / nthreads, r1 = n * (tid + 1) / nthreads;
    Partial part{acc ? parts + tid * (k * d + k) : nullptr, acc ? parts + tid * (k * d + k) + k * d : nullptr, 0};
    int64_t i = r0;
    for (; i + kRows <= r1; i += kRows) assignBlock<T, kRows>(p, i, part);
    for (; i < r1; ++i) assignBlock<T, 1>(p, i, part);
    inertias[tid] = part.inertia;
  });
  double inertia = 0;
  for (int t = 0; t < ntUsed; ++t) {
    inertia += inertias[t];
    if (!acc) continue;
    const double* s = parts + t * (k * d + k);
    for (int64_t e = 0; e < k * d; ++e) a.sums[e] += s[e];
    for (int64_t j = 0; j < k; ++j) a.counts[j] += s[k * d + j];
  }
  a.inertia[0] = inertia;
  std::free(buf);
}

}  // namespace

void kmeansAssign(const args::kmeansAssign& a) {
  if (a.xType == DType::F64) assignTyped<double>(a);
  else assignTyped<float>(a);
}

}  // namespace kiln::cpu::KILN_ISA_NS
