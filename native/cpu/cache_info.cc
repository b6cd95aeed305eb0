#include "cache_info.h"

#include <unistd.h>

#include <cstdlib>

namespace kiln::cpu {

const CacheSizes& cacheSizes() {
  static const CacheSizes c = [] {
    // glibc answers from CPUID (Intel and AMD leaves); 0 or -1 where it does not know.
    auto get = [](int name) { long v = sysconf(name); return v > 0 ? static_cast<int64_t>(v) : int64_t(0); };
    CacheSizes s{};
    s.l1d = get(_SC_LEVEL1_DCACHE_SIZE);
    s.l1dWays = static_cast<int>(get(_SC_LEVEL1_DCACHE_ASSOC));
    s.l2 = get(_SC_LEVEL2_CACHE_SIZE);
    s.l2Ways = static_cast<int>(get(_SC_LEVEL2_CACHE_ASSOC));
    s.l3 = get(_SC_LEVEL3_CACHE_SIZE);
    s.detected = s.l1d > 0 && s.l2 > 0;
    // Defaults: the smallest of the x86-64 processors Kiln targets (32 KiB L1D, 512 KiB L2).
    if (s.l1d < 16 * 1024) s.l1d = 32 * 1024;
    if (s.l2 < 128 * 1024) s.l2 = 512 * 1024;
    if (s.l1dWays <= 0) s.l1dWays = 8;
    if (s.l2Ways <= 0) s.l2Ways = 8;
    return s;
  }();
  return c;
}

const GemmBlockingOverride& gemmBlockingOverride() {
  static const GemmBlockingOverride o = [] {
    GemmBlockingOverride r;
    const char* env = std::getenv("KILN_GEMM_BLOCKING");
    if (env == nullptr || *env == '\0') return r;
    int64_t v[3];
    const char* p = env;
    for (int i = 0; i < 3; ++i) {
      char* end = nullptr;
      long long x = std::strtoll(p, &end, 10);
      if (end == p || x < 1 || x > 65536 || (i < 2 ? *end != ',' : *end != '\0')) {
        r.error = "KILN_GEMM_BLOCKING: expected kc,mc,nc (three integers in 1..65536); ignored";
        return r;
      }
      v[i] = x;
      p = end + 1;
    }
    r.kc = v[0];
    r.mc = v[1];
    r.nc = v[2];
    return r;
  }();
  return o;
}

}  // namespace kiln::cpu
