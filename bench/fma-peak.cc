// The machine's FMA ceiling: a register-only loop of independent FMAs, for each vector width
// the processor runs (AVX2 ymm, AVX-512 zmm), on 1 thread and on every logical CPU.
// The bar for Kiln's GEMM on this machine (bench/fma-peak.mjs compiles and runs it).
//
//   g++ -O2 -pthread bench/fma-peak.cc -o fma-peak && ./fma-peak [seconds per measure]
//
// Prints one JSON line: {isa: {threads: GFLOP/s}}. 12 accumulators hide the FMA latency
// (4-5 cycles) on two pipes; the loop touches no memory.
#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr int kAcc = 12;  // 12 accumulators + 2 operands fit AVX2's 16 registers
constexpr long kInner = 1 << 16;

// The loop body for one vector type. Twelve named accumulators, not an array: GCC kept an array
// on the stack and ran a load and a store around every FMA. Each accumulator is the FMA's addend,
// as in a GEMM: on AMD family 26 a chain through the multiplicand ran at about half the rate.
// Both mistakes together read a third of what Kiln's GEMM reached there. The empty asm keeps the
// chains from being folded. Returns the number of FMA instructions run; the sum goes to sink.
#define KILN_FMA_LOOP(V, SET1, FMA, ADD, FIRST)                                                   \
  V c0 = SET1(1.000f), c1 = SET1(1.001f), c2 = SET1(1.002f), c3 = SET1(1.003f);                    \
  V c4 = SET1(1.004f), c5 = SET1(1.005f), c6 = SET1(1.006f), c7 = SET1(1.007f);                    \
  V c8 = SET1(1.008f), c9 = SET1(1.009f), c10 = SET1(1.010f), c11 = SET1(1.011f);                  \
  const V a = SET1(0.999999f), b = SET1(1e-7f);                                                    \
  long n = 0;                                                                                      \
  auto t0 = std::chrono::steady_clock::now();                                                      \
  do {                                                                                             \
    for (long k = 0; k < kInner; k++) {                                                            \
      c0 = FMA(a, b, c0); c1 = FMA(a, b, c1); c2 = FMA(a, b, c2); c3 = FMA(a, b, c3);              \
      c4 = FMA(a, b, c4); c5 = FMA(a, b, c5); c6 = FMA(a, b, c6); c7 = FMA(a, b, c7);              \
      c8 = FMA(a, b, c8); c9 = FMA(a, b, c9); c10 = FMA(a, b, c10); c11 = FMA(a, b, c11);          \
      asm volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5));              \
      asm volatile("" : "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));            \
    }                                                                                              \
    n += kInner * kAcc;                                                                            \
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds); \
  V s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));                         \
  s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));                                                     \
  *sink = FIRST(s);                                                                                \
  return n;

__attribute__((target("avx2,fma"))) long loopYmm(double seconds, float* sink) {
  KILN_FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32)
}

__attribute__((target("avx512f"))) long loopZmm(double seconds, float* sink) {
  KILN_FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_reduce_add_ps)
}

// GFLOP/s of `threads` copies of loop run together (2 flops per lane per FMA); best of 3.
double measure(long (*loop)(double, float*), int lanes, int threads, double seconds) {
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    std::vector<long> count(threads);
    std::vector<float> sink(threads);
    std::vector<std::thread> pool;
    auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < threads; t++) pool.emplace_back([&, t] { count[t] = loop(seconds, &sink[t]); });
    for (auto& th : pool) th.join();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    long total = 0;
    for (long c : count) total += c;
    double g = 2.0 * lanes * total / s / 1e9;
    if (g > best) best = g;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 0.5;
  int cpus = static_cast<int>(std::thread::hardware_concurrency());
  if (cpus < 1) cpus = 1;
  __builtin_cpu_init();
  std::printf("{");
  bool first = true;
  struct Isa { const char* name; bool ok; long (*loop)(double, float*); int lanes; };
  Isa isas[] = {
    {"avx2", __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"), loopYmm, 8},
    {"avx512", static_cast<bool>(__builtin_cpu_supports("avx512f")), loopZmm, 16},
  };
  for (const Isa& isa : isas) {
    if (!isa.ok) continue;
    std::printf("%s\"%s\": {\"1\": %.1f", first ? "" : ", ", isa.name, measure(isa.loop, isa.lanes, 1, seconds));
    if (cpus > 1) std::printf(", \"%d\": %.1f", cpus, measure(isa.loop, isa.lanes, cpus, seconds));
    std::printf("}");
    first = false;
  }
  std::printf("}\n");
  return 0;
}
