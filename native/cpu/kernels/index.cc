// Indexing over [outer, n, inner] with int32 indices (range-checked by the caller).
// Selects copy 2-, 4- or 8-byte elements, so they serve every dtype; adds are F32 or F64. The accumulating ops split
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

template <class W>
void indexSelectAs(const args::indexSelect& a) {
  W* o = static_cast<W*>(a.out);
  const W* s = static_cast<const W*>(a.src);
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, nIdx = a.nIdx;
  if (outer * nIdx * inner == 0) return;
  parallel_for(outer * nIdx, rowGrain(inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      int64_t oi = r / nIdx, j = r % nIdx;
      std::memcpy(o + r * inner, s + (oi * n + idx[j]) * inner, static_cast<size_t>(inner) * sizeof(W));
    }
  });
}

template <class T>
void indexAddAs(const args::indexAdd& a) {
  T* dst = static_cast<T*>(a.dst);
  const T* src = static_cast<const T*>(a.src);
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, nIdx = a.nIdx;
  if (outer * nIdx * inner == 0) return;
  forColumnTiles(outer, inner, nIdx, [&](int64_t o, int64_t i0, int64_t i1) {
    for (int64_t j = 0; j < nIdx; ++j) {
      T* __restrict d = dst + (o * n + idx[j]) * inner;
      const T* __restrict s = src + (o * nIdx + j) * inner;
      for (int64_t i = i0; i < i1; ++i) d[i] += s[i];
    }
  });
}

template <class W>
void gatherAs(const args::gather& a) {
  W* o = static_cast<W*>(a.out);
  const W* s = static_cast<const W*>(a.src);
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, k = a.k;
  if (outer * k * inner == 0) return;
  parallel_for(outer * k, rowGrain(inner), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const W* plane = s + (r / k) * n * inner;
      const int32_t* ix = idx + r * inner;
      W* orow = o + r * inner;
      for (int64_t i = 0; i < inner; ++i) orow[i] = plane[ix[i] * inner + i];
    }
  });
}

template <class T>
void scatterAddAs(const args::scatterAdd& a) {
  T* dst = static_cast<T*>(a.dst);
  const T* src = static_cast<const T*>(a.src);
  const int32_t* idx = a.idx;
  const int64_t outer = a.outer, n = a.n, inner = a.inner, k = a.k;
  if (outer * k * inner == 0) return;
  forColumnTiles(outer, inner, k, [&](int64_t o, int64_t i0, int64_t i1) {
    T* plane = dst + o * n * inner;
    for (int64_t j = 0; j < k; ++j) {
      const T* s = src + (o * k + j) * inner;
      const int32_t* ix = idx + (o * k + j) * inner;
      for (int64_t i = i0; i < i1; ++i) plane[ix[i] * inner + i] += s[i];
    }
  });
}

}  // namespace

void indexSelect(const args::indexSelect& a) {
  if (dtypeSize(a.srcType) == 8) indexSelectAs<uint64_t>(a);
  else if (dtypeSize(a.srcType) == 2) indexSelectAs<uint16_t>(a);
  else indexSelectAs<uint32_t>(a);
}

void indexAdd(const args::indexAdd& a) {
  if (a.dstType == DType::F64) indexAddAs<double>(a);
  else indexAddAs<float>(a);
}

void gather(const args::gather& a) {
  if (dtypeSize(a.srcType) == 8) gatherAs<uint64_t>(a);
  else if (dtypeSize(a.srcType) == 2) gatherAs<uint16_t>(a);
  else gatherAs<uint32_t>(a);
}

void scatterAdd(const args::scatterAdd& a) {
  if (a.dstType == DType::F64) scatterAddAs<double>(a);
  else scatterAddAs<float>(a);
}

}  // namespace kiln::cpu::KILN_ISA_NS
