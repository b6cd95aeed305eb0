// fill, cast and stridedCopy. Layout moves copy elements as uint16 (bfloat16), uint32 (float32,
// int32) or uint64 (float64) words.
#include <cmath>
#include <cstring>

#include "kernels_isa.h"
#include "strided_iter.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

template <class T>
void fillAs(T* __restrict dst, int64_t n, T v) {
  parallel_for(n, kElemGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = v;
  });
}

// Kiln's one cast rule, shared with the CUDA backend (whose cvt.rzi.s32.f32 does exactly this):
// truncation toward zero, out-of-range values saturate to INT32_MIN / INT32_MAX, NaN gives 0.
// (The plain C cast would be undefined behaviour outside the int32 range.)
inline int32_t floatToInt(float x) {
  if (x != x) return 0;
  if (x <= -2147483648.0f) return INT32_MIN;
  if (x >= 2147483648.0f) return INT32_MAX;
  return static_cast<int32_t>(x);
}
inline int32_t doubleToInt(double x) {
  if (x != x) return 0;
  if (x <= -2147483648.0) return INT32_MIN;
  if (x >= 2147483647.0) return INT32_MAX;
  return static_cast<int32_t>(x);
}

inline float bf16ToFloat(uint16_t h) {
  uint32_t u = bf16ToFloatBits(h);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint16_t floatToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return floatBitsToBf16(u);
}
// float64 -> bfloat16 through float32 would round twice; round the double to 8 bits directly:
// float64 -> float32 by truncation toward zero keeps enough bits, plus a sticky bit for whatever
// it dropped, so the float32 -> bfloat16 rounding then sees ties and halfway points exactly.
inline uint16_t doubleToBf16(double d) {
  if (d != d) return floatToBf16(static_cast<float>(d));
  float f = static_cast<float>(d);  // nearest; fixed up below when it rounded away from d
  if (std::isinf(f) || static_cast<double>(f) == d) return floatToBf16(f);
  if ((static_cast<double>(f) > d) == (d > 0)) f = std::nextafter(f, 0.0f);  // toward zero
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u |= 1u;  // sticky: d lies strictly beyond f
  return floatBitsToBf16(u);
}

template <class D, class S, class F>
void convert(void* dst, const void* src, int64_t n, const F& f) {
  D* __restrict o = static_cast<D*>(dst);
  const S* __restrict s = static_cast<const S*>(src);
  parallel_for(n, kElemGrain, [=](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = f(s[i]);
  });
}

// Batched transpose: the source's last dim is strided and its second-to-last is contiguous, so
// a row-by-row gather would touch a new cache line per element. Copy 32x32 tiles instead.
// Shapes (after dim merging): out [batch, R, L] row-major; src(b, r, l) = s[b*bs + r + l*ls].
template <class W>
void transposeTiles(W* __restrict o, const W* __restrict s, int64_t batch,
                    int64_t batchStride, int64_t R, int64_t L, int64_t ls) {
  constexpr int64_t T = 32;
  int64_t tr = (R + T - 1) / T, tl = (L + T - 1) / T;
  parallel_for(batch * tr * tl, rowGrain(T * T), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      int64_t bi = t / (tr * tl), r0 = (t / tl) % tr * T, l0 = t % tl * T;
      int64_t r1 = minI64(R, r0 + T), l1 = minI64(L, l0 + T);
      const W* src = s + bi * batchStride;
      W* dst = o + bi * R * L;
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t l = l0; l < l1; ++l) dst[r * L + l] = src[r + l * ls];
    }
  });
}

}  // namespace

void fill(const args::fill& a) {
  const double value = a.value;
  if (a.dstType == DType::F32) {
    fillAs(static_cast<float*>(a.dst), a.n, static_cast<float>(value));
  } else if (a.dstType == DType::BF16) {
    fillAs(static_cast<uint16_t*>(a.dst), a.n, doubleToBf16(value));
  } else if (a.dstType == DType::F64) {
    fillAs(static_cast<double*>(a.dst), a.n, value);
  } else {
    // the cast rule, applied to the double (truncation toward zero, saturation, NaN gives 0)
    double v = value != value ? 0 : value < -2147483648.0 ? -2147483648.0 : value > 2147483647.0 ? 2147483647.0 : value;
    fillAs(static_cast<int32_t*>(a.dst), a.n, static_cast<int32_t>(v));
  }
}

void cast(const args::cast& a) {
  void* dst = a.dst;
  const void* src = a.src;
  const int64_t n = a.n;
  const DType to = a.dstType, from = a.srcType;
  if (to == from) {
    if (dst != src && n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * dtypeSize(to));
    return;
  }
  if (to == DType::I32 && from == DType::F32) return convert<int32_t, float>(dst, src, n, floatToInt);
  if (to == DType::I32 && from == DType::F64) return convert<int32_t, double>(dst, src, n, doubleToInt);
  if (to == DType::F32 && from == DType::I32) return convert<float, int32_t>(dst, src, n, [](int32_t v) { return static_cast<float>(v); });
  if (to == DType::F32 && from == DType::F64) return convert<float, double>(dst, src, n, [](double v) { return static_cast<float>(v); });
  if (to == DType::F64 && from == DType::F32) return convert<double, float>(dst, src, n, [](float v) { return static_cast<double>(v); });
  if (to == DType::F64 && from == DType::I32) return convert<double, int32_t>(dst, src, n, [](int32_t v) { return static_cast<double>(v); });
  // bfloat16: widening is exact; narrowing rounds to nearest, ties to even, once
  if (to == DType::BF16 && from == DType::F32) return convert<uint16_t, float>(dst, src, n, floatToBf16);
  if (to == DType::BF16 && from == DType::F64) return convert<uint16_t, double>(dst, src, n, doubleToBf16);
  if (to == DType::BF16 && from == DType::I32)
    return convert<uint16_t, int32_t>(dst, src, n, [](int32_t v) { return doubleToBf16(static_cast<double>(v)); });
  if (to == DType::F32 && from == DType::BF16) return convert<float, uint16_t>(dst, src, n, bf16ToFloat);
  if (to == DType::F64 && from == DType::BF16)
    return convert<double, uint16_t>(dst, src, n, [](uint16_t h) { return static_cast<double>(bf16ToFloat(h)); });
  if (to == DType::I32 && from == DType::BF16)
    return convert<int32_t, uint16_t>(dst, src, n, [](uint16_t h) { return floatToInt(bf16ToFloat(h)); });
}

namespace {

template <class W>
void stridedCopyAs(const args::stridedCopy& a) {
  StridedIter<1> it;
  const int64_t* strides[1] = {a.srcStrides.v};
  int64_t numel = it.init(a.shape.n, a.shape.v, strides);
  if (numel == 0) return;
  W* __restrict o = static_cast<W*>(a.dst);
  const W* __restrict s = static_cast<const W*>(a.src);
  int64_t len = it.innerLen(), st = it.innerStride(0);
  // At most one batch dim in front of the transposed pair (after merging), both sides >= 8.
  bool transposed = (it.ndim == 2 || it.ndim == 3) && st != 1 && it.strides[0][it.ndim - 2] == 1 &&
                    len >= 8 && it.shape[it.ndim - 2] >= 8;
  if (transposed) {
    int64_t R = it.shape[it.ndim - 2];
    int64_t batchStride = it.ndim == 3 ? it.strides[0][0] : 0;
    transposeTiles(o, s, it.rows(numel) / R, batchStride, R, len, st);
    return;
  }
  parallel_for(it.rows(numel), rowGrain(len), [&](int64_t b, int64_t e) {
    it.forRows(b, e, [&](int64_t row, const int64_t* off) {
      W* __restrict out = o + row * len;
      const W* __restrict in = s + off[0];
      if (st == 1) {
        std::memcpy(out, in, static_cast<size_t>(len) * sizeof(W));
      } else {
        for (int64_t i = 0; i < len; ++i) out[i] = in[i * st];
      }
    });
  });
}

template <class W>
void copyStridedAs(const args::copyStrided& a) {
  StridedIter<2> it;
  const int64_t* strides[2] = {a.dstStrides.v, a.srcStrides.v};
  int64_t numel = it.init(a.shape.n, a.shape.v, strides);
  if (numel == 0) return;
  W* o = static_cast<W*>(a.dst);
  const W* s = static_cast<const W*>(a.src);
  int64_t len = it.innerLen(), so = it.innerStride(0), ss = it.innerStride(1);
  parallel_for(it.rows(numel), rowGrain(len), [&](int64_t b, int64_t e) {
    it.forRows(b, e, [&](int64_t, const int64_t* off) {
      W* __restrict out = o + off[0];
      const W* __restrict in = s + off[1];
      if (so == 1 && ss == 1) {
        std::memcpy(out, in, static_cast<size_t>(len) * sizeof(W));
      } else {
        for (int64_t i = 0; i < len; ++i) out[i * so] = in[i * ss];
      }
    });
  });
}

}  // namespace

void stridedCopy(const args::stridedCopy& a) {
  if (dtypeSize(a.dstType) == 8) stridedCopyAs<uint64_t>(a);
  else if (dtypeSize(a.dstType) == 2) stridedCopyAs<uint16_t>(a);
  else stridedCopyAs<uint32_t>(a);
}

// dst viewed with dstStrides = src viewed with srcStrides: rows of the innermost dim, each with
// its own start on both sides (StridedIter walks dst's offsets as a second operand).
void copyStrided(const args::copyStrided& a) {
  if (dtypeSize(a.dstType) == 8) copyStridedAs<uint64_t>(a);
  else if (dtypeSize(a.dstType) == 2) copyStridedAs<uint16_t>(a);
  else copyStridedAs<uint32_t>(a);
}

}  // namespace kiln::cpu::KILN_ISA_NS
