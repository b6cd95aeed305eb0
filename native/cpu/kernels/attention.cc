// Fused scaled dot-product attention, forward and backward, flash-attention style: queries in
// blocks of kBr rows, keys in blocks of kBc, scores of one block pair at a time (a kBr x kBc tile
// on the stack), an online softmax in the forward (running max and sum per row, the output
// rescaled as the max grows) and the row log-sum-exp kept for the backward, which recomputes each
// tile's probabilities. Memory: O(T * D) besides the tiles; the causal case skips the tiles above
// the diagonal (half the work). The tile products go through gemmBlock (gemm.cc's packed kernels).
//
// Shapes: B batch, H heads, Tq queries, Tk keys, D query/key width, Dv value width.
//   forward : S = scale * Q K^T + bias (masked: -inf), P = softmax_rows(S), out = P V, lse = logsumexp_rows(S)
//   backward: Dr = rowsum(dout * out); P = exp(S - lse); dV = P^T dout; dP = dout V^T;
//             dS = P * (dP - Dr); dQ = scale * dS K; dK = scale * dS^T Q
#include <cmath>
#include <cstdlib>

#include "kernels_isa.h"
#include "vec_math.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr int64_t kBr = 64;  // query rows per block
constexpr int64_t kBc = 64;  // keys per tile

// The strided pointers of one (batch, head).
struct Head {
  const float *q, *k, *v, *bias;
  int64_t qs, ks, vs, bq, bk;  // row strides of q, k, v; bias strides over queries and keys
};

Head headAt(const float* q, const float* k, const float* v, const float* bias, const Dims& qS, const Dims& kS,
            const Dims& vS, const Dims& bS, int64_t b, int64_t h) {
  Head r;
  r.q = q + b * qS.v[0] + h * qS.v[1];
  r.k = k + b * kS.v[0] + h * kS.v[1];
  r.v = v + b * vS.v[0] + h * vS.v[1];
  r.bias = bias == nullptr ? nullptr : bias + b * bS.v[0] + h * bS.v[1];
  r.qs = qS.v[2];
  r.ks = kS.v[2];
  r.vs = vS.v[2];
  r.bq = bS.n == 4 ? bS.v[2] : 0;
  r.bk = bS.n == 4 ? bS.v[3] : 0;
  return r;
}

// s[r, c] = scale * q[i0 + r] . k[j0 + c] (+ bias), -inf where masked; rows br, columns bc.
void scores(const Head& hd, int64_t i0, int64_t br, int64_t j0, int64_t bc, int64_t D, float scale, bool causal,
            float* s) {
  gemmBlock(false, true, br, bc, D, scale, hd.q + i0 * hd.qs, hd.qs, hd.k + j0 * hd.ks, hd.ks, 0.f, s, kBc);
  if (hd.bias != nullptr) {
    for (int64_t r = 0; r < br; ++r) {
      const float* brow = hd.bias + (i0 + r) * hd.bq + j0 * hd.bk;
      float* srow = s + r * kBc;
      if (hd.bk == 1) {
        for (int64_t c = 0; c < bc; ++c) srow[c] += brow[c];
      } else {
        for (int64_t c = 0; c < bc; ++c) srow[c] += brow[c * hd.bk];
      }
    }
  }
  if (causal && j0 + bc - 1 > i0) {
    for (int64_t r = 0; r < br; ++r)
      for (int64_t c = i0 + r - j0 + 1; c < bc; ++c)
        if (c >= 0) s[r * kBc + c] = -INFINITY;
  }
}

// p[c] = exp(s[c] - m) for c < n (0 where s is -inf and m finite); returns the sum.
inline double expRow(float* p, const float* s, float m, int64_t n) {
  double sum = 0;
  int64_t c = 0;
#if defined(KILN_VEC)
  const vfloat mv = vset(m);
  vfloat acc = vzero();
  for (; c + kVecW <= n; c += kVecW) {
    const vfloat e = vexp(vload(s + c) - mv);
    vstore(p + c, e);
    acc = acc + e;
  }
  sum = vsum(acc);
#endif
  for (; c < n; ++c) {
    float e = expf(s[c] - m);
    p[c] = e;
    sum += e;
  }
  return sum;
}

// Forward of query rows [i0, i0 + br) of one head: out rows (contiguous, width Dv) and lse.
void forwardBlock(const Head& hd, int64_t i0, int64_t br, int64_t Tk, int64_t D, int64_t Dv, float scale, bool causal,
                  float* out, float* lse) {
  float s[kBr * kBc];
  float m[kBr], l[kBr];
  for (int64_t r = 0; r < br; ++r) {
    m[r] = -INFINITY;
    l[r] = 0;
  }
  for (int64_t j = 0; j < br * Dv; ++j) out[j] = 0;
  const int64_t jEnd = causal ? minI64(Tk, i0 + br) : Tk;
  for (int64_t j0 = 0; j0 < jEnd; j0 += kBc) {
    const int64_t bc = minI64(kBc, jEnd - j0);
    scores(hd, i0, br, j0, bc, D, scale, causal, s);
    for (int64_t r = 0; r < br; ++r) {
      float* srow = s + r * kBc;
      float mx = m[r];
      for (int64_t c = 0; c < bc; ++c) mx = srow[c] > mx ? srow[c] : mx;
      if (mx == -INFINITY) {  // every key so far masked: nothing to add
        for (int64_t c = 0; c < bc; ++c) srow[c] = 0;
        continue;
      }
      const float alpha = m[r] == -INFINITY ? 0.f : expf(m[r] - mx);
      const double sum = expRow(srow, srow, mx, bc);
      l[r] = static_cast<float>(l[r] * alpha + sum);
      m[r] = mx;
      if (alpha != 1.f) {
        float* orow = out + r * Dv;
        for (int64_t d = 0; d < Dv; ++d) orow[d] *= alpha;
      }
    }
    // out += P V_j
    gemmBlock(false, false, br, Dv, bc, 1.f, s, kBc, hd.v + j0 * hd.vs, hd.vs, 1.f, out, Dv);
  }
  for (int64_t r = 0; r < br; ++r) {
    float* orow = out + r * Dv;
    if (m[r] == -INFINITY) {
      // every key masked: NaN as softmax gives; no keys at all: zeros (an empty sum)
      for (int64_t d = 0; d < Dv; ++d) orow[d] = Tk == 0 ? 0.f : NAN;
      lse[r] = -INFINITY;
      continue;
    }
    const float inv = 1.f / l[r];
    for (int64_t d = 0; d < Dv; ++d) orow[d] *= inv;
    lse[r] = m[r] + logf(l[r]);
  }
}

}  // namespace

void attentionForward(const args::attentionForward& a) {
  const int64_t B = a.B, H = a.H, Tq = a.Tq, Tk = a.Tk, D = a.D, Dv = a.Dv;
  if (B * H * Tq == 0) return;
  const int64_t nq = (Tq + kBr - 1) / kBr;
  parallel_for(B * H * nq, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bh = t / nq, i0 = (t - bh * nq) * kBr;
      const Head hd = headAt(a.q, a.k, a.v, a.bias, a.qStrides, a.kStrides, a.vStrides, a.biasStrides, bh / H, bh % H);
      const int64_t br = minI64(kBr, Tq - i0);
      forwardBlock(hd, i0, br, Tk, D, Dv, a.scale, a.causal, a.out + (bh * Tq + i0) * Dv, a.lse + bh * Tq + i0);
    }
  });
}

void attentionBackward(const args::attentionBackward& a) {
  const int64_t B = a.B, H = a.H, Tq = a.Tq, Tk = a.Tk, D = a.D, Dv = a.Dv;
  const float scale = a.scale;
  const bool causal = a.causal;
  if (B * H == 0) return;
  parallel_for(B * H, 1, [&](int64_t t0, int64_t t1) {
    float* dr = static_cast<float*>(std::malloc(static_cast<size_t>(Tq > 0 ? Tq : 1) * sizeof(float)));
    if (dr == nullptr) return;  // out of memory: the gradients stay zero (never reached in practice)
    float p[kBr * kBc], dp[kBr * kBc];
    for (int64_t bh = t0; bh < t1; ++bh) {
      const Head hd = headAt(a.q, a.k, a.v, a.bias, a.qStrides, a.kStrides, a.vStrides, a.biasStrides, bh / H, bh % H);
      const float* dout = a.dout + bh * Tq * Dv;
      const float* out = a.out + bh * Tq * Dv;
      const float* lse = a.lse + bh * Tq;
      float* dq = a.dq + bh * Tq * D;
      float* dk = a.dk + bh * Tk * D;
      float* dv = a.dv + bh * Tk * Dv;
      // accumulated below: start from zero
      for (int64_t j = 0; j < Tq * D; ++j) dq[j] = 0;
      for (int64_t j = 0; j < Tk * D; ++j) dk[j] = 0;
      for (int64_t j = 0; j < Tk * Dv; ++j) dv[j] = 0;
      for (int64_t i = 0; i < Tq; ++i) {
        double s = 0;
        for (int64_t d = 0; d < Dv; ++d) s += static_cast<double>(dout[i * Dv + d]) * out[i * Dv + d];
        dr[i] = static_cast<float>(s);
      }
      for (int64_t j0 = 0; j0 < Tk; j0 += kBc) {
        const int64_t bc = minI64(kBc, Tk - j0);
        // causal: query blocks that reach key j0 (i >= j0)
        for (int64_t i0 = causal ? j0 / kBr * kBr : 0; i0 < Tq; i0 += kBr) {
          const int64_t br = minI64(kBr, Tq - i0);
          scores(hd, i0, br, j0, bc, D, scale, causal, p);
          for (int64_t r = 0; r < br; ++r) {
            float* prow = p + r * kBc;
            const float l = lse[i0 + r];
            if (l == -INFINITY) {
              for (int64_t c = 0; c < bc; ++c) prow[c] = 0;
            } else {
              expRow(prow, prow, l, bc);
            }
          }
          // dV_j += P^T dout_i
          gemmBlock(true, false, bc, Dv, br, 1.f, p, kBc, dout + i0 * Dv, Dv, 1.f, dv + j0 * Dv, Dv);
          // dP = dout_i V_j^T
          gemmBlock(false, true, br, bc, Dv, 1.f, dout + i0 * Dv, Dv, hd.v + j0 * hd.vs, hd.vs, 0.f, dp, kBc);
          // dS = P * (dP - Dr), in place of dp
          for (int64_t r = 0; r < br; ++r) {
            const float dri = dr[i0 + r];
            float* prow = p + r * kBc;
            float* drow = dp + r * kBc;
            for (int64_t c = 0; c < bc; ++c) drow[c] = prow[c] * (drow[c] - dri);
          }
          // dQ_i += scale dS K_j ; dK_j += scale dS^T Q_i
          gemmBlock(false, false, br, D, bc, scale, dp, kBc, hd.k + j0 * hd.ks, hd.ks, 1.f, dq + i0 * D, D);
          gemmBlock(true, false, bc, D, br, scale, dp, kBc, hd.q + i0 * hd.qs, hd.qs, 1.f, dk + j0 * D, D);
        }
      }
    }
    std::free(dr);
  });
}

}  // namespace kiln::cpu::KILN_ISA_NS
