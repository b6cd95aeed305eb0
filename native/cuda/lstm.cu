// The fused LSTM cell on the GPU: one thread per (row, unit) of a time step, forward and
// backward, with the CPU kernel's formulas (native/cpu/kernels/lstm.cc). The time loop around it
// is shared with the CPU backend (native/composite/lstm.cc).
#include "launch.cuh"

namespace kiln::cuda {
namespace {

__device__ __forceinline__ float sigmoidf(float x) {
  // stable for any |x|: exp only sees a non-positive argument
  float e = expf(-fabsf(x));
  return x >= 0.f ? 1.f / (1.f + e) : e / (1.f + e);
}

__device__ __forceinline__ float opt(const float* p, int64_t i) { return p ? p[i] : 0.f; }

__global__ void cellForward(float* gates, float* h, float* c, const float* cPrev, int64_t B, int64_t H) {
  KILN_GRID_STRIDE(k, B * H) {
    const int64_t b = k / H, j = k - b * H;
    float* g = gates + b * 4 * H + j;
    const float i = sigmoidf(g[0]), f = sigmoidf(g[H]), gg = tanhf(g[2 * H]), o = sigmoidf(g[3 * H]);
    const float cn = f * cPrev[k] + i * gg;
    g[0] = i;
    g[H] = f;
    g[2 * H] = gg;
    g[3 * H] = o;
    c[k] = cn;
    h[k] = o * tanhf(cn);
  }
}

__global__ void cellBackward(float* dgates, float* dcPrev, const float* dh, const float* dhRec, const float* dc,
                             const float* dcRec, const float* gates, const float* c, const float* cPrev, int64_t B,
                             int64_t H) {
  KILN_GRID_STRIDE(k, B * H) {
    const int64_t b = k / H, j = k - b * H;
    const float* g = gates + b * 4 * H + j;
    float* dg = dgates + b * 4 * H + j;
    const float i = g[0], f = g[H], gg = g[2 * H], o = g[3 * H];
    const float tc = tanhf(c[k]);
    const float dH = opt(dh, k) + opt(dhRec, k);
    const float dC = opt(dc, k) + opt(dcRec, k) + dH * o * (1.f - tc * tc);
    dg[0] = dC * gg * i * (1.f - i);
    dg[H] = dC * cPrev[k] * f * (1.f - f);
    dg[2 * H] = dC * i * (1.f - gg * gg);
    dg[3 * H] = dH * tc * o * (1.f - o);
    dcPrev[k] = dC * f;
  }
}

}  // namespace

void lstmCellForward(DeviceContext& dev, const args::lstmCellForward& a) {
  if (a.B * a.H <= 0) return;
  cellForward<<<gridFor(a.B * a.H), kThreads, 0, dev.stream()>>>(a.gates, a.h, a.c, a.cPrev, a.B, a.H);
  checkLaunch("lstmCellForward");
}

void lstmCellBackward(DeviceContext& dev, const args::lstmCellBackward& a) {
  if (a.B * a.H <= 0) return;
  cellBackward<<<gridFor(a.B * a.H), kThreads, 0, dev.stream()>>>(a.dgates, a.dcPrev, a.dh, a.dhRec, a.dc, a.dcRec,
                                                                   a.gates, a.c, a.cPrev, a.B, a.H);
  checkLaunch("lstmCellBackward");
}

}  // namespace kiln::cuda
