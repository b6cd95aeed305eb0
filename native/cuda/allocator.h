// Caching device allocator, one per device. Freed blocks go back to a free list keyed by their
// rounded size and are reused by later allocations of the same size class; because every kernel
// of a device runs on its one stream, a block freed by the host can be reused at once (the
// stream orders the old readers before the new writers). When cudaMalloc fails the cache is
// returned to the driver and the allocation retried once; then kiln::Error says how many bytes
// were asked for and how many are free.
#pragma once
#include <cstddef>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace kiln::cuda {

class CachingAllocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  ~CachingAllocator() = default;  // device memory is left to the driver at process exit

  void* alloc(size_t bytes);
  void release(void* p);
  void emptyCache();  // returns every cached block to the driver

  size_t cachedBytes() const { return cachedBytes_; }
  size_t liveBytes() const { return liveBytes_; }

  // Small blocks round to 512 bytes, large ones (>= 1 MiB) to 2 MiB.
  static size_t roundSize(size_t bytes);

 private:
  int device_;
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;  // size -> cached blocks
  std::unordered_map<void*, size_t> live_;     // block -> size
  size_t cachedBytes_ = 0, liveBytes_ = 0;
  void emptyCacheLocked();
};

}  // namespace kiln::cuda
