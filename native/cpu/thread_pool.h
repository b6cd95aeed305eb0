// A persistent thread pool for CPU kernels. KILN_NUM_THREADS sets its size (default: cores).
//
// Kernels compiled for a specific ISA (native/cpu/kernels) call it through plain function
// pointers, so nothing here is instantiated with ISA-specific flags.
#pragma once
#include <cstdint>

namespace kiln::cpu {

using RangeFn = void (*)(void* ctx, int64_t begin, int64_t end);
using WorkerFn = void (*)(void* ctx, int tid, int nthreads);

// Threads the pool runs work on, the calling thread included.
int numThreads();

// Splits [0, n) into contiguous chunks of at least `grain` items, one per thread, and runs
// fn on each; the caller runs the first chunk and returns when all are done. Runs inline when
// n < 2 * grain or when called from inside a pool task (no nested parallelism).
void parallelFor(int64_t n, int64_t grain, RangeFn fn, void* ctx);

// Runs fn(ctx, tid, nthreads) once for each tid < nthreads (nthreads <= numThreads()).
void parallelRun(int nthreads, WorkerFn fn, void* ctx);

// Lambda front ends.
template <class F>
inline void parallel_for(int64_t n, int64_t grain, const F& f) {
  parallelFor(
      n, grain,
      [](void* c, int64_t b, int64_t e) { (*static_cast<const F*>(c))(b, e); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

template <class F>
inline void parallel_run(int nthreads, const F& f) {
  parallelRun(
      nthreads, [](void* c, int t, int nt) { (*static_cast<const F*>(c))(t, nt); },
      const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace kiln::cpu
