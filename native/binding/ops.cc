// Exports for compute ops. Each one unpacks its arguments, checks that every buffer range lies
// inside its storage, and calls the backend of the buffers' device. No math here.
//
// Calling convention: every buffer is two JS arguments, a storage handle and an element offset.
#include <cmath>

#include "args.h"

namespace kiln::binding {
namespace {

int64_t product(const int64_t* dims, int n) {
  int64_t p = 1;
  for (int i = 0; i < n; ++i) p *= dims[i];
  return p;
}

// Elements reached by a strided (possibly broadcast) view: max offset + 1.
int64_t extent(int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t last = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) return 0;
    if (strides[d] < 0) return -1;
    last += (shape[d] - 1) * strides[d];
  }
  return last + 1;
}

// Index values must lie in [0, n) (ignore is exempt). Read directly when the indices are on the
// CPU; device backends check in their kernels.
void checkIndices(Napi::Env env, const Buf& idx, int64_t count, int64_t n, const char* name,
                  bool hasIgnore = false, int32_t ignore = 0) {
  if (idx.storage->device != kCpuDevice) return;
  const int32_t* p = idx.as<int32_t>();
  for (int64_t i = 0; i < count; ++i) {
    int32_t v = p[i];
    if (hasIgnore && v == ignore) continue;
    if (v < 0 || v >= n) {
      throwKilnError(env, std::string(name) + ": index " + std::to_string(v) + " is out of range [0, " +
                              std::to_string(n) + ")");
    }
  }
}

template <class E>
E enumArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int64_t v = intArg(info, i, name);
  if (v < 0 || v >= static_cast<int64_t>(E::Count)) throwKilnError(info.Env(), std::string(name) + ": unknown op code");
  return static_cast<E>(v);
}

// unary(op, y, yOff, x, xOff, n, alpha, beta)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  auto op = enumArg<UnaryOp>(info, 0, "op");
  int64_t n = intArg(info, 5, "numel");
  Buf y = bufArg(info, 1, "out", n), x = bufArg(info, 3, "x", n);
  requireDtype(info.Env(), y, DType::F32, "out");
  requireDtype(info.Env(), x, DType::F32, "x");
  backendOf(info.Env(), {&y, &x})
      .unary(op, y.as<float>(), x.as<float>(), n, static_cast<float>(numberArg(info, 6, "alpha")),
             static_cast<float>(numberArg(info, 7, "beta")));
  return info.Env().Undefined();
}

// unaryBackward(op, dx, dxOff, dy, dyOff, x|null, xOff, y|null, yOff, n, alpha, beta)
Napi::Value UnaryBackward(const Napi::CallbackInfo& info) {
  auto op = enumArg<UnaryOp>(info, 0, "op");
  int64_t n = intArg(info, 9, "numel");
  Buf dx = bufArg(info, 1, "dx", n), dy = bufArg(info, 3, "dy", n);
  Buf x = optBufArg(info, 5, "x", n), y = optBufArg(info, 7, "y", n);
  backendOf(info.Env(), {&dx, &dy, &x, &y})
      .unaryBackward(op, dx.as<float>(), dy.as<float>(), x.storage ? x.as<float>() : nullptr,
                     y.storage ? y.as<float>() : nullptr, n,
                     static_cast<float>(numberArg(info, 10, "alpha")),
                     static_cast<float>(numberArg(info, 11, "beta")));
  return info.Env().Undefined();
}

// binary(op, out, outOff, a, aOff, b, bOff, shape, aStrides, bStrides)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto op = enumArg<BinaryOp>(info, 0, "op");
  int64_t shape[kMaxDims], as[kMaxDims], bs[kMaxDims];
  int nd = dimsArg(info, 7, "shape", shape);
  if (dimsArg(info, 8, "aStrides", as) != nd || dimsArg(info, 9, "bStrides", bs) != nd) {
    throwKilnError(env, "strides: expected one stride per dim");
  }
  int64_t ea = extent(nd, shape, as), eb = extent(nd, shape, bs);
  if (ea < 0 || eb < 0) throwKilnError(env, "strides: negative strides are not supported");
  Buf out = bufArg(info, 1, "out", product(shape, nd));
  Buf a = bufArg(info, 3, "a", ea), b = bufArg(info, 5, "b", eb);
  DType dt = a.storage->dtype;
  requireDtype(env, b, dt, "b");
  bool compare = op >= BinaryOp::Eq;
  requireDtype(env, out, compare ? DType::F32 : dt, "out");
  if (dt == DType::I32 && (op == BinaryOp::Div || op == BinaryOp::Pow)) {
    throwKilnError(env, "a: div and pow need float32 tensors");
  }
  backendOf(env, {&out, &a, &b}).binary(op, dt, out.base, a.base, b.base, nd, shape, as, bs);
  return env.Undefined();
}

// where(out, oOff, cond, cOff, a, aOff, b, bOff, shape, cStrides, aStrides, bStrides)
Napi::Value Where(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t shape[kMaxDims], cs[kMaxDims], as[kMaxDims], bs[kMaxDims];
  int nd = dimsArg(info, 8, "shape", shape);
  if (dimsArg(info, 9, "condStrides", cs) != nd || dimsArg(info, 10, "aStrides", as) != nd ||
      dimsArg(info, 11, "bStrides", bs) != nd) {
    throwKilnError(env, "strides: expected one stride per dim");
  }
  int64_t ec = extent(nd, shape, cs), ea = extent(nd, shape, as), eb = extent(nd, shape, bs);
  if (ec < 0 || ea < 0 || eb < 0) throwKilnError(env, "strides: negative strides are not supported");
  Buf out = bufArg(info, 0, "out", product(shape, nd));
  Buf c = bufArg(info, 2, "cond", ec), a = bufArg(info, 4, "a", ea), b = bufArg(info, 6, "b", eb);
  for (const Buf* t : {&out, &c, &a, &b}) requireDtype(env, *t, DType::F32, "where operand");
  backendOf(env, {&out, &c, &a, &b})
      .where(out.as<float>(), c.as<float>(), a.as<float>(), b.as<float>(), nd, shape, cs, as, bs);
  return env.Undefined();
}

// reduce(op, out, oOff, x, xOff, outer, n, inner)
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto op = enumArg<ReduceOp>(info, 0, "op");
  int64_t outer = intArg(info, 5, "outer"), n = intArg(info, 6, "n"), inner = intArg(info, 7, "inner");
  Buf out = bufArg(info, 1, "out", outer * inner), x = bufArg(info, 3, "x", outer * n * inner);
  requireDtype(env, x, DType::F32, "x");
  bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  requireDtype(env, out, arg ? DType::I32 : DType::F32, "out");
  if (n == 0 && op != ReduceOp::Sum) throwKilnError(env, "dim: cannot reduce an empty dim with this op");
  backendOf(env, {&out, &x}).reduce(op, out.base, x.as<float>(), outer, n, inner);
  return env.Undefined();
}

// softmax(y, yOff, x, xOff, outer, n, inner, log)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  int64_t outer = intArg(info, 4, "outer"), n = intArg(info, 5, "n"), inner = intArg(info, 6, "inner");
  int64_t total = outer * n * inner;
  Buf y = bufArg(info, 0, "out", total), x = bufArg(info, 2, "x", total);
  backendOf(info.Env(), {&y, &x}).softmax(y.as<float>(), x.as<float>(), outer, n, inner, boolArg(info, 7, "log"));
  return info.Env().Undefined();
}

// softmaxBackward(dx, dxOff, dy, dyOff, y, yOff, outer, n, inner, log)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  int64_t outer = intArg(info, 6, "outer"), n = intArg(info, 7, "n"), inner = intArg(info, 8, "inner");
  int64_t total = outer * n * inner;
  Buf dx = bufArg(info, 0, "dx", total), dy = bufArg(info, 2, "dy", total), y = bufArg(info, 4, "y", total);
  backendOf(info.Env(), {&dx, &dy, &y})
      .softmaxBackward(dx.as<float>(), dy.as<float>(), y.as<float>(), outer, n, inner, boolArg(info, 9, "log"));
  return info.Env().Undefined();
}

// crossEntropyForward(loss, off, logProbs, off, logits, off, target, off, B, C, ignoreIndex, ls)
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t B = intArg(info, 8, "batch"), C = intArg(info, 9, "classes");
  int32_t ignore = static_cast<int32_t>(intArg(info, 10, "ignoreIndex"));
  Buf loss = bufArg(info, 0, "loss", B), lp = bufArg(info, 2, "logProbs", B * C);
  Buf logits = bufArg(info, 4, "input", B * C), target = bufArg(info, 6, "target", B);
  requireDtype(env, target, DType::I32, "target");
  checkIndices(env, target, B, C, "target", true, ignore);
  backendOf(env, {&loss, &lp, &logits, &target})
      .crossEntropyForward(loss.as<float>(), lp.as<float>(), logits.as<float>(), target.as<int32_t>(), B, C,
                           ignore, static_cast<float>(numberArg(info, 11, "labelSmoothing")));
  return env.Undefined();
}

// crossEntropyBackward(dlogits, off, dloss, off, logProbs, off, target, off, B, C, ignoreIndex, ls)
Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t B = intArg(info, 8, "batch"), C = intArg(info, 9, "classes");
  Buf dl = bufArg(info, 0, "dlogits", B * C), dloss = bufArg(info, 2, "dloss", B);
  Buf lp = bufArg(info, 4, "logProbs", B * C), target = bufArg(info, 6, "target", B);
  requireDtype(env, target, DType::I32, "target");
  backendOf(env, {&dl, &dloss, &lp, &target})
      .crossEntropyBackward(dl.as<float>(), dloss.as<float>(), lp.as<float>(), target.as<int32_t>(), B, C,
                            static_cast<int32_t>(intArg(info, 10, "ignoreIndex")),
                            static_cast<float>(numberArg(info, 11, "labelSmoothing")));
  return env.Undefined();
}

// Elements a row-major matrix of `rows` x `cols` with leading dimension ld spans, per batch item.
int64_t matrixExtent(int64_t rows, int64_t cols, int64_t ld, int64_t stride, int64_t batch) {
  if (rows == 0 || cols == 0 || batch == 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

// gemm(transA, transB, M, N, K, alpha, A, aOff, lda, strideA, B, bOff, ldb, strideB, beta,
//      C, cOff, ldc, strideC, batch)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ta = boolArg(info, 0, "transA"), tb = boolArg(info, 1, "transB");
  int64_t M = intArg(info, 2, "M"), N = intArg(info, 3, "N"), K = intArg(info, 4, "K");
  float alpha = static_cast<float>(numberArg(info, 5, "alpha"));
  int64_t lda = intArg(info, 8, "lda"), sa = intArg(info, 9, "strideA");
  int64_t ldb = intArg(info, 12, "ldb"), sb = intArg(info, 13, "strideB");
  float beta = static_cast<float>(numberArg(info, 14, "beta"));
  int64_t ldc = intArg(info, 17, "ldc"), sc = intArg(info, 18, "strideC");
  int64_t batch = intArg(info, 19, "batch");
  if (M < 0 || N < 0 || K < 0 || batch < 0 || sa < 0 || sb < 0 || sc < 0) throwKilnError(env, "gemm: negative size");
  int64_t aRows = ta ? K : M, aCols = ta ? M : K, bRows = tb ? N : K, bCols = tb ? K : N;
  if (lda < aCols || ldb < bCols || ldc < N) throwKilnError(env, "gemm: leading dimension smaller than a row");
  Buf A = bufArg(info, 6, "A", matrixExtent(aRows, aCols, lda, sa, batch));
  Buf B = bufArg(info, 10, "B", matrixExtent(bRows, bCols, ldb, sb, batch));
  Buf C = bufArg(info, 15, "C", matrixExtent(M, N, ldc, sc, batch));
  for (const Buf* t : {&A, &B, &C}) requireDtype(env, *t, DType::F32, "matmul operand");
  backendOf(env, {&A, &B, &C})
      .gemm(ta, tb, M, N, K, alpha, A.as<float>(), lda, sa, B.as<float>(), ldb, sb, beta, C.as<float>(), ldc, sc,
            batch);
  return env.Undefined();
}

// indexSelect(out, oOff, src, sOff, idx, iOff, outer, n, inner, nIdx)
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t outer = intArg(info, 6, "outer"), n = intArg(info, 7, "n"), inner = intArg(info, 8, "inner"),
          k = intArg(info, 9, "nIdx");
  Buf out = bufArg(info, 0, "out", outer * k * inner), src = bufArg(info, 2, "src", outer * n * inner);
  Buf idx = bufArg(info, 4, "index", k);
  requireDtype(env, idx, DType::I32, "index");
  requireDtype(env, out, src.storage->dtype, "out");
  checkIndices(env, idx, k, n, "index");
  backendOf(env, {&out, &src, &idx})
      .indexSelect(src.storage->dtype, out.base, src.base, idx.as<int32_t>(), outer, n, inner, k);
  return env.Undefined();
}

// indexAdd(dst, dOff, src, sOff, idx, iOff, outer, n, inner, nIdx)
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t outer = intArg(info, 6, "outer"), n = intArg(info, 7, "n"), inner = intArg(info, 8, "inner"),
          k = intArg(info, 9, "nIdx");
  Buf dst = bufArg(info, 0, "dst", outer * n * inner), src = bufArg(info, 2, "src", outer * k * inner);
  Buf idx = bufArg(info, 4, "index", k);
  requireDtype(env, idx, DType::I32, "index");
  checkIndices(env, idx, k, n, "index");
  backendOf(env, {&dst, &src, &idx})
      .indexAdd(dst.as<float>(), src.as<float>(), idx.as<int32_t>(), outer, n, inner, k);
  return env.Undefined();
}

// gather(out, oOff, src, sOff, idx, iOff, outer, n, inner, k)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t outer = intArg(info, 6, "outer"), n = intArg(info, 7, "n"), inner = intArg(info, 8, "inner"),
          k = intArg(info, 9, "k");
  Buf out = bufArg(info, 0, "out", outer * k * inner), src = bufArg(info, 2, "src", outer * n * inner);
  Buf idx = bufArg(info, 4, "index", outer * k * inner);
  requireDtype(env, idx, DType::I32, "index");
  requireDtype(env, out, src.storage->dtype, "out");
  checkIndices(env, idx, outer * k * inner, n, "index");
  backendOf(env, {&out, &src, &idx})
      .gather(src.storage->dtype, out.base, src.base, idx.as<int32_t>(), outer, n, inner, k);
  return env.Undefined();
}

// scatterAdd(dst, dOff, src, sOff, idx, iOff, outer, n, inner, k)
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t outer = intArg(info, 6, "outer"), n = intArg(info, 7, "n"), inner = intArg(info, 8, "inner"),
          k = intArg(info, 9, "k");
  Buf dst = bufArg(info, 0, "dst", outer * n * inner), src = bufArg(info, 2, "src", outer * k * inner);
  Buf idx = bufArg(info, 4, "index", outer * k * inner);
  requireDtype(env, idx, DType::I32, "index");
  checkIndices(env, idx, outer * k * inner, n, "index");
  backendOf(env, {&dst, &src, &idx})
      .scatterAdd(dst.as<float>(), src.as<float>(), idx.as<int32_t>(), outer, n, inner, k);
  return env.Undefined();
}

struct ConvGeom {
  int64_t N, C, H, W, OH, OW;
  int kH, kW, sH, sW, pH, pW, dH, dW;
};

// dims [N, C, H, W], window [kH, kW, sH, sW, pH, pW, dH, dW] (dilation optional), out [OH, OW]
ConvGeom convGeomArgs(const Napi::CallbackInfo& info, size_t i) {
  int64_t d[kMaxDims], w[kMaxDims], o[kMaxDims];
  if (dimsArg(info, i, "dims", d) != 4) throwKilnError(info.Env(), "dims: expected [N, C, H, W]");
  int nw = dimsArg(info, i + 1, "window", w);
  if (nw != 6 && nw != 8) throwKilnError(info.Env(), "window: expected [kH, kW, sH, sW, pH, pW, dH?, dW?]");
  if (dimsArg(info, i + 2, "outSize", o) != 2) throwKilnError(info.Env(), "outSize: expected [OH, OW]");
  ConvGeom g{d[0], d[1], d[2], d[3], o[0], o[1],
             static_cast<int>(w[0]), static_cast<int>(w[1]), static_cast<int>(w[2]), static_cast<int>(w[3]),
             static_cast<int>(w[4]), static_cast<int>(w[5]), nw == 8 ? static_cast<int>(w[6]) : 1,
             nw == 8 ? static_cast<int>(w[7]) : 1};
  if (g.kH <= 0 || g.kW <= 0 || g.sH <= 0 || g.sW <= 0 || g.pH < 0 || g.pW < 0 || g.dH <= 0 || g.dW <= 0 ||
      g.N < 0 || g.C < 0 || g.H < 0 || g.W < 0 || g.OH < 0 || g.OW < 0) {
    throwKilnError(info.Env(), "window: sizes must be positive and padding non-negative");
  }
  return g;
}

// im2col(col, cOff, x, xOff, dims, window, outSize)
Napi::Value Im2col(const Napi::CallbackInfo& info) {
  ConvGeom g = convGeomArgs(info, 4);
  Buf col = bufArg(info, 0, "col", g.N * g.C * g.kH * g.kW * g.OH * g.OW);
  Buf x = bufArg(info, 2, "x", g.N * g.C * g.H * g.W);
  backendOf(info.Env(), {&col, &x})
      .im2col(col.as<float>(), x.as<float>(), g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.dH, g.dW,
              g.OH, g.OW);
  return info.Env().Undefined();
}

// col2im(dx, dxOff, col, cOff, dims, window, outSize)
Napi::Value Col2im(const Napi::CallbackInfo& info) {
  ConvGeom g = convGeomArgs(info, 4);
  Buf dx = bufArg(info, 0, "dx", g.N * g.C * g.H * g.W);
  Buf col = bufArg(info, 2, "col", g.N * g.C * g.kH * g.kW * g.OH * g.OW);
  backendOf(info.Env(), {&dx, &col})
      .col2im(dx.as<float>(), col.as<float>(), g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.dH, g.dW,
              g.OH, g.OW);
  return info.Env().Undefined();
}

// maxPool2d(y, yOff, argmax, aOff, x, xOff, dims, window, outSize)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  ConvGeom g = convGeomArgs(info, 6);
  int64_t outN = g.N * g.C * g.OH * g.OW;
  Buf y = bufArg(info, 0, "out", outN), am = bufArg(info, 2, "argmax", outN);
  Buf x = bufArg(info, 4, "x", g.N * g.C * g.H * g.W);
  requireDtype(info.Env(), am, DType::I32, "argmax");
  backendOf(info.Env(), {&y, &am, &x})
      .maxPool2d(y.as<float>(), am.as<int32_t>(), x.as<float>(), g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW, g.pH,
                 g.pW, g.OH, g.OW);
  return info.Env().Undefined();
}

// maxPool2dBackward(dx, off, dy, off, argmax, off, dims, window, outSize)
Napi::Value MaxPool2dBackward(const Napi::CallbackInfo& info) {
  ConvGeom g = convGeomArgs(info, 6);
  int64_t outN = g.N * g.C * g.OH * g.OW;
  Buf dx = bufArg(info, 0, "dx", g.N * g.C * g.H * g.W);
  Buf dy = bufArg(info, 2, "dy", outN), am = bufArg(info, 4, "argmax", outN);
  requireDtype(info.Env(), am, DType::I32, "argmax");
  backendOf(info.Env(), {&dx, &dy, &am})
      .maxPool2dBackward(dx.as<float>(), dy.as<float>(), am.as<int32_t>(), g.N, g.C, g.H, g.W, g.OH, g.OW);
  return info.Env().Undefined();
}

// avgPool2d(y, yOff, x, xOff, dims, window, outSize, countIncludePad)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  ConvGeom g = convGeomArgs(info, 4);
  Buf y = bufArg(info, 0, "out", g.N * g.C * g.OH * g.OW), x = bufArg(info, 2, "x", g.N * g.C * g.H * g.W);
  backendOf(info.Env(), {&y, &x})
      .avgPool2d(y.as<float>(), x.as<float>(), g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW, g.OH, g.OW,
                 boolArg(info, 7, "countIncludePad"));
  return info.Env().Undefined();
}

// avgPool2dBackward(dx, off, dy, off, dims, window, outSize, countIncludePad)
Napi::Value AvgPool2dBackward(const Napi::CallbackInfo& info) {
  ConvGeom g = convGeomArgs(info, 4);
  Buf dx = bufArg(info, 0, "dx", g.N * g.C * g.H * g.W), dy = bufArg(info, 2, "dy", g.N * g.C * g.OH * g.OW);
  backendOf(info.Env(), {&dx, &dy})
      .avgPool2dBackward(dx.as<float>(), dy.as<float>(), g.N, g.C, g.H, g.W, g.kH, g.kW, g.sH, g.sW, g.pH, g.pW,
                         g.OH, g.OW, boolArg(info, 7, "countIncludePad"));
  return info.Env().Undefined();
}

uint64_t u64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int64_t v = intArg(info, i, name);
  if (v < 0) throwKilnError(info.Env(), std::string(name) + ": expected a non-negative integer");
  return static_cast<uint64_t>(v);
}

// randomUniform(out, off, n, seed, counterOffset, low, high)
Napi::Value RandomUniform(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 2, "numel");
  Buf out = bufArg(info, 0, "out", n);
  backendOf(info.Env(), {&out})
      .randomUniform(out.as<float>(), n, u64Arg(info, 3, "seed"), u64Arg(info, 4, "offset"),
                     static_cast<float>(numberArg(info, 5, "low")), static_cast<float>(numberArg(info, 6, "high")));
  return info.Env().Undefined();
}

// randomNormal(out, off, n, seed, counterOffset, mean, std)
Napi::Value RandomNormal(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 2, "numel");
  Buf out = bufArg(info, 0, "out", n);
  backendOf(info.Env(), {&out})
      .randomNormal(out.as<float>(), n, u64Arg(info, 3, "seed"), u64Arg(info, 4, "offset"),
                    static_cast<float>(numberArg(info, 5, "mean")), static_cast<float>(numberArg(info, 6, "std")));
  return info.Env().Undefined();
}

// adamStep(p, off, g, off, m, off, v, off, vMax|null, off, n,
//          lr, beta1, beta2, eps, weightDecay, step, decoupled, amsgrad, maximize)
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 10, "numel");
  Buf p = bufArg(info, 0, "param", n), g = bufArg(info, 2, "grad", n), m = bufArg(info, 4, "expAvg", n),
      v = bufArg(info, 6, "expAvgSq", n), vmax = optBufArg(info, 8, "maxExpAvgSq", n);
  AdamParams hp{};
  hp.lr = numberArg(info, 11, "lr");
  hp.beta1 = numberArg(info, 12, "beta1");
  hp.beta2 = numberArg(info, 13, "beta2");
  hp.eps = numberArg(info, 14, "eps");
  hp.weightDecay = numberArg(info, 15, "weightDecay");
  hp.step = intArg(info, 16, "step");
  hp.decoupled = boolArg(info, 17, "decoupled");
  hp.amsgrad = boolArg(info, 18, "amsgrad");
  hp.maximize = boolArg(info, 19, "maximize");
  if (hp.amsgrad && vmax.storage == nullptr) throwKilnError(info.Env(), "maxExpAvgSq: required with amsgrad");
  backendOf(info.Env(), {&p, &g, &m, &v, &vmax})
      .adamStep(p.as<float>(), g.as<float>(), m.as<float>(), v.as<float>(),
                vmax.storage ? vmax.as<float>() : nullptr, n, hp);
  return info.Env().Undefined();
}

// sgdStep(p, off, g, off, buf|null, off, n, lr, momentum, dampening, weightDecay, nesterov,
//         firstStep, maximize)
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 6, "numel");
  Buf p = bufArg(info, 0, "param", n), g = bufArg(info, 2, "grad", n), buf = optBufArg(info, 4, "momentumBuffer", n);
  SgdParams hp{};
  hp.lr = numberArg(info, 7, "lr");
  hp.momentum = numberArg(info, 8, "momentum");
  hp.dampening = numberArg(info, 9, "dampening");
  hp.weightDecay = numberArg(info, 10, "weightDecay");
  hp.nesterov = boolArg(info, 11, "nesterov");
  hp.firstStep = boolArg(info, 12, "firstStep");
  hp.maximize = boolArg(info, 13, "maximize");
  if (hp.momentum != 0 && buf.storage == nullptr) throwKilnError(info.Env(), "momentumBuffer: required with momentum");
  backendOf(info.Env(), {&p, &g, &buf})
      .sgdStep(p.as<float>(), g.as<float>(), buf.storage ? buf.as<float>() : nullptr, n, hp);
  return info.Env().Undefined();
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "unary", Unary);
  exportFn(env, exports, "unaryBackward", UnaryBackward);
  exportFn(env, exports, "binary", Binary);
  exportFn(env, exports, "where", Where);
  exportFn(env, exports, "reduce", Reduce);
  exportFn(env, exports, "softmax", Softmax);
  exportFn(env, exports, "softmaxBackward", SoftmaxBackward);
  exportFn(env, exports, "crossEntropyForward", CrossEntropyForward);
  exportFn(env, exports, "crossEntropyBackward", CrossEntropyBackward);
  exportFn(env, exports, "gemm", Gemm);
  exportFn(env, exports, "indexSelect", IndexSelect);
  exportFn(env, exports, "indexAdd", IndexAdd);
  exportFn(env, exports, "gather", Gather);
  exportFn(env, exports, "scatterAdd", ScatterAdd);
  exportFn(env, exports, "im2col", Im2col);
  exportFn(env, exports, "col2im", Col2im);
  exportFn(env, exports, "maxPool2d", MaxPool2d);
  exportFn(env, exports, "maxPool2dBackward", MaxPool2dBackward);
  exportFn(env, exports, "avgPool2d", AvgPool2d);
  exportFn(env, exports, "avgPool2dBackward", AvgPool2dBackward);
  exportFn(env, exports, "randomUniform", RandomUniform);
  exportFn(env, exports, "randomNormal", RandomNormal);
  exportFn(env, exports, "adamStep", AdamStep);
  exportFn(env, exports, "sgdStep", SgdStep);
}

}  // namespace kiln::binding
