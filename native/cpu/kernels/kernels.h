// CPU kernels compiled once per instruction set (portable, avx2, avx512) from the same sources.
//
// Each file in this folder is built three times with different -m flags and
// -DKILN_ISA_NS=portable|avx2|avx512, so every symbol lives in kiln::cpu::<isa>. The files use no
// STL and throw nothing: an inline STL function compiled with AVX-512 flags could be the copy
// the linker keeps for the portable path. Validation happens in the binding, before the call.
// cpu_backend.cc picks one table at start (CPUID, or KILN_CPU=portable|avx2|avx512).
#pragma once
#include <cstdint>

#include "../../include/backend.h"

namespace kiln::cpu {

// One kernel per op of ops.def, by name.
struct KernelTable {
  const char* isa;
#define KILN_OP(name, fields) void (*name)(const args::name& a);
#define KILN_COMPOSITE(name, fields)
#include "../../include/ops.def"
#include "../../include/ops_undef.h"
};

// The GEMM's micro-tile and cache blocking on one instruction set (gemm.cc).
struct GemmConfig {
  int mr, nr;
  int64_t kc, mc, nc;
  bool overridden;  // by KILN_GEMM_BLOCKING
};

// One table per instruction set, filled in kernels/table.cc.
namespace portable { const KernelTable& kernelTable(); GemmConfig gemmConfig(); }
namespace avx2 { const KernelTable& kernelTable(); GemmConfig gemmConfig(); }
namespace avx512 { const KernelTable& kernelTable(); GemmConfig gemmConfig(); }

}  // namespace kiln::cpu
