// Element types and devices shared by the binding and every backend.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln {

// Values match src/dtype.ts. New dtypes append a value and a case to each switch below.
enum class DType : int32_t { F32 = 0, I32 = 1, F64 = 2 };

// Whether code (from JS) names a dtype.
constexpr bool isDType(int64_t code) { return code == 0 || code == 1 || code == 2; }

constexpr size_t dtypeSize(DType t) {
  switch (t) {
    case DType::F64: return 8;
    default: return 4;  // F32, I32
  }
}

constexpr const char* dtypeName(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::I32: return "int32";
    case DType::F64: return "float64";
  }
  return "unknown";
}

// Floating-point dtypes (the ones unary math, softmax, gemm and linalg accept).
constexpr bool isFloating(DType t) { return t == DType::F32 || t == DType::F64; }

// Device ids: 0 is the CPU, 1 + n is CUDA device n.
constexpr int kCpuDevice = 0;
constexpr int kMaxDevices = 9;

// Most dims an op on a strided (broadcast or non-contiguous) view accepts.
constexpr int kMaxDims = 8;

}  // namespace kiln
