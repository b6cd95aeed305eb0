// Elementwise ops: unary (+ backward), broadcasting binary, where; float32 and float64 (the
// float64 forms use the double math functions), int32 for the integer-safe binary ops.
// Semantics follow PyTorch: relu'(0) = 0, abs'(0) = 0, clamp passes the gradient where
// min <= x <= max, max/min propagate NaN, gelu is the exact erf form, written
// 0.5 x erfc(-x / sqrt 2): 1 + erf(x / sqrt 2) cancels for negative x (float32 loses 1e-3 relative at x = -4).
#include <cmath>

#include "launch.cuh"

namespace kiln::cuda {
namespace {

constexpr float kInvSqrt2 = 0.70710678118654752440f;
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;

__device__ __forceinline__ float unaryF(UnaryOp op, float x, float a, float b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return expf(x);
    case UnaryOp::Log: return logf(x);
    case UnaryOp::Sqrt: return sqrtf(x);
    case UnaryOp::Rsqrt: return 1.0f / sqrtf(x);
    case UnaryOp::Abs: return fabsf(x);
    case UnaryOp::Sign: return x > 0.f ? 1.f : (x < 0.f ? -1.f : (x == 0.f ? 0.f : x));
    case UnaryOp::Relu: return x < 0.f ? 0.f : x;  // NaN passes
    case UnaryOp::Sigmoid: return 1.0f / (1.0f + expf(-x));
    case UnaryOp::Tanh: return tanhf(x);
    case UnaryOp::Gelu: return 0.5f * x * erfcf(-x * kInvSqrt2);
    case UnaryOp::LeakyRelu: return x > 0.f ? x : x * a;
    case UnaryOp::Clamp: return x != x ? x : fminf(fmaxf(x, a), b);
    case UnaryOp::PowScalar: return powf(x, a);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::Square: return x * x;
    case UnaryOp::Reciprocal: return 1.0f / x;
    case UnaryOp::Sin: return sinf(x);
    case UnaryOp::Cos: return cosf(x);
    case UnaryOp::RSubScalar: return a - x;
    default: return __int_as_float(0x7fffffff);
  }
}

// dx for dy; x and y as documented in backend.h (y for Exp, Sqrt, Rsqrt, Sigmoid, Tanh).
__device__ __forceinline__ float unaryGrad(UnaryOp op, float g, float x, float y, float a, float b) {
  switch (op) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g / (2.0f * y);
    case UnaryOp::Rsqrt: return -0.5f * g * y * y * y;
    case UnaryOp::Abs: return x > 0.f ? g : (x < 0.f ? -g : 0.f);
    case UnaryOp::Sign: return 0.f;
    case UnaryOp::Relu: return x > 0.f ? g : 0.f;
    case UnaryOp::Sigmoid: return g * y * (1.0f - y);
    case UnaryOp::Tanh: return g * (1.0f - y * y);
    case UnaryOp::Gelu: {
      float cdf = 0.5f * erfcf(-x * kInvSqrt2);
      float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
      return g * (cdf + x * pdf);
    }
    case UnaryOp::LeakyRelu: return x > 0.f ? g : g * a;
    case UnaryOp::Clamp: return (x >= a && x <= b) ? g : 0.f;
    case UnaryOp::PowScalar: return a == 0.f ? 0.f : g * a * powf(x, a - 1.0f);
    case UnaryOp::AddScalar: return g;
    case UnaryOp::MulScalar: return g * a;
    case UnaryOp::Square: return 2.0f * x * g;
    case UnaryOp::Reciprocal: return -g / (x * x);
    case UnaryOp::Sin: return g * cosf(x);
    case UnaryOp::Cos: return -g * sinf(x);
    case UnaryOp::RSubScalar: return -g;
    default: return __int_as_float(0x7fffffff);
  }
}

__device__ __forceinline__ double unaryD(UnaryOp op, double x, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return -x;
    case UnaryOp::Exp: return exp(x);
    case UnaryOp::Log: return log(x);
    case UnaryOp::Sqrt: return sqrt(x);
    case UnaryOp::Rsqrt: return 1.0 / sqrt(x);
    case UnaryOp::Abs: return fabs(x);
    case UnaryOp::Sign: return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : (x == 0.0 ? 0.0 : x));
    case UnaryOp::Relu: return x < 0.0 ? 0.0 : x;
    case UnaryOp::Sigmoid: return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    case UnaryOp::Tanh: return tanh(x);
    case UnaryOp::Gelu: return 0.5 * x * erfc(-x * 0.70710678118654752440);
    case UnaryOp::LeakyRelu: return x > 0.0 ? x : x * a;
    case UnaryOp::Clamp: return x != x ? x : fmin(fmax(x, a), b);
    case UnaryOp::PowScalar: return pow(x, a);
    case UnaryOp::AddScalar: return x + a;
    case UnaryOp::MulScalar: return x * a;
    case UnaryOp::Square: return x * x;
    case UnaryOp::Reciprocal: return 1.0 / x;
    case UnaryOp::Sin: return sin(x);
    case UnaryOp::Cos: return cos(x);
    case UnaryOp::RSubScalar: return a - x;
    default: return __longlong_as_double(0x7ff8000000000000ll);
  }
}

__device__ __forceinline__ double unaryGradD(UnaryOp op, double g, double x, double y, double a, double b) {
  switch (op) {
    case UnaryOp::Neg: return -g;
    case UnaryOp::Exp: return g * y;
    case UnaryOp::Log: return g / x;
    case UnaryOp::Sqrt: return g / (2.0 * y);
    case UnaryOp::Rsqrt: return -0.5 * g * y * y * y;
    case UnaryOp::Abs: return x > 0.0 ? g : (x < 0.0 ? -g : 0.0);
    case UnaryOp::Sign: return 0.0;
    case UnaryOp::Relu: return x > 0.0 ? g : 0.0;
    case UnaryOp::Sigmoid: return g * y * (1.0 - y);
    case UnaryOp::Tanh: return g * (1.0 - y * y);
    case UnaryOp::Gelu: {
      double cdf = 0.5 * erfc(-x * 0.70710678118654752440);
      double pdf = 0.39894228040143267794 * exp(-0.5 * x * x);
      return g * (cdf + x * pdf);
    }
    case UnaryOp::LeakyRelu: return x > 0.0 ? g : g * a;
    case UnaryOp::Clamp: return (x >= a && x <= b) ? g : 0.0;
    case UnaryOp::PowScalar: return a == 0.0 ? 0.0 : g * a * pow(x, a - 1.0);
    case UnaryOp::AddScalar: return g;
    case UnaryOp::MulScalar: return g * a;
    case UnaryOp::Square: return 2.0 * x * g;
    case UnaryOp::Reciprocal: return -g / (x * x);
    case UnaryOp::Sin: return g * cos(x);
    case UnaryOp::Cos: return -g * sin(x);
    case UnaryOp::RSubScalar: return -g;
    default: return __longlong_as_double(0x7ff8000000000000ll);
  }
}

__global__ void unaryKernel(UnaryOp op, float* y, const float* x, int64_t n, float a, float b) {
  KILN_GRID_STRIDE(i, n) y[i] = unaryF(op, x[i], a, b);
}

__global__ void unaryKernelD(UnaryOp op, double* y, const double* x, int64_t n, double a, double b) {
  KILN_GRID_STRIDE(i, n) y[i] = unaryD(op, x[i], a, b);
}

__global__ void unaryBackwardKernelD(UnaryOp op, double* dx, const double* dy, const double* x, const double* y,
                                     int64_t n, double a, double b) {
  KILN_GRID_STRIDE(i, n) {
    double xv = x != nullptr ? x[i] : 0.0;
    double yv = y != nullptr ? y[i] : 0.0;
    dx[i] = unaryGradD(op, dy[i], xv, yv, a, b);
  }
}

__global__ void unaryBackwardKernel(UnaryOp op, float* dx, const float* dy, const float* x,
                                    const float* y, int64_t n, float a, float b) {
  KILN_GRID_STRIDE(i, n) {
    float xv = x != nullptr ? x[i] : 0.f;
    float yv = y != nullptr ? y[i] : 0.f;
    dx[i] = unaryGrad(op, dy[i], xv, yv, a, b);
  }
}

template <class T>
__device__ __forceinline__ T binaryArith(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Pow:
      if constexpr (sizeof(T) == 8) return pow(a, b);
      else return static_cast<T>(powf(static_cast<float>(a), static_cast<float>(b)));
    case BinaryOp::Max: return (a != a || a > b) ? a : b;  // NaN propagates (torch.maximum)
    case BinaryOp::Min: return (a != a || a < b) ? a : b;
    default: return T(0);
  }
}

template <class T>
__device__ __forceinline__ float binaryCompare(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Eq: return a == b ? 1.f : 0.f;
    case BinaryOp::Ne: return a != b ? 1.f : 0.f;
    case BinaryOp::Gt: return a > b ? 1.f : 0.f;
    case BinaryOp::Ge: return a >= b ? 1.f : 0.f;
    case BinaryOp::Lt: return a < b ? 1.f : 0.f;
    case BinaryOp::Le: return a <= b ? 1.f : 0.f;
    default: return 0.f;
  }
}

template <class T>
__global__ void binaryArithKernel(BinaryOp op, T* out, const T* a, const T* b, int64_t n, Strided va,
                                  Strided vb) {
  KILN_GRID_STRIDE(i, n) out[i] = binaryArith<T>(op, a[stridedOffset(i, va)], b[stridedOffset(i, vb)]);
}

template <class T>
__global__ void binaryCompareKernel(BinaryOp op, float* out, const T* a, const T* b, int64_t n,
                                    Strided va, Strided vb) {
  KILN_GRID_STRIDE(i, n) out[i] = binaryCompare<T>(op, a[stridedOffset(i, va)], b[stridedOffset(i, vb)]);
}

template <class T>
__global__ void whereKernel(T* out, const float* c, const T* a, const T* b, int64_t n,
                            Strided vc, Strided va, Strided vb) {
  KILN_GRID_STRIDE(i, n) {
    out[i] = c[stridedOffset(i, vc)] != 0.f ? a[stridedOffset(i, va)] : b[stridedOffset(i, vb)];
  }
}

}  // namespace

void unary(DeviceContext& dev, const args::unary& a) {
  if (a.n <= 0) return;
  if (a.xType == DType::F64) {
    unaryKernelD<<<gridFor(a.n), kThreads, 0, dev.stream()>>>(a.op, static_cast<double*>(a.y),
                                                              static_cast<const double*>(a.x), a.n, a.alpha, a.beta);
  } else {
    unaryKernel<<<gridFor(a.n), kThreads, 0, dev.stream()>>>(a.op, static_cast<float*>(a.y), static_cast<const float*>(a.x),
                                                             a.n, static_cast<float>(a.alpha), static_cast<float>(a.beta));
  }
  checkLaunch("unary");
}

void unaryBackward(DeviceContext& dev, const args::unaryBackward& a) {
  const UnaryOp op = a.op;
  if (a.n <= 0) return;
  GradReads reads = unaryGradReads(op, a.alpha);
  if (reads == GradReads::Output && a.y == nullptr) throw Error("cuda: unaryBackward: this op needs the forward output y");
  if (reads == GradReads::Input && a.x == nullptr) throw Error("cuda: unaryBackward: this op needs the forward input x");
  if (a.dyType == DType::F64) {
    unaryBackwardKernelD<<<gridFor(a.n), kThreads, 0, dev.stream()>>>(
        op, static_cast<double*>(a.dx), static_cast<const double*>(a.dy), static_cast<const double*>(a.x),
        static_cast<const double*>(a.y), a.n, a.alpha, a.beta);
  } else {
    unaryBackwardKernel<<<gridFor(a.n), kThreads, 0, dev.stream()>>>(
        op, static_cast<float*>(a.dx), static_cast<const float*>(a.dy), static_cast<const float*>(a.x),
        static_cast<const float*>(a.y), a.n, static_cast<float>(a.alpha), static_cast<float>(a.beta));
  }
  checkLaunch("unaryBackward");
}

void binary(DeviceContext& dev, const args::binary& p) {
  const BinaryOp op = p.op;
  cudaStream_t s = dev.stream();
  int64_t n = numel(p.shape);
  if (n <= 0) return;
  Strided va = makeStrided(p.shape, p.aStrides), vb = makeStrided(p.shape, p.bStrides);
  bool compare = op >= BinaryOp::Eq;
  if (p.aType == DType::F32) {
    auto* pa = static_cast<const float*>(p.a);
    auto* pb = static_cast<const float*>(p.b);
    if (compare) {
      binaryCompareKernel<float><<<gridFor(n), kThreads, 0, s>>>(op, static_cast<float*>(p.out), pa, pb, n, va, vb);
    } else {
      binaryArithKernel<float><<<gridFor(n), kThreads, 0, s>>>(op, static_cast<float*>(p.out), pa, pb, n, va, vb);
    }
  } else if (p.aType == DType::F64) {
    auto* pa = static_cast<const double*>(p.a);
    auto* pb = static_cast<const double*>(p.b);
    if (compare) {
      binaryCompareKernel<double><<<gridFor(n), kThreads, 0, s>>>(op, static_cast<float*>(p.out), pa, pb, n, va, vb);
    } else {
      binaryArithKernel<double><<<gridFor(n), kThreads, 0, s>>>(op, static_cast<double*>(p.out), pa, pb, n, va, vb);
    }
  } else {
    if (op == BinaryOp::Div || op == BinaryOp::Pow) throw Error("cuda: binary: div and pow need float tensors");
    auto* pa = static_cast<const int32_t*>(p.a);
    auto* pb = static_cast<const int32_t*>(p.b);
    if (compare) {
      binaryCompareKernel<int32_t><<<gridFor(n), kThreads, 0, s>>>(op, static_cast<float*>(p.out), pa, pb, n, va, vb);
    } else {
      binaryArithKernel<int32_t><<<gridFor(n), kThreads, 0, s>>>(op, static_cast<int32_t*>(p.out), pa, pb, n, va, vb);
    }
  }
  checkLaunch("binary");
}

void where(DeviceContext& dev, const args::where& p) {
  int64_t n = numel(p.shape);
  if (n <= 0) return;
  Strided vc = makeStrided(p.shape, p.condStrides), va = makeStrided(p.shape, p.aStrides),
          vb = makeStrided(p.shape, p.bStrides);
  if (p.outType == DType::F64) {
    whereKernel<double><<<gridFor(n), kThreads, 0, dev.stream()>>>(static_cast<double*>(p.out), p.cond,
                                                                    static_cast<const double*>(p.a),
                                                                    static_cast<const double*>(p.b), n, vc, va, vb);
  } else {
    whereKernel<float><<<gridFor(n), kThreads, 0, dev.stream()>>>(static_cast<float*>(p.out), p.cond,
                                                                   static_cast<const float*>(p.a),
                                                                   static_cast<const float*>(p.b), n, vc, va, vb);
  }
  checkLaunch("where");
}

}  // namespace kiln::cuda
