// Declarations of every CPU kernel, compiled once per instruction set into
// kiln::cpu::KILN_ISA_NS (see kernels.h), one per op of ops.def taking its argument struct.
// table.cc gathers them into a KernelTable.
// Also the few tiny helpers the kernel files share; they live in the ISA namespace so no copy
// compiled with AVX-512 flags can be picked for the portable path.
#pragma once
#include <cstdint>

#include "../thread_pool.h"
#include "kernels.h"

#ifndef KILN_ISA_NS
#error "KILN_ISA_NS must be defined (portable, avx2 or avx512)"
#endif

namespace kiln::cpu::KILN_ISA_NS {

// ---- shared helpers ----
// Elementwise work per thread chunk: below ~16K elements a dispatch costs more than it saves.
constexpr int64_t kElemGrain = 16384;
inline int64_t minI64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t maxI64(int64_t a, int64_t b) { return a > b ? a : b; }
// Rows per chunk so a chunk holds about kElemGrain elements.
inline int64_t rowGrain(int64_t rowLen) { return maxI64(1, kElemGrain / maxI64(1, rowLen)); }
// std::is_same without the STL (see kernels.h).
template <class A, class B> inline constexpr bool kSameType = false;
template <class A> inline constexpr bool kSameType<A, A> = true;

// float64 GEMM (gemm_f64.cc), called by gemm() for float64 operands and by the linalg kernels.
void gemmF64(const args::gemm& a);
// One thread's GEMM on one matrix (gemm.cc), for kernels that run GEMMs on their own tiles inside
// a parallel loop (attention.cc): C = alpha * op(A) op(B) + beta * C, row-major, beta 0 ignores C.
void gemmBlock(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
               int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// ---- one kernel per op of ops.def (layout.cc, elementwise.cc, reduce.cc, ...) ----
#define KILN_OP(name, fields) void name(const args::name& a);
#define KILN_COMPOSITE(name, fields)
#include "../../include/ops.def"
#include "../../include/ops_undef.h"

}  // namespace kiln::cpu::KILN_ISA_NS
