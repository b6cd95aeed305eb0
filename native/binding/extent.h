// Size arithmetic for the binding's argument checks (ops.def's extents and checks). Every
// function refuses negative sizes and int64 overflow with a kiln::Error, so a hostile size can
// never wrap into a small buffer range.
#pragma once
#include <cstdint>
#include <initializer_list>

#include "../include/op_types.h"
#include "../include/status.h"

namespace kiln::binding {

inline int64_t checkedMul(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) throw Error("size: the element count overflows");
  return r;
}

inline int64_t checkedAdd(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r)) throw Error("size: the element count overflows");
  return r;
}

// The product of non-negative sizes.
inline int64_t prod(std::initializer_list<int64_t> sizes) {
  int64_t p = 1;
  for (int64_t s : sizes) p = checkedMul(p, s);
  return p;
}
template <class... T>
inline int64_t prod(T... sizes) {
  return prod({static_cast<int64_t>(sizes)...});
}

inline int64_t numel(const Dims& shape) {
  int64_t p = 1;
  for (int d = 0; d < shape.n; ++d) p = checkedMul(p, shape.v[d]);
  return p;
}

// Elements a strided view of `shape` reaches from its start: the largest offset + 1 (0 when the
// view is empty). The dim counts must agree (a CHECK of the op says which argument is wrong).
inline int64_t stridedExtent(const Dims& shape, const Dims& strides) {
  if (strides.n != shape.n) return 0;
  int64_t last = 0;
  for (int d = 0; d < shape.n; ++d) {
    if (shape.v[d] == 0) return 0;
    last = checkedAdd(last, checkedMul(shape.v[d] - 1, strides.v[d]));
  }
  return checkedAdd(last, 1);
}

// stridedExtent of a 4-dim view [d0, d1, d2, d3] (the attention ops' q, k, v and bias).
inline int64_t view4Extent(int64_t d0, int64_t d1, int64_t d2, int64_t d3, const Dims& strides) {
  if (strides.n != 4) return 0;
  Dims shape;
  shape.n = 4;
  shape.v[0] = d0;
  shape.v[1] = d1;
  shape.v[2] = d2;
  shape.v[3] = d3;
  return stridedExtent(shape, strides);
}

// Whether the last of 4 strides is 1 (or the last dim has at most one element).
inline bool rowsContiguous(const Dims& strides, int64_t last) { return strides.n == 4 && (strides.v[3] == 1 || last <= 1); }

// Whether strides lay `shape` out contiguously (row-major), ignoring size-1 dims.
inline bool isContiguous(const Dims& shape, const Dims& strides) {
  if (strides.n != shape.n) return false;
  int64_t expect = 1;
  for (int d = shape.n - 1; d >= 0; --d) {
    if (shape.v[d] == 0) return true;
    if (shape.v[d] != 1 && strides.v[d] != expect) return false;
    expect *= shape.v[d];
  }
  return true;
}

// Whether a view writes every element at most once: no zero stride over a dim longer than 1,
// and, with the dims sorted by stride, each stride reaches past everything the smaller ones cover.
inline bool writesOnce(const Dims& shape, const Dims& strides) {
  if (strides.n != shape.n) return false;
  int order[kMaxDims];
  int k = 0;
  for (int d = 0; d < shape.n; ++d) {
    if (shape.v[d] == 0) return true;
    if (shape.v[d] > 1) order[k++] = d;
  }
  for (int i = 1; i < k; ++i)  // insertion sort by stride (at most kMaxDims entries)
    for (int j = i; j > 0 && strides.v[order[j]] < strides.v[order[j - 1]]; --j) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  int64_t covered = 0;  // the largest offset reached by the dims so far
  for (int i = 0; i < k; ++i) {
    int64_t s = strides.v[order[i]];
    if (s <= covered) return false;
    covered = checkedAdd(covered, checkedMul(shape.v[order[i]] - 1, s));
  }
  return true;
}

// Elements a row-major rows x cols matrix with row stride ld spans, over `batch` items `stride`
// apart.
inline int64_t matrixExtent(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  if (rows == 0 || cols == 0 || batch == 0) return 0;
  return checkedAdd(checkedAdd(checkedMul(batch - 1, stride), checkedMul(rows - 1, ld)), cols);
}

// Convolution and pooling buffers (ConvGeom, op_types.h).
inline int64_t imageSize(const ConvGeom& g) { return prod(g.N, g.C, g.H, g.W); }
inline int64_t colSize(const ConvGeom& g) { return prod(g.N, g.C, g.kH, g.kW, g.OH, g.OW); }
inline int64_t pooledSize(const ConvGeom& g) { return prod(g.N, g.C, g.OH, g.OW); }

}  // namespace kiln::binding
