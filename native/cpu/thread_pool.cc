// Fork-join pool: workers spin briefly for the next job (dispatch costs well under a
// microsecond when steps come back to back), then sleep on a condition variable so an idle
// process takes no CPU.
#include "thread_pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln::cpu {
namespace {

thread_local bool tInsidePool = false;

class Pool {
 public:
  Pool() {
    int n = static_cast<int>(std::thread::hardware_concurrency());
    if (const char* env = std::getenv("KILN_NUM_THREADS")) {
      int v = std::atoi(env);
      if (v > 0) n = v;
    }
    if (n < 1) n = 1;
    if (n > 256) n = 256;
    size_ = n;
    for (int t = 1; t < n; ++t) workers_.emplace_back([this, t] { loop(t); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int size() const { return size_; }

  void run(int nthreads, WorkerFn fn, void* ctx) {
    if (nthreads > size_) nthreads = size_;
    if (nthreads <= 1 || tInsidePool) {
      fn(ctx, 0, 1);
      return;
    }
    std::lock_guard<std::mutex> submit(submitMu_);  // one job at a time
    fn_ = fn;
    ctx_ = ctx;
    active_ = nthreads;
    pending_.store(nthreads - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    tInsidePool = true;
    fn(ctx, 0, nthreads);
    tInsidePool = false;
    while (pending_.load(std::memory_order_acquire) != 0) {
      // the other chunk is as long as ours; spinning here is shorter than a wake-up
    }
  }

 private:
  void loop(int tid) {
    tInsidePool = true;
    uint64_t seen = 0;
    for (;;) {
      uint64_t gen = waitForJob(seen);
      seen = gen;
      if (stop_) return;
      if (tid < active_) {
        fn_(ctx_, tid, active_);
        pending_.fetch_sub(1, std::memory_order_acq_rel);
      }
    }
  }

  uint64_t waitForJob(uint64_t seen) {
    auto spinUntil = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    for (int i = 0;; ++i) {
      uint64_t gen = generation_.load(std::memory_order_acquire);
      if (gen != seen) return gen;
      if ((i & 255) == 255 && std::chrono::steady_clock::now() > spinUntil) break;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    return generation_.load(std::memory_order_acquire);
  }

  int size_ = 1;
  std::vector<std::thread> workers_;
  std::mutex submitMu_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  WorkerFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int active_ = 0;
  bool stop_ = false;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: workers may outlive static destructors
  return *p;
}

struct RangeJob {
  int64_t n;
  RangeFn fn;
  void* ctx;
};

}  // namespace

int numThreads() { return pool().size(); }

void parallelRun(int nthreads, WorkerFn fn, void* ctx) { pool().run(nthreads, fn, ctx); }

void parallelFor(int64_t n, int64_t grain, RangeFn fn, void* ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t maxChunks = n / grain;
  int threads = pool().size();
  if (maxChunks < 2 || threads == 1 || tInsidePool) {
    fn(ctx, 0, n);
    return;
  }
  if (maxChunks < threads) threads = static_cast<int>(maxChunks);
  RangeJob job{n, fn, ctx};
  pool().run(
      threads,
      [](void* c, int t, int nt) {
        auto* j = static_cast<RangeJob*>(c);
        int64_t b = j->n * t / nt, e = j->n * (t + 1) / nt;
        if (b < e) j->fn(j->ctx, b, e);
      },
      &job);
}

}  // namespace kiln::cpu
