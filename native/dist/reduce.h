// Element-wise reductions on host memory, for the steps an engine does itself (Gloo's ring
// reduce-scatter, the division of an average). Plain loops: the compiler vectorises them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "engine.h"

namespace kiln::dist {

template <typename T>
void combine(T* __restrict acc, const T* __restrict x, size_t n, RedOp op) {
  switch (op) {
    case RedOp::Sum:
    case RedOp::Avg:
      for (size_t i = 0; i < n; ++i) acc[i] += x[i];
      break;
    case RedOp::Max:
      for (size_t i = 0; i < n; ++i) acc[i] = x[i] > acc[i] ? x[i] : acc[i];
      break;
    case RedOp::Min:
      for (size_t i = 0; i < n; ++i) acc[i] = x[i] < acc[i] ? x[i] : acc[i];
      break;
  }
}

// acc[i] = acc[i] op x[i]
inline void combine(void* acc, const void* x, size_t n, Elem elem, RedOp op) {
  if (elem == Elem::F32) combine(static_cast<float*>(acc), static_cast<const float*>(x), n, op);
  else combine(static_cast<int32_t*>(acc), static_cast<const int32_t*>(x), n, op);
}

// An average is a sum divided by the group size (float32 only; the caller refuses int32).
inline void divideBy(void* data, size_t n, Elem elem, int size) {
  if (elem != Elem::F32) throw Error("avg: expected a float32 tensor");
  float* p = static_cast<float*>(data);
  const float k = static_cast<float>(size);
  for (size_t i = 0; i < n; ++i) p[i] /= k;  // a division, as PyTorch's avg: exact for any size
}

}  // namespace kiln::dist
