// Element types and devices shared by the binding and every backend.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln {

// Values match src/dtype.ts.
enum class DType : int32_t { F32 = 0, I32 = 1 };

inline size_t dtypeSize(DType) { return 4; }  // both element types are 4 bytes wide

// Device ids: 0 is the CPU, 1 + n is CUDA device n.
constexpr int kCpuDevice = 0;
constexpr int kMaxDevices = 9;

// Most dims an op on a strided (broadcast or non-contiguous) view accepts.
constexpr int kMaxDims = 8;

}  // namespace kiln
