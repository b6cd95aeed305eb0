// The value types op arguments are made of (ops.def): op codes, dims, convolution geometry.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace kiln {

// Values match src/native.ts.
enum class UnaryOp : int32_t {
  Neg = 0, Exp, Log, Sqrt, Rsqrt, Abs, Sign, Relu, Sigmoid, Tanh,
  Gelu,        // exact (erf) form, PyTorch's default
  LeakyRelu,   // alpha = negative slope
  Clamp,       // alpha = min, beta = max (either may be +-inf)
  PowScalar,   // x ** alpha
  AddScalar,   // x + alpha
  MulScalar,   // x * alpha
  Square, Reciprocal, Sin, Cos,
  RSubScalar,  // alpha - x
  Count
};

// What unaryBackward reads besides dy for an op: its input x, its output y, or nothing.
enum class GradReads { Nothing, Input, Output };
constexpr GradReads unaryGradReads(UnaryOp op, double alpha) {
  switch (op) {
    case UnaryOp::Exp: case UnaryOp::Sqrt: case UnaryOp::Rsqrt: case UnaryOp::Sigmoid: case UnaryOp::Tanh:
      return GradReads::Output;
    case UnaryOp::Neg: case UnaryOp::Sign: case UnaryOp::AddScalar: case UnaryOp::MulScalar:
    case UnaryOp::RSubScalar: case UnaryOp::Count:
      return GradReads::Nothing;
    case UnaryOp::PowScalar:
      return alpha == 0.0 ? GradReads::Nothing : GradReads::Input;
    default:
      return GradReads::Input;
  }
}

enum class BinaryOp : int32_t {
  Add = 0, Sub, Mul, Div, Pow, Max, Min,
  Eq, Ne, Gt, Ge, Lt, Le,  // comparisons write F32 1/0
  Count
};

enum class ReduceOp : int32_t { Sum = 0, Mean, Max, Min, ArgMax, ArgMin, Count };

// Running reductions along a dim (cumsum, cumprod, logcumsumexp).
enum class ScanOp : int32_t { Sum = 0, Prod, LogSumExp, Count };

// A shape or a list of strides: n entries of v.
struct Dims {
  int n = 0;
  int64_t v[kMaxDims] = {};
};

// NCHW convolution or pooling window: input [N, C, H, W], output [OH, OW] per plane.
struct ConvGeom {
  int64_t N, C, H, W;
  int kH, kW, sH, sW, pH, pW, dH, dW;  // kernel, stride, padding, dilation
  int64_t OH, OW;
};

}  // namespace kiln
