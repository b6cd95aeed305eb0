#include "isa.h"

#include <cpuid.h>

#include <cstdlib>
#include <cstring>

namespace kiln::cpu {
namespace {

uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

std::string detectIsa() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return "portable";
  bool osxsave = c & bit_OSXSAVE, fma = c & bit_FMA, avx = c & bit_AVX;
  if (!osxsave || !avx) return "portable";
  uint64_t xcr0 = xgetbv0();
  bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return "portable";
  bool avx2 = b & bit_AVX2;
  bool avx512 = (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512DQ) && (b & bit_AVX512VL);
  if (avx512 && avx2 && fma && zmm) return "avx512";
  if (avx2 && fma && ymm) return "avx2";
  return "portable";
}

// AVX512_BF16: CPUID.(EAX=7,ECX=1):EAX[5] (kernels/gemm_bf16.cc checks the same, with KILN_BF16).
bool hasAvx512Bf16() {
  unsigned a, b, c, d;
  if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return false;
  return (a >> 5) & 1u;
}

int rank(const std::string& isa) { return isa == "avx512" ? 2 : isa == "avx2" ? 1 : 0; }

const KernelTable* tableFor(const std::string& isa) {
  if (isa == "avx512") return &avx512::kernelTable();
  if (isa == "avx2") return &avx2::kernelTable();
  return &portable::kernelTable();
}

IsaChoice choose() {
  IsaChoice c;
  c.detected = detectIsa();
  std::string pick = c.detected;
  c.reason = "best instruction set this processor supports";
  if (const char* env = std::getenv("KILN_CPU")) {
    std::string want(env);
    if (want != "portable" && want != "avx2" && want != "avx512") {
      c.reason = "KILN_CPU=" + want + " is not one of portable, avx2, avx512; using the detected " + pick;
    } else if (rank(want) > rank(c.detected)) {
      c.reason = "KILN_CPU=" + want + " is not supported by this processor; using " + pick;
    } else {
      pick = want;
      c.reason = "forced by KILN_CPU";
    }
  }
  c.table = tableFor(pick);
  const char* bf16Env = std::getenv("KILN_BF16");
  const bool emulate = bf16Env != nullptr && std::strcmp(bf16Env, "emulate") == 0;
  c.bf16 = pick == "avx512" && hasAvx512Bf16() && !emulate ? "avx512_bf16" : "emulated";
  return c;
}

}  // namespace

const IsaChoice& isaChoice() {
  static IsaChoice c = choose();
  return c;
}

}  // namespace kiln::cpu
