// Fused optimizer updates, one pass over the parameters, following torch.optim's single-tensor
// code path (bias corrections in double, then used as float scalars like PyTorch's tensor ops).
#include <cmath>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {

void adamStep(const args::adamStep& hp) {
  float *p = hp.p, *m = hp.m, *v = hp.v, *vMax = hp.vMax;
  const float* g = hp.g;
  const int64_t n = hp.n;
  if (n <= 0) return;
  const double bias1 = 1.0 - std::pow(static_cast<double>(hp.beta1), static_cast<double>(hp.step));
  const double bias2 = 1.0 - std::pow(static_cast<double>(hp.beta2), static_cast<double>(hp.step));
  const float stepSize = static_cast<float>(hp.lr / bias1);
  const float bias2Sqrt = static_cast<float>(std::sqrt(bias2));
  const float b1c = static_cast<float>(1.0 - hp.beta1), b2 = static_cast<float>(hp.beta2),
              b2c = static_cast<float>(1.0 - hp.beta2), eps = static_cast<float>(hp.eps);
  const float wd = static_cast<float>(hp.weightDecay);
  const float decay = static_cast<float>(1.0 - static_cast<double>(hp.lr) * wd);  // AdamW
  const bool coupled = !hp.decoupled && wd != 0, decoupled = hp.decoupled && wd != 0;
  const bool maximize = hp.maximize, amsgrad = hp.amsgrad;
  if (!amsgrad && !coupled) {
    // The common case as one branch-free loop over non-aliasing arrays, so it vectorises (the
    // general loop below stays scalar). Same operations in the same order: negation by the sign
    // and the decay factor (1 when unused) are exact.
    const float sign = maximize ? -1.0f : 1.0f, keep = decoupled ? decay : 1.0f;
    parallel_for(n, kElemGrain, [=](int64_t b, int64_t e) {
      float* __restrict pp = p;
      const float* __restrict gp = g;
      float* __restrict mp = m;
      float* __restrict vp = v;
      for (int64_t i = b; i < e; ++i) {
        float gi = sign * gp[i];
        float pi = pp[i] * keep;
        float mi = mp[i] + b1c * (gi - mp[i]);
        float vi = vp[i] * b2 + b2c * gi * gi;
        mp[i] = mi;
        vp[i] = vi;
        float denom = sqrtf(vi) / bias2Sqrt + eps;
        pp[i] = pi - stepSize * (mi / denom);
      }
    });
    return;
  }
  parallel_for(n, kElemGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float gi = maximize ? -g[i] : g[i];
      float pi = p[i];
      if (coupled) gi += wd * pi;
      if (decoupled) pi *= decay;
      float mi = m[i] + b1c * (gi - m[i]);  // exp_avg.lerp_(grad, 1 - beta1)
      float vi = v[i] * b2 + b2c * gi * gi;
      m[i] = mi;
      v[i] = vi;
      float vUse = vi;
      if (amsgrad) {
        vUse = vMax[i] > vi ? vMax[i] : vi;
        vMax[i] = vUse;
      }
      float denom = sqrtf(vUse) / bias2Sqrt + eps;
      p[i] = pi - stepSize * (mi / denom);
    }
  });
}

void sgdStep(const args::sgdStep& hp) {
  float *p = hp.p, *buf = hp.buf;
  const float* g = hp.g;
  const int64_t n = hp.n;
  if (n <= 0) return;
  const float lr = static_cast<float>(hp.lr), mom = static_cast<float>(hp.momentum),
              damp = static_cast<float>(1.0 - hp.dampening), wd = static_cast<float>(hp.weightDecay);
  const bool maximize = hp.maximize, nesterov = hp.nesterov, first = hp.firstStep;
  const bool useMomentum = mom != 0 && buf != nullptr;
  parallel_for(n, kElemGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float gi = maximize ? -g[i] : g[i];
      if (wd != 0) gi += wd * p[i];
      if (useMomentum) {
        float bi = first ? gi : mom * buf[i] + damp * gi;
        buf[i] = bi;
        gi = nesterov ? gi + mom * bi : bi;
      }
      p[i] -= lr * gi;
    }
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
