// Dense linear algebra on batches of row-major matrices (ops.def, "linear algebra"): Cholesky,
// triangular solves, LU with partial pivoting and its solves. LAPACK's algorithms, written for
// row-major storage so the inner loops run along rows; large matrices are blocked and their
// updates go through gemm (float32 or float64, as the data). Batches run one matrix per thread;
// a single large matrix gets its threads from gemm. Eigen and QR decompositions: linalg_eig.cc.
// Compiled once per ISA (see kernels.h): no STL, no exceptions.
#include <cmath>
#include <cstring>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr int64_t kBlock = 64;      // panel width of the blocked algorithms
constexpr int64_t kBlockMin = 128;  // matrices up to this size run unblocked

template <class T>
constexpr DType dtypeOfT() {
  return sizeof(T) == 8 ? DType::F64 : DType::F32;
}

// C = alpha op(A) op(B) + beta C through this ISA's gemm kernel (nested in a batch loop it runs
// on the calling thread).
template <class T>
void gemmT(bool tA, bool tB, int64_t M, int64_t N, int64_t K, float alpha, const T* A, int64_t lda, const T* B,
           int64_t ldb, float beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  args::gemm g{};
  g.transA = tA;
  g.transB = tB;
  g.M = M;
  g.N = N;
  g.K = K;
  g.alpha = alpha;
  g.A = A;
  g.AType = dtypeOfT<T>();
  g.lda = lda;
  g.B = B;
  g.BType = dtypeOfT<T>();
  g.ldb = ldb;
  g.beta = beta;
  g.C = C;
  g.CType = dtypeOfT<T>();
  g.ldc = ldc;
  g.batch = 1;
  gemm(g);
}

// Items per thread chunk for a batch of matrices that cost about `work` flops each.
inline int64_t batchGrain(int64_t work) { return maxI64(1, kElemGrain * 8 / maxI64(1, work)); }

template <class T>
bool allFinite(const T* a, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    if (!__builtin_isfinite(a[i])) return false;
  return true;
}

template <class T>
inline double dotD(const T* __restrict x, const T* __restrict y, int64_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += static_cast<double>(x[i]) * y[i];
    s1 += static_cast<double>(x[i + 1]) * y[i + 1];
    s2 += static_cast<double>(x[i + 2]) * y[i + 2];
    s3 += static_cast<double>(x[i + 3]) * y[i + 3];
  }
  for (; i < n; ++i) s0 += static_cast<double>(x[i]) * y[i];
  return (s0 + s1) + (s2 + s3);
}

// ---------------------------------------------------------------- Cholesky
// Columns [j0, j0 + jb) of the lower factor in L (n x n), given that columns before j0 have
// already been subtracted from them (left-looking): row-oriented, each entry one dot product
// over [j0, j). Returns 0, or the order of the first leading minor that is not positive.
template <class T>
int32_t cholPanel(T* L, int64_t n, int64_t j0, int64_t jb) {
  for (int64_t j = j0; j < j0 + jb; ++j) {
    T* lj = L + j * n;
    double d = static_cast<double>(lj[j]) - dotD(lj + j0, lj + j0, j - j0);
    if (!(d > 0)) {
      lj[j] = static_cast<T>(d);
      return static_cast<int32_t>(j + 1);
    }
    const double r = __builtin_sqrt(d);
    lj[j] = static_cast<T>(r);
    for (int64_t i = j + 1; i < n; ++i) {
      T* li = L + i * n;
      li[j] = static_cast<T>((static_cast<double>(li[j]) - dotD(li + j0, lj + j0, j - j0)) / r);
    }
  }
  return 0;
}

// In place: the lower triangle of L (n x n) becomes its Cholesky factor.
template <class T>
int32_t cholLower(T* L, int64_t n) {
  if (n <= kBlockMin) return cholPanel(L, n, 0, n);
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t jb = minI64(kBlock, n - j0);
    // L[j0:, j0:j0+jb] -= L[j0:, :j0] L[j0:j0+jb, :j0]^T (also writes the block's upper part,
    // which is zeroed at the end)
    if (j0 > 0) gemmT<T>(false, true, n - j0, jb, j0, -1.0f, L + j0 * n, n, L + j0 * n, n, 1.0f, L + j0 * n + j0, n);
    int32_t info = cholPanel(L, n, j0, jb);
    if (info != 0) return info;
  }
  return 0;
}

template <class T>
void choleskyOne(T* L, const T* A, int64_t n, bool upper, int32_t* info) {
  // L's lower triangle = the triangle of A that is read (transposed when upper), the rest 0
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) L[i * n + j] = j > i ? T(0) : upper ? A[j * n + i] : A[i * n + j];
  bool finite = true;
  for (int64_t i = 0; i < n && finite; ++i) finite = allFinite(L + i * n, i + 1);
  if (!finite) {
    *info = -1;
    return;
  }
  *info = cholLower(L, n);
  for (int64_t i = 0; i < n; ++i)  // the blocked updates also wrote above the diagonal
    for (int64_t j = i + 1; j < n; ++j) L[i * n + j] = T(0);
  if (upper) {
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) {
        L[i * n + j] = L[j * n + i];
        L[j * n + i] = T(0);
      }
  }
}

// ---------------------------------------------------------------- triangular solves
// op(A)(i, j) for A (n x n, row-major) read as stored or transposed.
template <class T>
struct OpA {
  const T* a;
  int64_t n;
  bool trans;
  T operator()(int64_t i, int64_t j) const { return trans ? a[j * n + i] : a[i * n + j]; }
};

// Left: rows [r0, r1) of X (m x k) solved against the diagonal block of op(A), rows before (or
// after, backward) already final and already subtracted. forward: op(A) lower.
template <class T>
void leftBlock(const OpA<T>& op, T* X, int64_t k, int64_t r0, int64_t r1, bool forward, bool unit) {
  for (int64_t s = 0; s < r1 - r0; ++s) {
    const int64_t i = forward ? r0 + s : r1 - 1 - s;
    T* xi = X + i * k;
    const int64_t jb = forward ? r0 : i + 1, je = forward ? i : r1;
    for (int64_t j = jb; j < je; ++j) {
      const T aij = op(i, j);
      if (aij == T(0)) continue;
      const T* __restrict xj = X + j * k;
      for (int64_t c = 0; c < k; ++c) xi[c] -= aij * xj[c];
    }
    if (!unit) {
      const T inv = T(1) / op(i, i);
      for (int64_t c = 0; c < k; ++c) xi[c] *= inv;
    }
  }
}

// Right: columns [c0, c1) of X (m x k) against the diagonal block of op(A) (k x k); forward when
// op(A) is upper (x_j depends on x_i, i < j).
template <class T>
void rightBlock(const OpA<T>& op, T* X, int64_t m, int64_t k, int64_t c0, int64_t c1, bool forward, bool unit) {
  for (int64_t r = 0; r < m; ++r) {
    T* x = X + r * k;
    for (int64_t s = 0; s < c1 - c0; ++s) {
      const int64_t j = forward ? c0 + s : c1 - 1 - s;
      double v = x[j];
      const int64_t ib = forward ? c0 : j + 1, ie = forward ? j : c1;
      for (int64_t i = ib; i < ie; ++i) v -= static_cast<double>(x[i]) * op(i, j);
      x[j] = static_cast<T>(unit ? v : v / op(j, j));
    }
  }
}

// X (m x k, holding B) = op(A)^-1 X (left) or X op(A)^-1 (right), blocked: the off-diagonal
// updates are gemm calls on op(A)'s blocks.
template <class T>
void trsmOne(const T* A, int64_t n, T* X, int64_t m, int64_t k, bool upper, bool transA, bool left, bool unit) {
  const OpA<T> op{A, n, transA};
  const bool opLower = upper == transA;
  // op(A)[i0:i1, j0:j1] as a gemm operand: pointer, leading dim, transposition
  auto sub = [&](int64_t i0, int64_t j0) { return transA ? A + j0 * n + i0 : A + i0 * n + j0; };
  const int64_t nb = n <= kBlockMin ? n : kBlock;
  if (n == 0 || m == 0 || k == 0) return;
  if (left) {
    const bool forward = opLower;
    const int64_t blocks = (m + nb - 1) / nb;
    for (int64_t bi = 0; bi < blocks; ++bi) {
      const int64_t b = forward ? bi : blocks - 1 - bi;
      const int64_t r0 = b * nb, r1 = minI64(m, r0 + nb);
      if (forward && r0 > 0) {  // X[r0:r1] -= op(A)[r0:r1, :r0] X[:r0]
        gemmT<T>(transA, false, r1 - r0, k, r0, -1.0f, sub(r0, 0), n, X, k, 1.0f, X + r0 * k, k);
      } else if (!forward && r1 < m) {  // X[r0:r1] -= op(A)[r0:r1, r1:] X[r1:]
        gemmT<T>(transA, false, r1 - r0, k, m - r1, -1.0f, sub(r0, r1), n, X + r1 * k, k, 1.0f, X + r0 * k, k);
      }
      leftBlock(op, X, k, r0, r1, forward, unit);
    }
  } else {
    const bool forward = !opLower;
    const int64_t blocks = (k + nb - 1) / nb;
    for (int64_t bi = 0; bi < blocks; ++bi) {
      const int64_t b = forward ? bi : blocks - 1 - bi;
      const int64_t c0 = b * nb, c1 = minI64(k, c0 + nb);
      if (forward && c0 > 0) {  // X[:, c0:c1] -= X[:, :c0] op(A)[:c0, c0:c1]
        gemmT<T>(false, transA, m, c1 - c0, c0, -1.0f, X, k, sub(0, c0), n, 1.0f, X + c0, k);
      } else if (!forward && c1 < k) {  // X[:, c0:c1] -= X[:, c1:] op(A)[c1:, c0:c1]
        gemmT<T>(false, transA, m, c1 - c0, k - c1, -1.0f, X + c1, k, sub(c1, c0), n, 1.0f, X + c0, k);
      }
      rightBlock(op, X, m, k, c0, c1, forward, unit);
    }
  }
}

// ---------------------------------------------------------------- LU
inline void swapRows(void* base, int64_t rowBytes, int64_t i, int64_t j) {
  if (i == j) return;
  char* a = static_cast<char*>(base) + i * rowBytes;
  char* b = static_cast<char*>(base) + j * rowBytes;
  char tmp[256];
  for (int64_t off = 0; off < rowBytes; off += 256) {
    const int64_t len = minI64(256, rowBytes - off);
    std::memcpy(tmp, a + off, static_cast<size_t>(len));
    std::memcpy(a + off, b + off, static_cast<size_t>(len));
    std::memcpy(b + off, tmp, static_cast<size_t>(len));
  }
}

// In place on A (n x n): P A = L U, right-looking, panels of kBlock columns (whole rows are
// swapped as pivots are found, so L's part is permuted as LAPACK's getrf leaves it).
template <class T>
int32_t luOne(T* A, int64_t n, int32_t* piv) {
  int32_t info = 0;
  const int64_t nb = n <= kBlockMin ? n : kBlock;
  for (int64_t j0 = 0; j0 < n; j0 += nb) {
    const int64_t jb = minI64(nb, n - j0), je = j0 + jb;
    for (int64_t j = j0; j < je; ++j) {
      int64_t p = j;
      T best = __builtin_fabs(A[j * n + j]);
      for (int64_t i = j + 1; i < n; ++i) {
        const T v = __builtin_fabs(A[i * n + j]);
        if (v > best) {
          best = v;
          p = i;
        }
      }
      piv[j] = static_cast<int32_t>(p);
      swapRows(A, n * static_cast<int64_t>(sizeof(T)), j, p);
      const T d = A[j * n + j];
      if (d == T(0)) {
        if (info == 0) info = static_cast<int32_t>(j + 1);
        continue;
      }
      const T inv = T(1) / d;
      const T* __restrict uj = A + j * n;
      for (int64_t i = j + 1; i < n; ++i) {
        T* __restrict ai = A + i * n;
        const T l = ai[j] * inv;
        ai[j] = l;
        if (l == T(0)) continue;
        for (int64_t c = j + 1; c < je; ++c) ai[c] -= l * uj[c];
      }
    }
    if (je < n) {
      // U12 = L11^-1 A12 (unit lower, forward), then A22 -= L21 U12
      for (int64_t i = j0 + 1; i < je; ++i) {
        T* __restrict ai = A + i * n;
        for (int64_t j = j0; j < i; ++j) {
          const T l = ai[j];
          if (l == T(0)) continue;
          const T* __restrict uj = A + j * n;
          for (int64_t c = je; c < n; ++c) ai[c] -= l * uj[c];
        }
      }
      gemmT<T>(false, false, n - je, n - je, jb, -1.0f, A + je * n + j0, n, A + j0 * n + je, n, 1.0f, A + je * n + je, n);
    }
  }
  return info;
}

template <class T>
void luSolveOne(const T* LU, const int32_t* piv, int64_t n, T* X, int64_t k, bool trans) {
  const int64_t rowBytes = k * static_cast<int64_t>(sizeof(T));
  if (!trans) {
    for (int64_t j = 0; j < n; ++j) swapRows(X, rowBytes, j, piv[j]);
    trsmOne(LU, n, X, n, k, false, false, true, true);   // L (unit lower)
    trsmOne(LU, n, X, n, k, true, false, true, false);   // U
  } else {
    trsmOne(LU, n, X, n, k, true, true, true, false);    // U^T
    trsmOne(LU, n, X, n, k, false, true, true, true);    // L^T (unit)
    for (int64_t j = n - 1; j >= 0; --j) swapRows(X, rowBytes, j, piv[j]);
  }
}

// ---------------------------------------------------------------- typed drivers
template <class T>
void choleskyAs(const args::cholesky& a) {
  const int64_t n = a.n, nn = n * n;
  T* L = static_cast<T*>(a.L);
  const T* A = static_cast<const T*>(a.A);
  parallel_for(a.batch, batchGrain(nn * n / 3), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) choleskyOne(L + i * nn, A + i * nn, n, a.upper, a.info + i);
  });
}

template <class T>
void solveTriangularAs(const args::solveTriangular& a) {
  const int64_t n = a.left ? a.m : a.k, mk = a.m * a.k;
  T* X = static_cast<T*>(a.X);
  const T* A = static_cast<const T*>(a.A);
  const T* B = static_cast<const T*>(a.B);
  if (X != B && mk > 0) std::memcpy(X, B, static_cast<size_t>(a.batch * mk) * sizeof(T));
  parallel_for(a.batch, batchGrain(n * mk), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      trsmOne(A + i * a.strideA, n, X + i * mk, a.m, a.k, a.upper, a.transA, a.left, a.unitriangular);
  });
}

template <class T>
void luFactorAs(const args::luFactor& a) {
  const int64_t n = a.n, nn = n * n;
  T* LU = static_cast<T*>(a.LU);
  const T* A = static_cast<const T*>(a.A);
  if (nn > 0) std::memcpy(LU, A, static_cast<size_t>(a.batch * nn) * sizeof(T));
  parallel_for(a.batch, batchGrain(nn * n), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (!allFinite(LU + i * nn, nn)) {
        a.info[i] = -1;
        for (int64_t j = 0; j < n; ++j) a.pivots[i * n + j] = static_cast<int32_t>(j);
        continue;
      }
      a.info[i] = luOne(LU + i * nn, n, a.pivots + i * n);
    }
  });
}

template <class T>
void luSolveAs(const args::luSolve& a) {
  const int64_t n = a.n, nk = n * a.k;
  T* X = static_cast<T*>(a.X);
  const T* LU = static_cast<const T*>(a.LU);
  const T* B = static_cast<const T*>(a.B);
  if (X != B && nk > 0) std::memcpy(X, B, static_cast<size_t>(a.batch * nk) * sizeof(T));
  parallel_for(a.batch, batchGrain(n * nk), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) luSolveOne(LU + i * n * n, a.pivots + i * n, n, X + i * nk, a.k, a.trans);
  });
}

}  // namespace

void cholesky(const args::cholesky& a) {
  if (a.AType == DType::F64) choleskyAs<double>(a);
  else choleskyAs<float>(a);
}

void solveTriangular(const args::solveTriangular& a) {
  if (a.m == 0 || a.k == 0) return;  // nothing to solve: batch may be any size (every extent is 0)
  if (a.XType == DType::F64) solveTriangularAs<double>(a);
  else solveTriangularAs<float>(a);
}

void luFactor(const args::luFactor& a) {
  if (a.AType == DType::F64) luFactorAs<double>(a);
  else luFactorAs<float>(a);
}

void luSolve(const args::luSolve& a) {
  if (a.n == 0 || a.k == 0) return;  // nothing to solve: batch may be any size (every extent is 0)
  if (a.XType == DType::F64) luSolveAs<double>(a);
  else luSolveAs<float>(a);
}

}  // namespace kiln::cpu::KILN_ISA_NS
