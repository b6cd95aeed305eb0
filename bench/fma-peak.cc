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

// Returns the number of FMA instructions run; the sum goes to sink so nothing is dropped.
__attribute__((target("avx2,fma"))) long loopYmm(double seconds, float* sink) {
  __m256 acc[kAcc];
  for (int i = 0; i < kAcc; i++) acc[i] = _mm256_set1_ps(1.0f + i * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  long n = 0;
  auto t0 = std::chrono::steady_clock::now();
  do {
    for (long k = 0; k < kInner; k++) {
#pragma GCC unroll 16
      for (int i = 0; i < kAcc; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
      asm volatile("" : "+x"(acc[0]), "+x"(acc[1]));
    }
    n += kInner * kAcc;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds);
  __m256 s = acc[0];
  for (int i = 1; i < kAcc; i++) s = _mm256_add_ps(s, acc[i]);
  *sink = _mm256_cvtss_f32(s);
  return n;
}

__attribute__((target("avx512f"))) long loopZmm(double seconds, float* sink) {
  __m512 acc[kAcc];
  for (int i = 0; i < kAcc; i++) acc[i] = _mm512_set1_ps(1.0f + i * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  long n = 0;
  auto t0 = std::chrono::steady_clock::now();
  do {
    for (long k = 0; k < kInner; k++) {
#pragma GCC unroll 16
      for (int i = 0; i < kAcc; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
      asm volatile("" : "+x"(acc[0]), "+x"(acc[1]));
    }
    n += kInner * kAcc;
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < seconds);
  __m512 s = acc[0];
  for (int i = 1; i < kAcc; i++) s = _mm512_add_ps(s, acc[i]);
  *sink = _mm512_reduce_add_ps(s);
  return n;
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
