// Fused scaled dot-product attention on CUDA, flash-attention style, as the CPU kernel
// (native/cpu/kernels/attention.cc) computes it: no [Tq, Tk] matrix in memory.
//   forward : a block of 64 query rows (one thread each) walks the keys in tiles of kTile rows staged
//             in shared memory; each thread keeps its output row and its running max and sum
//             (online softmax) and writes out and lse.
//   backward: Dr = rowsum(dout * out); dK, dV: a block of 64 key rows walks the queries in tiles
//             (q, dout, lse, Dr staged), recomputing p = exp(s - lse); dQ: a block of 64 query rows
//             walks the keys. No atomics: each thread owns the rows it writes.
// Head widths up to kMaxD (128): the rows live in registers / local memory.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

constexpr int kRows = 64;   // rows (threads) per block
constexpr int kTile = 32;   // rows staged per shared-memory tile
constexpr int kMaxD = 128;  // largest D and Dv

struct View {  // one tensor's strides over (B, H, T); its last dim is contiguous
  int64_t sb, sh, st;
};
struct Geom {
  int64_t B, H, Tq, Tk, D, Dv;
  View q, k, v;
  int64_t bb, bh, bq, bk;  // bias strides
  float scale;
  bool causal;
};

__device__ __forceinline__ float score(const Geom& g, const float* qrow, const float* krow, const float* bias,
                                       int64_t i, int64_t j) {
  if (g.causal && j > i) return -INFINITY;
  float s = 0.f;
  for (int64_t d = 0; d < g.D; ++d) s += qrow[d] * krow[d];
  s *= g.scale;
  if (bias != nullptr) s += bias[i * g.bq + j * g.bk];
  return s;
}

__global__ void attnForwardKernel(Geom g, float* out, float* lse, const float* q, const float* k, const float* v,
                                  const float* bias) {
  extern __shared__ float sh[];
  float* kt = sh;               // [kTile, D]
  float* vt = sh + kTile * g.D;  // [kTile, Dv]
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x;
  const float* qb = q + b * g.q.sb + h * g.q.sh;
  const float* kb = k + b * g.k.sb + h * g.k.sh;
  const float* vb = v + b * g.v.sb + h * g.v.sh;
  const float* bb = bias == nullptr ? nullptr : bias + b * g.bb + h * g.bh;
  float qr[kMaxD], acc[kMaxD];
  const bool live = i < g.Tq;
  for (int64_t d = 0; d < g.D; ++d) qr[d] = live ? qb[i * g.q.st + d] : 0.f;
  for (int64_t d = 0; d < g.Dv; ++d) acc[d] = 0.f;
  float m = -INFINITY, l = 0.f;
  int64_t lastRow = static_cast<int64_t>(blockIdx.x) * kRows + kRows - 1;
  const int64_t jEnd = g.causal ? min(g.Tk, lastRow + 1) : g.Tk;
  for (int64_t j0 = 0; j0 < jEnd; j0 += kTile) {
    const int64_t bc = min(static_cast<int64_t>(kTile), jEnd - j0);
    __syncthreads();
    for (int64_t e = threadIdx.x; e < bc * g.D; e += blockDim.x) kt[e] = kb[(j0 + e / g.D) * g.k.st + e % g.D];
    for (int64_t e = threadIdx.x; e < bc * g.Dv; e += blockDim.x) vt[e] = vb[(j0 + e / g.Dv) * g.v.st + e % g.Dv];
    __syncthreads();
    if (!live) continue;
    float s[kTile];
    float mx = m;
    for (int c = 0; c < bc; ++c) {
      s[c] = score(g, qr, kt + c * g.D, bb, i, j0 + c);
      mx = fmaxf(mx, s[c]);
    }
    if (mx == -INFINITY) continue;
    const float alpha = m == -INFINITY ? 0.f : expf(m - mx);
    for (int64_t d = 0; d < g.Dv; ++d) acc[d] *= alpha;
    l *= alpha;
    for (int c = 0; c < bc; ++c) {
      const float p = expf(s[c] - mx);
      l += p;
      const float* vr = vt + c * g.Dv;
      for (int64_t d = 0; d < g.Dv; ++d) acc[d] += p * vr[d];
    }
    m = mx;
  }
  if (!live) return;
  float* o = out + (bh * g.Tq + i) * g.Dv;
  if (m == -INFINITY) {
    for (int64_t d = 0; d < g.Dv; ++d) o[d] = g.Tk == 0 ? 0.f : __int_as_float(0x7fc00000);
    lse[bh * g.Tq + i] = -INFINITY;
    return;
  }
  const float inv = 1.f / l;
  for (int64_t d = 0; d < g.Dv; ++d) o[d] = acc[d] * inv;
  lse[bh * g.Tq + i] = m + logf(l);
}

__global__ void attnRowDotKernel(float* dr, const float* dout, const float* out, int64_t rows, int64_t Dv) {
  KILN_GRID_STRIDE(r, rows) {
    float s = 0.f;
    for (int64_t d = 0; d < Dv; ++d) s += dout[r * Dv + d] * out[r * Dv + d];
    dr[r] = s;
  }
}

// dK, dV for 64 key rows of one (b, h), walking every query tile.
__global__ void attnBackwardKVKernel(Geom g, float* dk, float* dv, const float* dout, const float* lse, const float* dr,
                                     const float* q, const float* k, const float* v, const float* bias) {
  extern __shared__ float sh[];
  float* qt = sh;                     // [kTile, D]
  float* ot = sh + kTile * g.D;       // [kTile, Dv] (dout)
  float* lt = ot + kTile * g.Dv;      // [kTile] lse
  float* dt = lt + kTile;             // [kTile] Dr
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  const int64_t j = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x;
  const float* qb = q + b * g.q.sb + h * g.q.sh;
  const float* kb = k + b * g.k.sb + h * g.k.sh;
  const float* vb = v + b * g.v.sb + h * g.v.sh;
  const float* bb = bias == nullptr ? nullptr : bias + b * g.bb + h * g.bh;
  const bool live = j < g.Tk;
  float kr[kMaxD], vr[kMaxD], dkr[kMaxD], dvr[kMaxD];
  for (int64_t d = 0; d < g.D; ++d) {
    kr[d] = live ? kb[j * g.k.st + d] : 0.f;
    dkr[d] = 0.f;
  }
  for (int64_t d = 0; d < g.Dv; ++d) {
    vr[d] = live ? vb[j * g.v.st + d] : 0.f;
    dvr[d] = 0.f;
  }
  const int64_t firstRow = static_cast<int64_t>(blockIdx.x) * kRows;
  for (int64_t i0 = g.causal ? firstRow / kTile * kTile : 0; i0 < g.Tq; i0 += kTile) {
    const int64_t br = min(static_cast<int64_t>(kTile), g.Tq - i0);
    __syncthreads();
    for (int64_t e = threadIdx.x; e < br * g.D; e += blockDim.x) qt[e] = qb[(i0 + e / g.D) * g.q.st + e % g.D];
    for (int64_t e = threadIdx.x; e < br * g.Dv; e += blockDim.x) ot[e] = dout[(bh * g.Tq + i0) * g.Dv + e];
    for (int64_t e = threadIdx.x; e < br; e += blockDim.x) {
      lt[e] = lse[bh * g.Tq + i0 + e];
      dt[e] = dr[bh * g.Tq + i0 + e];
    }
    __syncthreads();
    if (!live) continue;
    for (int r = 0; r < br; ++r) {
      const float s = score(g, qt + r * g.D, kr, bb, i0 + r, j);
      if (s == -INFINITY || lt[r] == -INFINITY) continue;
      const float p = expf(s - lt[r]);
      const float* orow = ot + r * g.Dv;
      float dp = 0.f;
      for (int64_t d = 0; d < g.Dv; ++d) {
        dvr[d] += p * orow[d];
        dp += orow[d] * vr[d];
      }
      const float ds = p * (dp - dt[r]) * g.scale;
      const float* qrow = qt + r * g.D;
      for (int64_t d = 0; d < g.D; ++d) dkr[d] += ds * qrow[d];
    }
  }
  if (!live) return;
  for (int64_t d = 0; d < g.D; ++d) dk[(bh * g.Tk + j) * g.D + d] = dkr[d];
  for (int64_t d = 0; d < g.Dv; ++d) dv[(bh * g.Tk + j) * g.Dv + d] = dvr[d];
}

// dQ for 64 query rows of one (b, h), walking every key tile.
__global__ void attnBackwardQKernel(Geom g, float* dq, const float* dout, const float* lse, const float* dr,
                                    const float* q, const float* k, const float* v, const float* bias) {
  extern __shared__ float sh[];
  float* kt = sh;
  float* vt = sh + kTile * g.D;
  const int64_t bh = blockIdx.y, b = bh / g.H, h = bh % g.H;
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x;
  const float* qb = q + b * g.q.sb + h * g.q.sh;
  const float* kb = k + b * g.k.sb + h * g.k.sh;
  const float* vb = v + b * g.v.sb + h * g.v.sh;
  const float* bb = bias == nullptr ? nullptr : bias + b * g.bb + h * g.bh;
  const bool live = i < g.Tq;
  float qr[kMaxD], orow[kMaxD], dqr[kMaxD];
  for (int64_t d = 0; d < g.D; ++d) {
    qr[d] = live ? qb[i * g.q.st + d] : 0.f;
    dqr[d] = 0.f;
  }
  for (int64_t d = 0; d < g.Dv; ++d) orow[d] = live ? dout[(bh * g.Tq + i) * g.Dv + d] : 0.f;
  const float l = live ? lse[bh * g.Tq + i] : -INFINITY;
  const float dri = live ? dr[bh * g.Tq + i] : 0.f;
  int64_t lastRow = static_cast<int64_t>(blockIdx.x) * kRows + kRows - 1;
  const int64_t jEnd = g.causal ? min(g.Tk, lastRow + 1) : g.Tk;
  for (int64_t j0 = 0; j0 < jEnd; j0 += kTile) {
    const int64_t bc = min(static_cast<int64_t>(kTile), jEnd - j0);
    __syncthreads();
    for (int64_t e = threadIdx.x; e < bc * g.D; e += blockDim.x) kt[e] = kb[(j0 + e / g.D) * g.k.st + e % g.D];
    for (int64_t e = threadIdx.x; e < bc * g.Dv; e += blockDim.x) vt[e] = vb[(j0 + e / g.Dv) * g.v.st + e % g.Dv];
    __syncthreads();
    if (!live || l == -INFINITY) continue;
    for (int c = 0; c < bc; ++c) {
      const float s = score(g, qr, kt + c * g.D, bb, i, j0 + c);
      if (s == -INFINITY) continue;
      const float p = expf(s - l);
      const float* vrow = vt + c * g.Dv;
      float dp = 0.f;
      for (int64_t d = 0; d < g.Dv; ++d) dp += orow[d] * vrow[d];
      const float ds = p * (dp - dri) * g.scale;
      const float* krow = kt + c * g.D;
      for (int64_t d = 0; d < g.D; ++d) dqr[d] += ds * krow[d];
    }
  }
  if (!live) return;
  for (int64_t d = 0; d < g.D; ++d) dq[(bh * g.Tq + i) * g.D + d] = dqr[d];
}

template <class A>
Geom geomOf(const A& a) {
  if (a.D > kMaxD || a.Dv > kMaxD) throw Error("cuda: attention supports head widths up to 128 (D and Dv)");
  if (a.B * a.H > 65535) throw Error("cuda: attention supports at most 65535 batch x heads");
  Geom g{};
  g.B = a.B;
  g.H = a.H;
  g.Tq = a.Tq;
  g.Tk = a.Tk;
  g.D = a.D;
  g.Dv = a.Dv;
  g.q = {a.qStrides.v[0], a.qStrides.v[1], a.qStrides.v[2]};
  g.k = {a.kStrides.v[0], a.kStrides.v[1], a.kStrides.v[2]};
  g.v = {a.vStrides.v[0], a.vStrides.v[1], a.vStrides.v[2]};
  if (a.bias != nullptr) {
    g.bb = a.biasStrides.v[0];
    g.bh = a.biasStrides.v[1];
    g.bq = a.biasStrides.v[2];
    g.bk = a.biasStrides.v[3];
  }
  g.scale = a.scale;
  g.causal = a.causal;
  return g;
}

unsigned blocksFor(int64_t rows) { return static_cast<unsigned>((rows + kRows - 1) / kRows); }

}  // namespace

void attentionForward(DeviceContext& dev, const args::attentionForward& a) {
  if (a.B * a.H * a.Tq <= 0) return;
  const Geom g = geomOf(a);
  const size_t smem = sizeof(float) * kTile * (g.D + g.Dv);
  attnForwardKernel<<<dim3(blocksFor(g.Tq), static_cast<unsigned>(g.B * g.H)), kRows, smem, dev.stream()>>>(
      g, a.out, a.lse, a.q, a.k, a.v, a.bias);
  checkLaunch("attentionForward");
}

void attentionBackward(DeviceContext& dev, const args::attentionBackward& a) {
  if (a.B * a.H <= 0) return;
  const Geom g = geomOf(a);
  const int64_t nq = a.B * a.H * a.Tq;
  if (a.Tq == 0 || a.Tk == 0) {
    // nothing attends: the gradients are zero
    if (a.B * a.H * a.Tq * a.D > 0) check(cudaMemsetAsync(a.dq, 0, sizeof(float) * a.B * a.H * a.Tq * a.D, dev.stream()), "cudaMemsetAsync");
    if (a.B * a.H * a.Tk * a.D > 0) check(cudaMemsetAsync(a.dk, 0, sizeof(float) * a.B * a.H * a.Tk * a.D, dev.stream()), "cudaMemsetAsync");
    if (a.B * a.H * a.Tk * a.Dv > 0) check(cudaMemsetAsync(a.dv, 0, sizeof(float) * a.B * a.H * a.Tk * a.Dv, dev.stream()), "cudaMemsetAsync");
    return;
  }
  const size_t drBytes = sizeof(float) * nq;
  float* dr = static_cast<float*>(dev.alloc(drBytes));
  attnRowDotKernel<<<gridFor(nq), kThreads, 0, dev.stream()>>>(dr, a.dout, a.out, nq, a.Dv);
  checkLaunch("attentionBackward (row dots)");
  const size_t smemKV = sizeof(float) * (kTile * (g.D + g.Dv) + 2 * kTile);
  attnBackwardKVKernel<<<dim3(blocksFor(g.Tk), static_cast<unsigned>(g.B * g.H)), kRows, smemKV, dev.stream()>>>(
      g, a.dk, a.dv, a.dout, a.lse, dr, a.q, a.k, a.v, a.bias);
  checkLaunch("attentionBackward (dK, dV)");
  const size_t smemQ = sizeof(float) * kTile * (g.D + g.Dv);
  attnBackwardQKernel<<<dim3(blocksFor(g.Tq), static_cast<unsigned>(g.B * g.H)), kRows, smemQ, dev.stream()>>>(
      g, a.dq, a.dout, a.lse, dr, a.q, a.k, a.v, a.bias);
  checkLaunch("attentionBackward (dQ)");
  dev.release(dr, drBytes);  // the stream orders its readers before any reuse
}

}  // namespace kiln::cuda
