// Cache sizes of the processor (for the GEMM's blocking) and the KILN_GEMM_BLOCKING override.
// Plain C structs: the kernels compiled per ISA read them through these functions.
#pragma once
#include <cstdint>

namespace kiln::cpu {

struct CacheSizes {
  int64_t l1d, l2, l3;  // bytes per core for L1D and L2; L3 as the OS reports it
  int l1dWays, l2Ways;
  bool detected;        // false: the OS reported nothing and these are defaults
};
const CacheSizes& cacheSizes();

// KILN_GEMM_BLOCKING="kc,mc,nc" (for tuning runs); zeros when unset. error: why it was ignored.
struct GemmBlockingOverride {
  int64_t kc = 0, mc = 0, nc = 0;
  const char* error = nullptr;
};
const GemmBlockingOverride& gemmBlockingOverride();

}  // namespace kiln::cpu
