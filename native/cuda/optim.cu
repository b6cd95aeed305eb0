// Fused optimizer updates, one pass over the parameters, following torch.optim's single-tensor
// Adam/AdamW and SGD step by step (ops.def). Bias corrections are formed on the host, in double.
#include <cmath>

#include "launch.cuh"

namespace kiln::cuda {
namespace {

struct AdamArgs {
  float b1c, beta2, b2c, eps, weightDecay, decay;  // b1c = 1 - beta1, b2c = 1 - beta2 (in double); decay = 1 - lr * wd
  float stepSize, bc2Sqrt;
  bool decoupled, amsgrad, maximize;
};

// One element of the update: param, m, v (and vMax with amsgrad) in registers.
__device__ __forceinline__ void adamElement(float& param, float grad, float& mi, float& vi, float* vMax, const AdamArgs& a) {
  if (a.maximize) grad = -grad;
  if (a.weightDecay != 0.f) {
    if (a.decoupled) param = param * a.decay;
    else grad = grad + a.weightDecay * param;
  }
  // exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
  mi = mi + a.b1c * (grad - mi);
  vi = vi * a.beta2 + a.b2c * grad * grad;
  float vv = vi;
  if (a.amsgrad) {
    vv = fmaxf(*vMax, vi);
    *vMax = vv;
  }
  float denom = sqrtf(vv) / a.bc2Sqrt + a.eps;
  param = param - a.stepSize * (mi / denom);
}

__global__ void adamKernel(float* p, const float* g, float* m, float* v, float* vMax, int64_t begin, int64_t n, AdamArgs a) {
  KILN_GRID_STRIDE(j, n - begin) {
    const int64_t i = begin + j;
    float param = p[i], mi = m[i], vi = v[i];
    adamElement(param, g[i], mi, vi, a.amsgrad ? vMax + i : nullptr, a);
    p[i] = param;
    m[i] = mi;
    v[i] = vi;
  }
}

// Four elements a thread through 16-byte loads and stores: Adam moves 28 bytes a parameter and is
// bound by memory; the scalar kernel reached 84% of a device-to-device copy's rate on 100 M floats.
__global__ void adamKernel4(float4* p, const float4* g, float4* m, float4* v, float4* vMax, int64_t n4, AdamArgs a) {
  KILN_GRID_STRIDE(i, n4) {
    float4 P = p[i], G = g[i], M = m[i], V = v[i];
    float4 X = a.amsgrad ? vMax[i] : float4{};
    adamElement(P.x, G.x, M.x, V.x, &X.x, a);
    adamElement(P.y, G.y, M.y, V.y, &X.y, a);
    adamElement(P.z, G.z, M.z, V.z, &X.z, a);
    adamElement(P.w, G.w, M.w, V.w, &X.w, a);
    p[i] = P;
    m[i] = M;
    v[i] = V;
    if (a.amsgrad) vMax[i] = X;
  }
}

bool aligned16(const void* q) { return (reinterpret_cast<uintptr_t>(q) & 15) == 0; }

struct SgdArgs {
  float lr, momentum, dampening, weightDecay;
  bool nesterov, firstStep, maximize;
};

__global__ void sgdKernel(float* p, const float* g, float* buf, int64_t n, SgdArgs a) {
  KILN_GRID_STRIDE(i, n) {
    float d = a.maximize ? -g[i] : g[i];
    float param = p[i];
    if (a.weightDecay != 0.f) d = d + a.weightDecay * param;
    if (a.momentum != 0.f) {
      float b = a.firstStep ? d : buf[i] * a.momentum + (1.0f - a.dampening) * d;
      buf[i] = b;
      d = a.nesterov ? d + a.momentum * b : b;
    }
    p[i] = param - a.lr * d;
  }
}

}  // namespace

void adamStep(DeviceContext& dev, const args::adamStep& hp) {
  if (hp.n <= 0) return;
  if (hp.amsgrad && hp.vMax == nullptr) throw Error("cuda: adamStep: amsgrad needs maxExpAvgSq");
  // bias corrections in double on the host, as the CPU kernel forms them
  const double bc1 = 1.0 - std::pow(hp.beta1, static_cast<double>(hp.step));
  const double bc2 = 1.0 - std::pow(hp.beta2, static_cast<double>(hp.step));
  AdamArgs a{static_cast<float>(1.0 - hp.beta1), static_cast<float>(hp.beta2), static_cast<float>(1.0 - hp.beta2),
             static_cast<float>(hp.eps), static_cast<float>(hp.weightDecay),
             static_cast<float>(1.0 - hp.lr * hp.weightDecay),
             static_cast<float>(hp.lr / bc1), static_cast<float>(std::sqrt(bc2)), hp.decoupled, hp.amsgrad, hp.maximize};
  const bool vec = aligned16(hp.p) && aligned16(hp.g) && aligned16(hp.m) && aligned16(hp.v) &&
                   (!hp.amsgrad || aligned16(hp.vMax));
  const int64_t n4 = vec ? hp.n / 4 : 0;
  if (n4 > 0) {
    adamKernel4<<<gridFor(n4), kThreads, 0, dev.stream()>>>(
        reinterpret_cast<float4*>(hp.p), reinterpret_cast<const float4*>(hp.g), reinterpret_cast<float4*>(hp.m),
        reinterpret_cast<float4*>(hp.v), reinterpret_cast<float4*>(hp.vMax), n4, a);
  }
  if (4 * n4 < hp.n) {
    adamKernel<<<gridFor(hp.n - 4 * n4), kThreads, 0, dev.stream()>>>(hp.p, hp.g, hp.m, hp.v, hp.vMax, 4 * n4, hp.n, a);
  }
  checkLaunch("adamStep");
}

void sgdStep(DeviceContext& dev, const args::sgdStep& hp) {
  if (hp.n <= 0) return;
  if (hp.momentum != 0 && hp.buf == nullptr) throw Error("cuda: sgdStep: momentum needs a momentum buffer");
  SgdArgs a{static_cast<float>(hp.lr), static_cast<float>(hp.momentum), static_cast<float>(hp.dampening),
            static_cast<float>(hp.weightDecay), hp.nesterov, hp.firstStep, hp.maximize};
  sgdKernel<<<gridFor(hp.n), kThreads, 0, dev.stream()>>>(hp.p, hp.g, hp.buf, hp.n, a);
  checkLaunch("sgdStep");
}

}  // namespace kiln::cuda
