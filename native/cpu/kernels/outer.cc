// Upper triangles of row outer products (ops.def outerTriangle): out[r, p] = x[r, i] x[r, j] for
// the pairs i <= j in row-major order. Rows in parallel; the inner j loop vectorises.
#include "kernels_isa.h"

namespace kiln::cpu::KILN_ISA_NS {
namespace {

template <class T>
void outerTyped(const args::outerTriangle& a) {
  const int64_t n = a.n, d = a.d, m = d * (d + 1) / 2;
  if (n == 0 || d == 0) return;
  const T* __restrict x = static_cast<const T*>(a.x);
  T* __restrict out = static_cast<T*>(a.out);
  parallel_for(n, rowGrain(m), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * d;
      T* o = out + r * m;
      for (int64_t i = 0; i < d; ++i) {
        const T xi = xr[i];
        for (int64_t j = i; j < d; ++j) o[j - i] = xi * xr[j];
        o += d - i;
      }
    }
  });
}

}  // namespace

void outerTriangle(const args::outerTriangle& a) {
  if (a.xType == DType::F64) outerTyped<double>(a);
  else outerTyped<float>(a);
}

}  // namespace kiln::cpu::KILN_ISA_NS
