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

__global__ void adamKernel(float* p, const float* g, float* m, float* v, float* vMax, int64_t n, AdamArgs a) {
  KILN_GRID_STRIDE(i, n) {
    float grad = a.maximize ? -g[i] : g[i];
    float param = p[i];
    if (a.weightDecay != 0.f) {
      if (a.decoupled) param = param * a.decay;
      else grad = grad + a.weightDecay * param;
    }
    // exp_avg.lerp_(grad, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    float mi = m[i];
    mi = mi + a.b1c * (grad - mi);
    float vi = v[i] * a.beta2 + a.b2c * grad * grad;
    m[i] = mi;
    v[i] = vi;
    float vv = vi;
    if (a.amsgrad) {
      vv = fmaxf(vMax[i], vi);
      vMax[i] = vv;
    }
    float denom = sqrtf(vv) / a.bc2Sqrt + a.eps;
    p[i] = param - a.stepSize * (mi / denom);
  }
}

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
  adamKernel<<<gridFor(hp.n), kThreads, 0, dev.stream()>>>(hp.p, hp.g, hp.m, hp.v, hp.vMax, hp.n, a);
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
