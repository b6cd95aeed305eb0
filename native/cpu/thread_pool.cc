// Fork-join pool: workers spin briefly for the next job (dispatch costs well under a
// microsecond when steps come back to back), then sleep on a condition variable so an idle
// process takes no CPU.
//
// The tids of a job are claimed, not assigned: the caller and the workers take the next
// unclaimed tid from one atomic word until none is left, so any thread may run any tid. On a
// machine shared with other processes a worker is often not running when a job starts; the
// caller then runs the job's tids itself instead of waiting for the scheduler to bring the
// worker back (measured: a VAE training step on the loaded 2-core VM, load average ~15, took
// twice as long with two threads as with one when each thread had its fixed half).
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
    done_.store(0, std::memory_order_relaxed);
    // publishes fn_, ctx_ and done_ with the job's claim word
    claim_.store((++seq_ << 32) | (static_cast<uint64_t>(nthreads) << 16), std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    tInsidePool = true;
    work();
    tInsidePool = false;
    for (int i = 0; done_.load(std::memory_order_acquire) != nthreads; ++i) {
      // a worker is inside a tid: as long as ours, so spin; yield when it was descheduled
      if (i >= 4096) std::this_thread::yield();
    }
  }

 private:
  // Claim word: job sequence (bits 32-63), the job's tid count (16-31), next tid (0-15). One
  // fetch_add both claims a tid and says which job it belongs to, so a worker that wakes late
  // never runs a tid of a finished job; the low field cannot overflow (at most 256 threads
  // each over-claim once per job).
  void work() {
    for (;;) {
      uint64_t v = claim_.fetch_add(1, std::memory_order_acq_rel);
      int tid = static_cast<int>(v & 0xffff), n = static_cast<int>((v >> 16) & 0xffff);
      if (tid >= n) return;
      fn_(ctx_, tid, n);  // stable: the job cannot finish before this tid is counted done
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  void loop(int) {
    tInsidePool = true;
    uint64_t seen = 0;
    for (;;) {
      uint64_t gen = waitForJob(seen);
      seen = gen;
      if (stop_) return;
      work();
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
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};
  uint64_t seq_ = 0;  // under submitMu_
  WorkerFn fn_ = nullptr;
  void* ctx_ = nullptr;
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
