// Which kernel table the CPU backend runs: the best the processor supports, or the one
// KILN_CPU names (portable | avx2 | avx512), so tests can exercise every path on one machine.
#pragma once
#include <string>

#include "kernels/kernels.h"

namespace kiln::cpu {

struct IsaChoice {
  const KernelTable* table;
  std::string detected;  // best level the processor supports
  std::string reason;    // why this table was chosen
  // bf16 matmul (gemmBf16): "avx512_bf16" (vdpbf16ps) or "emulated" (float32 kernels on rounded
  // operands); the avx512 table uses vdpbf16ps when the CPU has it and KILN_BF16 is not 'emulate'
  std::string bf16;
};

const IsaChoice& isaChoice();

}  // namespace kiln::cpu
