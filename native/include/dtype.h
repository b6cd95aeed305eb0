// Element types and devices shared by the binding and every backend.
#pragma once
#include <cstddef>
#include <cstdint>

namespace kiln {

// Values match src/dtype.ts. New dtypes append a value and a case to each switch below.
// BF16: bfloat16 storage (2 bytes, CPU only); kernels other than casts, layout moves and
// gemmBf16 refuse it (binding/op_call.h), the TypeScript ops widen it to float32 (src/ops/bf16.ts).
enum class DType : int32_t { F32 = 0, I32 = 1, F64 = 2, BF16 = 3 };

// Whether code (from JS) names a dtype.
constexpr bool isDType(int64_t code) { return code >= 0 && code <= 3; }

constexpr size_t dtypeSize(DType t) {
  switch (t) {
    case DType::F64: return 8;
    case DType::BF16: return 2;
    default: return 4;  // F32, I32
  }
}

constexpr const char* dtypeName(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::I32: return "int32";
    case DType::F64: return "float64";
    case DType::BF16: return "bfloat16";
  }
  return "unknown";
}

// float32 bits -> bfloat16 bits: round to nearest, ties to even; NaN stays a (quiet) NaN with its
// sign; infinities and zeros keep theirs; subnormals round like any other value.
inline uint16_t floatBitsToBf16(uint32_t u) {
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u | 0x00400000u) >> 16);
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
// bfloat16 bits -> float32 bits (exact).
inline uint32_t bf16ToFloatBits(uint16_t h) { return static_cast<uint32_t>(h) << 16; }

// Floating-point dtypes (the ones unary math, softmax, gemm and linalg accept).
constexpr bool isFloating(DType t) { return t == DType::F32 || t == DType::F64; }

// Device ids: 0 is the CPU, 1 + n is CUDA device n.
constexpr int kCpuDevice = 0;
constexpr int kMaxDevices = 9;

// Most dims an op on a strided (broadcast or non-contiguous) view accepts.
constexpr int kMaxDims = 8;

}  // namespace kiln
