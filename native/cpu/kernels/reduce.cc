// Reductions over [outer, n, inner] -> [outer, inner].
// Sums run in float over blocks of lanes (so they vectorize without -ffast-math) and each block's
// total is added into a double, which keeps a sum of millions of values accurate.
// Max/Min propagate NaN; ArgMax/ArgMin return the first extreme index, and NaN counts as the
// extreme (its first index wins), as in PyTorch.
#include <cstring>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr int kLanes = 16;       // independent accumulators in a contiguous sum
constexpr int64_t kBlock = 4096;  // float elements summed before flushing into double
constexpr int64_t kTile = 256;   // inner columns handled together when inner > 1

// Bitwise | (not ||) so the compiler sees one branch-free select and vectorizes it.
inline float maxNan(float acc, float v) { return ((v > acc) | (v != v)) ? v : acc; }
inline float minNan(float acc, float v) { return ((v < acc) | (v != v)) ? v : acc; }
// Is v a better arg-extreme than best? Strict comparison keeps the first; a NaN beats a number.
inline bool betterMax(float v, float best) { return v > best || (v != v && best == best); }
inline bool betterMin(float v, float best) { return v < best || (v != v && best == best); }

// ---- contiguous runs (inner == 1) ----
double sumRun(const float* __restrict x, int64_t n) {
  double total = 0;
  for (int64_t b = 0; b < n; b += kBlock) {
    int64_t e = minI64(n, b + kBlock);
    float acc[kLanes] = {};
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes)
      for (int l = 0; l < kLanes; ++l) acc[l] += x[i + l];
    float s = 0;
    for (; i < e; ++i) s += x[i];
    for (int l = 0; l < kLanes; ++l) s += acc[l];
    total += s;
  }
  return total;
}

// GCC vector extension (lowered to whatever width the ISA has): the loop vectorizer does not
// take a NaN-aware select as a reduction, so the lanes are spelled out as one vector.
// Its width matches the ISA: wider-than-native vectors are lowered poorly (scalar selects).
#if defined(__AVX512F__)
constexpr int kVecBytes = 64;
#elif defined(__AVX2__)
constexpr int kVecBytes = 32;
#else
constexpr int kVecBytes = 16;
#endif
typedef float FloatVec __attribute__((vector_size(kVecBytes)));
constexpr int kVecLanes = kVecBytes / 4;

template <bool IsMax>
float extremeRun(const float* __restrict x, int64_t n) {
  FloatVec acc;
  for (int l = 0; l < kVecLanes; ++l) acc[l] = x[0];
  int64_t i = 0;
  for (; i + kVecLanes <= n; i += kVecLanes) {
    FloatVec v;
    std::memcpy(&v, x + i, sizeof v);
    acc = IsMax ? (((v > acc) | (v != v)) ? v : acc) : (((v < acc) | (v != v)) ? v : acc);
  }
  float m = x[0];
  for (; i < n; ++i) m = IsMax ? maxNan(m, x[i]) : minNan(m, x[i]);
  for (int l = 0; l < kVecLanes; ++l) m = IsMax ? maxNan(m, acc[l]) : minNan(m, acc[l]);
  return m;
}

template <bool IsMax>
int64_t argRun(const float* __restrict x, int64_t begin, int64_t end, float* bestOut) {
  float best = x[begin];
  int64_t at = begin;
  for (int64_t i = begin + 1; i < end; ++i) {
    if (IsMax ? betterMax(x[i], best) : betterMin(x[i], best)) {
      best = x[i];
      at = i;
    }
  }
  *bestOut = best;
  return at;
}

// One long row split across threads (few rows, many elements): partial results merged in order.
void reduceLongRow(ReduceOp op, void* out, int64_t o, const float* x, int64_t n) {
  constexpr int kMaxParts = 64;
  int parts = static_cast<int>(minI64(minI64(numThreads(), kMaxParts), maxI64(1, n / 32768)));
  double sums[kMaxParts];
  float vals[kMaxParts];
  int64_t idx[kMaxParts];
  parallel_run(parts, [&](int t, int nt) {
    int64_t b = n * t / nt, e = n * (t + 1) / nt;
    switch (op) {
      case ReduceOp::Sum:
      case ReduceOp::Mean: sums[t] = sumRun(x + b, e - b); break;
      case ReduceOp::Max: vals[t] = extremeRun<true>(x + b, e - b); break;
      case ReduceOp::Min: vals[t] = extremeRun<false>(x + b, e - b); break;
      case ReduceOp::ArgMax: idx[t] = argRun<true>(x, b, e, &vals[t]); break;
      default: idx[t] = argRun<false>(x, b, e, &vals[t]); break;
    }
  });
  if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
    double s = 0;
    for (int t = 0; t < parts; ++t) s += sums[t];
    static_cast<float*>(out)[o] = static_cast<float>(op == ReduceOp::Mean ? s / n : s);
  } else if (op == ReduceOp::Max || op == ReduceOp::Min) {
    float m = vals[0];
    for (int t = 1; t < parts; ++t) m = op == ReduceOp::Max ? maxNan(m, vals[t]) : minNan(m, vals[t]);
    static_cast<float*>(out)[o] = m;
  } else {
    bool isMax = op == ReduceOp::ArgMax;
    float best = vals[0];
    int64_t at = idx[0];
    for (int t = 1; t < parts; ++t) {
      if (isMax ? betterMax(vals[t], best) : betterMin(vals[t], best)) {
        best = vals[t];
        at = idx[t];
      }
    }
    static_cast<int32_t*>(out)[o] = static_cast<int32_t>(at);
  }
}

void reduceRow(ReduceOp op, void* out, int64_t o, const float* x, int64_t n) {
  switch (op) {
    case ReduceOp::Sum: static_cast<float*>(out)[o] = static_cast<float>(sumRun(x, n)); return;
    case ReduceOp::Mean: static_cast<float*>(out)[o] = static_cast<float>(sumRun(x, n) / n); return;
    case ReduceOp::Max: static_cast<float*>(out)[o] = extremeRun<true>(x, n); return;
    case ReduceOp::Min: static_cast<float*>(out)[o] = extremeRun<false>(x, n); return;
    case ReduceOp::ArgMax: {
      float b;
      static_cast<int32_t*>(out)[o] = static_cast<int32_t>(argRun<true>(x, 0, n, &b));
      return;
    }
    default: {
      float b;
      static_cast<int32_t*>(out)[o] = static_cast<int32_t>(argRun<false>(x, 0, n, &b));
      return;
    }
  }
}

// ---- strided columns (inner > 1): a tile of up to kTile columns walks down n ----
void sumTile(float* __restrict out, const float* __restrict x, int64_t n, int64_t inner,
             int64_t w, bool mean) {
  double total[kTile];
  float acc[kTile];
  for (int64_t i = 0; i < w; ++i) total[i] = 0;
  constexpr int64_t kRowsPerFlush = 256;
  for (int64_t jb = 0; jb < n; jb += kRowsPerFlush) {
    int64_t je = minI64(n, jb + kRowsPerFlush);
    for (int64_t i = 0; i < w; ++i) acc[i] = 0;
    for (int64_t j = jb; j < je; ++j) {
      const float* __restrict r = x + j * inner;
      for (int64_t i = 0; i < w; ++i) acc[i] += r[i];
    }
    for (int64_t i = 0; i < w; ++i) total[i] += acc[i];
  }
  for (int64_t i = 0; i < w; ++i) out[i] = static_cast<float>(mean ? total[i] / n : total[i]);
}

template <bool IsMax>
void extremeTile(float* __restrict out, const float* __restrict x, int64_t n, int64_t inner,
                 int64_t w) {
  float acc[kTile];
  for (int64_t i = 0; i < w; ++i) acc[i] = x[i];
  for (int64_t j = 1; j < n; ++j) {
    const float* __restrict r = x + j * inner;
    for (int64_t i = 0; i < w; ++i) acc[i] = IsMax ? maxNan(acc[i], r[i]) : minNan(acc[i], r[i]);
  }
  for (int64_t i = 0; i < w; ++i) out[i] = acc[i];
}

template <bool IsMax>
void argTile(int32_t* __restrict out, const float* __restrict x, int64_t n, int64_t inner,
             int64_t w) {
  float best[kTile];
  int32_t at[kTile];
  for (int64_t i = 0; i < w; ++i) {
    best[i] = x[i];
    at[i] = 0;
  }
  for (int64_t j = 1; j < n; ++j) {
    const float* __restrict r = x + j * inner;
    for (int64_t i = 0; i < w; ++i) {
      bool better = IsMax ? betterMax(r[i], best[i]) : betterMin(r[i], best[i]);
      best[i] = better ? r[i] : best[i];
      at[i] = better ? static_cast<int32_t>(j) : at[i];
    }
  }
  for (int64_t i = 0; i < w; ++i) out[i] = at[i];
}

void reduceF32(ReduceOp op, void* out, const float* x, int64_t outer, int64_t n, int64_t inner) {
  int64_t outCount = outer * inner;
  if (outCount == 0) return;
  if (n == 0) {  // the binding lets only Sum through: empty sums are 0 (Mean NaN, args 0)
    if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) {
      for (int64_t i = 0; i < outCount; ++i) static_cast<int32_t*>(out)[i] = 0;
      return;
    }
    float v = op == ReduceOp::Sum ? 0.0f : op == ReduceOp::Mean ? __builtin_nanf("") : 0.0f;
    for (int64_t i = 0; i < outCount; ++i) static_cast<float*>(out)[i] = v;
    return;
  }
  if (inner == 1) {
    if (outer < numThreads() && n >= 65536) {
      for (int64_t o = 0; o < outer; ++o) reduceLongRow(op, out, o, x + o * n, n);
      return;
    }
    parallel_for(outer, rowGrain(n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) reduceRow(op, out, o, x + o * n, n);
    });
    return;
  }
  int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(outer * tiles, rowGrain(n * minI64(inner, kTile)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / tiles, i0 = (t % tiles) * kTile, w = minI64(kTile, inner - i0);
      const float* src = x + o * n * inner + i0;
      int64_t dst = o * inner + i0;
      switch (op) {
        case ReduceOp::Sum: sumTile(static_cast<float*>(out) + dst, src, n, inner, w, false); break;
        case ReduceOp::Mean: sumTile(static_cast<float*>(out) + dst, src, n, inner, w, true); break;
        case ReduceOp::Max: extremeTile<true>(static_cast<float*>(out) + dst, src, n, inner, w); break;
        case ReduceOp::Min: extremeTile<false>(static_cast<float*>(out) + dst, src, n, inner, w); break;
        case ReduceOp::ArgMax: argTile<true>(static_cast<int32_t*>(out) + dst, src, n, inner, w); break;
        default: argTile<false>(static_cast<int32_t*>(out) + dst, src, n, inner, w); break;
      }
    }
  });
}

// int32: sums accumulate in int64 and wrap to int32 on store (two's complement, done in uint32
// to avoid undefined behaviour), so a sum is exact whenever it fits; extrema are exact.
// Columns go in tiles so every input row is read contiguously.
void reduceI32(ReduceOp op, void* out, const int32_t* x, int64_t outer, int64_t n, int64_t inner) {
  int64_t tiles = (inner + kTile - 1) / kTile;
  if (outer * tiles == 0) return;
  parallel_for(outer * tiles, rowGrain(n * minI64(inner, kTile)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / tiles, i0 = (t % tiles) * kTile, w = minI64(kTile, inner - i0);
      const int32_t* src = x + o * n * inner + i0;
      int32_t* dst = static_cast<int32_t*>(out) + o * inner + i0;
      if (op == ReduceOp::Sum) {
        int64_t acc[kTile] = {};
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < w; ++i) acc[i] += src[j * inner + i];
        for (int64_t i = 0; i < w; ++i) dst[i] = static_cast<int32_t>(static_cast<uint32_t>(acc[i]));
        continue;
      }
      bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
      bool isArg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
      int32_t best[kTile];
      int32_t at[kTile] = {};
      for (int64_t i = 0; i < w; ++i) best[i] = src[i];
      for (int64_t j = 1; j < n; ++j)
        for (int64_t i = 0; i < w; ++i) {
          int32_t v = src[j * inner + i];
          if (isMax ? v > best[i] : v < best[i]) {
            best[i] = v;
            at[i] = static_cast<int32_t>(j);
          }
        }
      for (int64_t i = 0; i < w; ++i) dst[i] = isArg ? at[i] : best[i];
    }
  });
}

// float64: sums over 8 lanes in double (so contiguous rows vectorize), extrema and their first
// indices with the float32 rules (NaN propagates and counts as the extreme).
inline double maxNanD(double acc, double v) { return ((v > acc) | (v != v)) ? v : acc; }
inline double minNanD(double acc, double v) { return ((v < acc) | (v != v)) ? v : acc; }
inline bool betterMaxD(double v, double best) { return v > best || (v != v && best == best); }
inline bool betterMinD(double v, double best) { return v < best || (v != v && best == best); }

void reduceRowF64(ReduceOp op, void* out, int64_t o, const double* __restrict x, int64_t n) {
  if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
    // 8 lanes over blocks of kBlock, each block's total added into the row's: two levels, so
    // a long row's rounding error grows with n / kBlock + kBlock / 8, not n
    double total = 0;
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t e = minI64(n, b + kBlock);
      double acc[8] = {};
      int64_t i = b;
      for (; i + 8 <= e; i += 8)
        for (int l = 0; l < 8; ++l) acc[l] += x[i + l];
      double s = 0;
      for (; i < e; ++i) s += x[i];
      for (int l = 0; l < 8; ++l) s += acc[l];
      total += s;
    }
    static_cast<double*>(out)[o] = op == ReduceOp::Mean ? total / static_cast<double>(n) : total;
    return;
  }
  if (op == ReduceOp::Max || op == ReduceOp::Min) {
    double m = x[0];
    for (int64_t i = 1; i < n; ++i) m = op == ReduceOp::Max ? maxNanD(m, x[i]) : minNanD(m, x[i]);
    static_cast<double*>(out)[o] = m;
    return;
  }
  bool isMax = op == ReduceOp::ArgMax;
  double best = x[0];
  int64_t at = 0;
  for (int64_t i = 1; i < n; ++i) {
    if (isMax ? betterMaxD(x[i], best) : betterMinD(x[i], best)) {
      best = x[i];
      at = i;
    }
  }
  static_cast<int32_t*>(out)[o] = static_cast<int32_t>(at);
}

void reduceF64(ReduceOp op, void* out, const double* x, int64_t outer, int64_t n, int64_t inner) {
  int64_t outCount = outer * inner;
  if (outCount == 0) return;
  bool isArg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  if (n == 0) {  // only Sum gets here (the binding); Mean of nothing is NaN
    for (int64_t i = 0; i < outCount; ++i) {
      if (isArg) static_cast<int32_t*>(out)[i] = 0;
      else static_cast<double*>(out)[i] = op == ReduceOp::Mean ? __builtin_nan("") : 0.0;
    }
    return;
  }
  if (inner == 1) {
    parallel_for(outer, rowGrain(n), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) reduceRowF64(op, out, o, x + o * n, n);
    });
    return;
  }
  int64_t tiles = (inner + kTile - 1) / kTile;
  parallel_for(outer * tiles, rowGrain(n * minI64(inner, kTile)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / tiles, i0 = (t % tiles) * kTile, w = minI64(kTile, inner - i0);
      const double* src = x + o * n * inner + i0;
      int64_t dst = o * inner + i0;
      if (op == ReduceOp::Sum || op == ReduceOp::Mean) {
        double acc[kTile];
        for (int64_t i = 0; i < w; ++i) acc[i] = 0;
        for (int64_t j = 0; j < n; ++j)
          for (int64_t i = 0; i < w; ++i) acc[i] += src[j * inner + i];
        for (int64_t i = 0; i < w; ++i)
          static_cast<double*>(out)[dst + i] = op == ReduceOp::Mean ? acc[i] / static_cast<double>(n) : acc[i];
        continue;
      }
      bool isMax = op == ReduceOp::Max || op == ReduceOp::ArgMax;
      double best[kTile];
      int32_t at[kTile];
      for (int64_t i = 0; i < w; ++i) {
        best[i] = src[i];
        at[i] = 0;
      }
      for (int64_t j = 1; j < n; ++j)
        for (int64_t i = 0; i < w; ++i) {
          double v = src[j * inner + i];
          bool better = isMax ? betterMaxD(v, best[i]) : betterMinD(v, best[i]);
          best[i] = better ? v : best[i];
          at[i] = better ? static_cast<int32_t>(j) : at[i];
        }
      for (int64_t i = 0; i < w; ++i) {
        if (isArg) static_cast<int32_t*>(out)[dst + i] = at[i];
        else static_cast<double*>(out)[dst + i] = best[i];
      }
    }
  });
}

}  // namespace

void reduce(const args::reduce& a) {
  if (a.xType == DType::F64) {
    reduceF64(a.op, a.out, static_cast<const double*>(a.x), a.outer, a.n, a.inner);
    return;
  }
  if (a.xType == DType::I32) {
    reduceI32(a.op, a.out, static_cast<const int32_t*>(a.x), a.outer, a.n, a.inner);
  } else {
    reduceF32(a.op, a.out, static_cast<const float*>(a.x), a.outer, a.n, a.inner);
  }
}

}  // namespace kiln::cpu::KILN_ISA_NS
