// The fused GRU cell on the GPU: one thread per (row, unit) of a time step, forward and
// backward, with the CPU kernel's formulas (native/cpu/kernels/gru.cc). The time loop around it
// is shared with the CPU backend (native/composite/gru.cc).
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__device__ __forceinline__ float sigmoidf(float x) {
  float e = expf(-fabsf(x));  // exp of a non-positive argument only: stable for any |x|
  return x >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
}

__device__ __forceinline__ float opt(const float* p, int64_t i) { return p ? p[i] : 0.f; }

__global__ void cellForward(float* gates, float* h, const float* hh, const float* hPrev, int64_t B, int64_t H) {
  KILN_GRID_STRIDE(k, B * H) {
    const int64_t b = k / H, j = k - b * H;
    float* g = gates + b * 3 * H + j;
    const float* q = hh + b * 3 * H + j;
    const float r = sigmoidf(g[0] + q[0]);
    const float z = sigmoidf(g[H] + q[H]);
    const float n = tanhf(g[2 * H] + r * q[2 * H]);
    g[0] = r;
    g[H] = z;
    g[2 * H] = n;
    h[k] = n + z * (hPrev[k] - n);
  }
}

__global__ void cellBackward(float* dproj, float* dhh, float* dhPrev, const float* dh, const float* dhRec,
                             const float* gates, const float* hh, const float* hPrev, int64_t B, int64_t H) {
  KILN_GRID_STRIDE(k, B * H) {
    const int64_t b = k / H, j = k - b * H;
    const int64_t row = b * 3 * H + j;
    const float r = gates[row], z = gates[row + H], n = gates[row + 2 * H];
    const float dH = opt(dh, k) + opt(dhRec, k);
    const float dnPre = dH * (1.f - z) * (1.f - n * n);
    const float dzPre = dH * (hPrev[k] - n) * z * (1.f - z);
    const float drPre = dnPre * hh[row + 2 * H] * r * (1.f - r);
    dproj[row] = drPre;
    dproj[row + H] = dzPre;
    dproj[row + 2 * H] = dnPre;
    dhh[row] = drPre;
    dhh[row + H] = dzPre;
    dhh[row + 2 * H] = dnPre * r;
    dhPrev[k] = dH * z;
  }
}

}  // namespace

void gruCellForward(DeviceContext& dev, const args::gruCellForward& a) {
  if (a.B * a.H <= 0) return;
  cellForward<<<gridFor(a.B * a.H), kThreads, 0, dev.stream()>>>(a.gates, a.h, a.hh, a.hPrev, a.B, a.H);
  checkLaunch("gruCellForward");
}

void gruCellBackward(DeviceContext& dev, const args::gruCellBackward& a) {
  if (a.B * a.H <= 0) return;
  cellBackward<<<gridFor(a.B * a.H), kThreads, 0, dev.stream()>>>(a.dproj, a.dhh, a.dhPrev, a.dh, a.dhRec, a.gates,
                                                                   a.hh, a.hPrev, a.B, a.H);
  checkLaunch("gruCellBackward");
}

}  // namespace kiln::cuda
