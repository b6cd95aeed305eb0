// Symmetric eigendecomposition (eigh) and QR, in float64 on a work buffer whatever the dtype.
//
// eigh: Householder reduction to tridiagonal form, then the implicit QL algorithm with shifts,
// accumulating the transformations (EISPACK tred2 / tql2, as in JAMA). The matrix of
// eigenvectors is kept transposed (W = V^T, eigenvector j in row j) so every inner loop of both
// phases runs along a row. qr: Householder reflections (LAPACK geqr2 + org2r) on the transposed
// matrix, so each column of A is a contiguous row. Both are unblocked; batches run one matrix
// per thread. Compiled once per ISA (see kernels.h): no STL, no exceptions.
#include <cmath>

#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

constexpr double kEps = 2.220446049250313e-16;  // 2^-52

inline double hypotD(double a, double b) { return ::hypot(a, b); }
inline double absD(double x) { return __builtin_fabs(x); }

// V(i, j) of the eigenvector matrix, stored transposed in W (n x n).
#define V_(i, j) W[(j) * n + (i)]

// Householder tridiagonalization of the symmetric matrix in W (both triangles filled): d the
// diagonal, e the subdiagonal (e[0] = 0), W the accumulated orthogonal transformation (as V^T).
void tred2(double* W, double* d, double* e, int64_t n) {
  for (int64_t j = 0; j < n; ++j) d[j] = V_(n - 1, j);
  for (int64_t i = n - 1; i > 0; --i) {
    double scale = 0.0, h = 0.0;
    for (int64_t k = 0; k < i; ++k) scale += absD(d[k]);
    if (scale == 0.0) {
      e[i] = d[i - 1];
      for (int64_t j = 0; j < i; ++j) {
        d[j] = V_(i - 1, j);
        V_(i, j) = 0.0;
        V_(j, i) = 0.0;
      }
    } else {
      for (int64_t k = 0; k < i; ++k) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      double f = d[i - 1];
      double g = __builtin_sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h = h - f * g;
      d[i - 1] = f - g;
      for (int64_t j = 0; j < i; ++j) e[j] = 0.0;
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        V_(j, i) = f;
        g = e[j] + V_(j, j) * f;
        const double* __restrict col = W + j * n;  // V(k, j) for k > j
        for (int64_t k = j + 1; k <= i - 1; ++k) {
          g += col[k] * d[k];
          e[k] += col[k] * f;
        }
        e[j] = g;
      }
      f = 0.0;
      for (int64_t j = 0; j < i; ++j) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const double hh = f / (h + h);
      for (int64_t j = 0; j < i; ++j) e[j] -= hh * d[j];
      for (int64_t j = 0; j < i; ++j) {
        f = d[j];
        g = e[j];
        double* __restrict col = W + j * n;
        for (int64_t k = j; k <= i - 1; ++k) col[k] -= (f * e[k] + g * d[k]);
        d[j] = V_(i - 1, j);
        V_(i, j) = 0.0;
      }
    }
    d[i] = h;
  }
  // accumulate the transformations
  for (int64_t i = 0; i < n - 1; ++i) {
    V_(n - 1, i) = V_(i, i);
    V_(i, i) = 1.0;
    const double h = d[i + 1];
    double* __restrict vi1 = W + (i + 1) * n;  // V(k, i + 1) over k
    if (h != 0.0) {
      for (int64_t k = 0; k <= i; ++k) d[k] = vi1[k] / h;
      for (int64_t j = 0; j <= i; ++j) {
        double* __restrict vj = W + j * n;
        double g = 0.0;
        for (int64_t k = 0; k <= i; ++k) g += vi1[k] * vj[k];
        for (int64_t k = 0; k <= i; ++k) vj[k] -= g * d[k];
      }
    }
    for (int64_t k = 0; k <= i; ++k) vi1[k] = 0.0;
  }
  for (int64_t j = 0; j < n; ++j) {
    d[j] = V_(n - 1, j);
    V_(n - 1, j) = 0.0;
  }
  V_(n - 1, n - 1) = 1.0;
  e[0] = 0.0;
}

// Implicit QL on the tridiagonal (d, e) from tred2, rotating W's rows; eigenvalues ascending,
// W's rows in the same order. Returns 0, or k > 0 when eigenvalue k-1 did not converge.
int32_t tql2(double* W, double* d, double* e, int64_t n) {
  for (int64_t i = 1; i < n; ++i) e[i - 1] = e[i];
  e[n - 1] = 0.0;
  double f = 0.0, tst1 = 0.0;
  int64_t budget = 30 * n;  // LAPACK's steqr allows 30 n QL sweeps in all
  for (int64_t l = 0; l < n; ++l) {
    tst1 = tst1 > absD(d[l]) + absD(e[l]) ? tst1 : absD(d[l]) + absD(e[l]);
    int64_t m = l;
    while (m < n - 1 && !(absD(e[m]) <= kEps * tst1)) ++m;
    if (m > l) {
      do {
        if (--budget < 0) return static_cast<int32_t>(l + 1);
        double g = d[l];
        double p = (d[l + 1] - g) / (2.0 * e[l]);
        double r = hypotD(p, 1.0);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const double dl1 = d[l + 1];
        double h = g - d[l];
        for (int64_t i = l + 2; i < n; ++i) d[i] -= h;
        f += h;
        p = d[m];
        double c = 1.0, c2 = c, c3 = c;
        const double el1 = e[l + 1];
        double s = 0.0, s2 = 0.0;
        for (int64_t i = m - 1; i >= l; --i) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypotD(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          double* __restrict vi = W + i * n;
          double* __restrict vi1 = W + (i + 1) * n;
          for (int64_t k = 0; k < n; ++k) {
            const double t = vi1[k];
            vi1[k] = s * vi[k] + c * t;
            vi[k] = c * vi[k] - s * t;
          }
        }
        p = -s * s2 * c3 * el1 * e[l] / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (absD(e[l]) > kEps * tst1);
    }
    d[l] = d[l] + f;
    e[l] = 0.0;
  }
  // selection sort (n swaps at most), eigenvectors follow their values
  for (int64_t i = 0; i < n - 1; ++i) {
    int64_t k = i;
    double p = d[i];
    for (int64_t j = i + 1; j < n; ++j)
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    if (k != i) {
      d[k] = d[i];
      d[i] = p;
      double* __restrict a = W + i * n;
      double* __restrict b = W + k * n;
      for (int64_t j = 0; j < n; ++j) {
        const double t = a[j];
        a[j] = b[j];
        b[j] = t;
      }
    }
  }
  return 0;
}
#undef V_

template <class T>
void eighOne(T* w, T* V, int32_t* info, double* work, const T* A, int64_t n, bool upper) {
  double* W = work;
  double* d = work + n * n;
  double* e = d + n;
  bool finite = true;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      const double v = upper ? A[j * n + i] : A[i * n + j];
      finite = finite && __builtin_isfinite(v);
      W[i * n + j] = v;
      W[j * n + i] = v;
    }
  if (!finite) {
    *info = -1;
    for (int64_t i = 0; i < n; ++i) w[i] = static_cast<T>(__builtin_nan(""));
    for (int64_t i = 0; i < n * n; ++i) V[i] = static_cast<T>(__builtin_nan(""));
    return;
  }
  *info = 0;
  if (n == 0) return;
  tred2(W, d, e, n);
  *info = tql2(W, d, e, n);
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<T>(d[i]);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) V[i * n + j] = static_cast<T>(W[j * n + i]);
}

// A (m x n) = Q R. Work: At (n x m, A transposed: column c of A is row c), QT (q x m), tau (p).
template <class T>
void qrOne(T* Q, T* R, double* work, const T* A, int64_t m, int64_t n, bool complete) {
  const int64_t p = m < n ? m : n, q = complete ? m : p, r = complete ? m : p;
  double* At = work;
  double* QT = At + n * m;
  double* tau = QT + m * m;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < n; ++c) At[c * m + i] = A[i * n + c];
  for (int64_t j = 0; j < p; ++j) {
    double* x = At + j * m;  // column j of A, from row j on
    double xnorm = 0.0;
    for (int64_t i = j + 1; i < m; ++i) xnorm = hypotD(xnorm, x[i]);
    const double alpha = x[j];
    if (xnorm == 0.0) {
      tau[j] = 0.0;
      continue;
    }
    const double beta = alpha >= 0 ? -hypotD(alpha, xnorm) : hypotD(alpha, xnorm);
    tau[j] = (beta - alpha) / beta;
    const double scale = 1.0 / (alpha - beta);
    for (int64_t i = j + 1; i < m; ++i) x[i] *= scale;
    x[j] = beta;
    // apply H = I - tau v v^T (v = [1, x[j+1:]]) to the columns on the right
    for (int64_t c = j + 1; c < n; ++c) {
      double* y = At + c * m;
      double s = y[j];
      for (int64_t i = j + 1; i < m; ++i) s += x[i] * y[i];
      s *= tau[j];
      y[j] -= s;
      for (int64_t i = j + 1; i < m; ++i) y[i] -= s * x[i];
    }
  }
  for (int64_t i = 0; i < r; ++i)
    for (int64_t c = 0; c < n; ++c) R[i * n + c] = static_cast<T>(i <= c && i < p ? At[c * m + i] : 0.0);
  // Q = H_0 H_1 ... H_{p-1} I[:, :q], accumulated backwards; QT row c is column c of Q
  for (int64_t c = 0; c < q; ++c)
    for (int64_t i = 0; i < m; ++i) QT[c * m + i] = i == c ? 1.0 : 0.0;
  for (int64_t j = p - 1; j >= 0; --j) {
    if (tau[j] == 0.0) continue;
    const double* x = At + j * m;
    for (int64_t c = j; c < q; ++c) {
      double* y = QT + c * m;
      double s = y[j];
      for (int64_t i = j + 1; i < m; ++i) s += x[i] * y[i];
      s *= tau[j];
      y[j] -= s;
      for (int64_t i = j + 1; i < m; ++i) y[i] -= s * x[i];
    }
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t c = 0; c < q; ++c) Q[i * q + c] = static_cast<T>(QT[c * m + i]);
}

inline int64_t batchGrain(int64_t work) { return maxI64(1, kElemGrain * 8 / maxI64(1, work)); }

template <class T>
void eighAs(const args::eigh& a) {
  const int64_t n = a.n;
  T* w = static_cast<T*>(a.w);
  T* V = static_cast<T*>(a.V);
  const T* A = static_cast<const T*>(a.A);
  parallel_for(a.batch, batchGrain(9 * n * n * n), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      eighOne(w + i * n, V + i * n * n, a.info + i, a.work + i * (n + 2) * n, A + i * n * n, n, a.upper);
  });
}

template <class T>
void qrAs(const args::qr& a) {
  const int64_t m = a.m, n = a.n, p = m < n ? m : n;
  const int64_t q = a.complete ? m : p, r = a.complete ? m : p;
  T* Q = static_cast<T*>(a.Q);
  T* R = static_cast<T*>(a.R);
  const T* A = static_cast<const T*>(a.A);
  parallel_for(a.batch, batchGrain(4 * m * n * p), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      qrOne(Q + i * m * q, R + i * r * n, a.work + i * m * (n + m + 1), A + i * m * n, m, n, a.complete);
  });
}

}  // namespace

void eigh(const args::eigh& a) {
  if (a.AType == DType::F64) eighAs<double>(a);
  else eighAs<float>(a);
}

void qr(const args::qr& a) {
  if (a.m == 0) return;  // no rows, empty Q and R: batch may be any size (every extent is 0)
  if (a.AType == DType::F64) qrAs<double>(a);
  else qrAs<float>(a);
}

}  // namespace kiln::cpu::KILN_ISA_NS
