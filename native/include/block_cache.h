// The caching allocator both backends use: released blocks go to a free list keyed by their
// rounded size and are handed out again for the same size class, so a training step's steady
// state makes no system allocation. Thread-safe (one mutex): the backends are process-wide and
// several worker threads may allocate at once. The raw allocator and the rounding are the
// backend's (host memory, device memory).
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace kiln {

class BlockCache {
 public:
  struct Policy {
    size_t (*round)(size_t bytes);  // the size class of a request
    void* (*rawAlloc)(size_t bytes, void* ctx);  // nullptr when out of memory
    void (*rawFree)(void* p, void* ctx);
    void* ctx;
    int64_t limit;  // never keep more than this many cached bytes
  };

  explicit BlockCache(const Policy& policy) : p_(policy) {}

  // A block of round(bytes) bytes, or nullptr when the system has none even after the cache was
  // returned to it (the caller throws with its own message).
  void* alloc(size_t bytes) {
    size_t cls = p_.round(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(cls);
      if (it != free_.end() && !it->second.empty()) {
        void* block = it->second.back();
        it->second.pop_back();
        cached_ -= static_cast<int64_t>(cls);
        return block;
      }
    }
    void* block = p_.rawAlloc(cls, p_.ctx);
    if (block == nullptr) {
      emptyCache();
      block = p_.rawAlloc(cls, p_.ctx);
    }
    if (block != nullptr) system_.fetch_add(static_cast<int64_t>(cls), std::memory_order_relaxed);
    return block;
  }

  void release(void* block, size_t bytes) {
    if (block == nullptr) return;
    size_t cls = p_.round(bytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + static_cast<int64_t>(cls) <= p_.limit) {
        free_[cls].push_back(block);
        cached_ += static_cast<int64_t>(cls);
        return;
      }
    }
    p_.rawFree(block, p_.ctx);
    system_.fetch_sub(static_cast<int64_t>(cls), std::memory_order_relaxed);
  }

  void emptyCache() {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks.swap(free_);
      cached_ = 0;
    }
    for (auto& [cls, list] : blocks) {
      for (void* b : list) p_.rawFree(b, p_.ctx);
      system_.fetch_sub(static_cast<int64_t>(cls * list.size()), std::memory_order_relaxed);
    }
  }

  int64_t cachedBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

  // Bytes held from the system: live blocks plus cached ones. It changes only when the cache
  // misses or gives blocks back, which is what V8 is told (a training step's steady state,
  // served from the cache, adds no GC pressure).
  int64_t systemBytes() const { return system_.load(std::memory_order_relaxed); }

 private:
  Policy p_;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  int64_t cached_ = 0;
  std::atomic<int64_t> system_{0};
};

}  // namespace kiln
