// Walks a contiguous output of `shape` alongside up to three strided (possibly broadcast) inputs.
// Dims are first simplified: size-1 dims dropped, adjacent dims merged when every operand steps
// through them as one dim. Then work is split into rows of the innermost dim; each row knows the
// start offset of every operand, and the inner loop sees one stride per operand.
#pragma once
#include <cstdint>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {

template <int NOps>
struct StridedIter {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[NOps][kMaxDims];

  // Returns the element count (0 when any dim is empty).
  int64_t init(int nd, const int64_t* shp, const int64_t* const* strd) {
    int64_t numel = 1;
    for (int d = 0; d < nd; ++d) numel *= shp[d];
    ndim = 0;
    if (numel == 0) return 0;
    for (int d = 0; d < nd; ++d) {
      if (shp[d] == 1) continue;
      if (ndim > 0 && mergeable(shp[d], strd, d)) {
        shape[ndim - 1] *= shp[d];
        for (int k = 0; k < NOps; ++k) strides[k][ndim - 1] = strd[k][d];
        continue;
      }
      shape[ndim] = shp[d];
      for (int k = 0; k < NOps; ++k) strides[k][ndim] = strd[k][d];
      ++ndim;
    }
    return numel;
  }

  int64_t innerLen() const { return ndim == 0 ? 1 : shape[ndim - 1]; }
  int64_t innerStride(int k) const { return ndim == 0 ? 0 : strides[k][ndim - 1]; }
  int64_t rows(int64_t numel) const { return numel / innerLen(); }

  // Calls f(row, offsets) for rows [begin, end), offsets[k] = start of operand k in that row.
  template <class F>
  void forRows(int64_t begin, int64_t end, const F& f) const {
    int outerDims = ndim > 0 ? ndim - 1 : 0;
    int64_t idx[kMaxDims];
    int64_t off[NOps];
    for (int k = 0; k < NOps; ++k) off[k] = 0;
    int64_t r = begin;
    for (int d = outerDims - 1; d >= 0; --d) {
      idx[d] = r % shape[d];
      r /= shape[d];
      for (int k = 0; k < NOps; ++k) off[k] += idx[d] * strides[k][d];
    }
    for (int64_t row = begin; row < end; ++row) {
      f(row, off);
      for (int d = outerDims - 1; d >= 0; --d) {  // odometer step
        ++idx[d];
        for (int k = 0; k < NOps; ++k) off[k] += strides[k][d];
        if (idx[d] < shape[d]) break;
        for (int k = 0; k < NOps; ++k) off[k] -= shape[d] * strides[k][d];
        idx[d] = 0;
      }
    }
  }

 private:
  // Dim d (size s) merges into the previous kept dim when, for every operand, stepping the
  // previous dim once equals stepping d all the way through.
  bool mergeable(int64_t s, const int64_t* const* strd, int d) const {
    for (int k = 0; k < NOps; ++k) {
      if (strides[k][ndim - 1] != strd[k][d] * s) return false;
    }
    return true;
  }
};

}  // namespace kiln::cpu::KILN_ISA_NS
