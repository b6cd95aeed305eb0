// Indexing over [outer, n, inner] with int32 indices (range-checked by the caller).
// Selects copy 4-byte elements, so they serve F32 and I32 alike. The accumulating ops split
// work by (outer, inner column) so no two threads ever add into the same element, and each
// element's additions happen in index order (deterministic results).
#include <cstring>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr int64_t kColTile = 1024;

// Runs f(o, i0, i1) over every outer slice and column tile [i0, i1) of inner, in parallel.
template <class F>
void forColumnTiles(int64_t outer, int64_t inner, int64_t rowsPerTile, const F& f) {
  int64_t tiles = (inner + kColTile - 1) / kColTile;
  parallel_for(outer * tiles, rowGrain(rowsPerTile * minI64(inner, kColTile)), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t o = t / tiles, i0 = (t % tiles) * kColTile;
      f(o, i0, minI64(inner, i0 + kColTile));
    }
  });
}

}  // namespace

void indexSelect(const args::indexSelect& a) {
  uint32_t* o = static_cast<uint32_t*>(a.out);
  const uint32_t* s = static_cast<const uint32_t*>(a.src);
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, nIdx = a.nIdx;
  if (outer * nIdx * inner == 0) return;
  parallel_for(outer * nIdx, rowGrain(inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t oi = r / nIdx, j = r % nIdx;
      std::memcpy(o + r * inner, s + (oi * n + idx[j]) * inner, static_cast<size_t>(inner) * 4);
    }
  });
}

void indexAdd(const args::indexAdd& a) {
  float* dst = a.dst;
  const float* src = a.src;
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, nIdx = a.nIdx;
  if (outer * nIdx * inner == 0) return;
  forColumnTiles(outer, inner, nIdx, [&](int64_t o, int64_t i0, int64_t i1) {
    for (int64_t j = 0; j < nIdx; ++j) {
      float* __restrict d = dst + (o * n + idx[j]) * inner;
      const float* __restrict s = src + (o * nIdx + j) * inner;
      for (int64_t i = i0; i < i1; ++i) d[i] += s[i];
    }
  });
}

void gather(const args::gather& a) {
  uint32_t* o = static_cast<uint32_t*>(a.out);
  const uint32_t* s = static_cast<const uint32_t*>(a.src);
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, k = a.k;
  if (outer * k * inner == 0) return;
  parallel_for(outer * k, rowGrain(inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const uint32_t* plane = s + (r / k) * n * inner;
      const int32_t* ix = idx + r * inner;
      uint32_t* orow = o + r * inner;
      for (int64_t i = 0; i < inner; ++i) orow[i] = plane[ix[i] * inner + i];
    }
  });
}

void scatterAdd(const args::scatterAdd& a) {
  float* dst = a.dst;
  const float* src = a.src;
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, k = a.k;
  if (outer * k * inner == 0) return;
  forColumnTiles(outer, inner, k, [&](int64_t o, int64_t i0, int64_t i1) {
    float* plane = dst + o * n * inner;
    for (int64_t j = 0; j < k; ++j) {
      const float* s = src + (o * k + j) * inner;
      const int32_t* ix = idx + (o * k + j) * inner;
      for (int64_t i = i0; i < i1; ++i) plane[ix[i] * inner + i] += s[i];
    }
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
