#include "allocator.h"

#include <cuda_runtime_api.h>

#include "common.h"

namespace kiln::cuda {

size_t CachingAllocator::roundSize(size_t bytes) {
  if (bytes == 0) bytes = 1;
  constexpr size_t kSmall = 512, kLarge = size_t{2} << 20, kLargeFrom = size_t{1} << 20;
  if (bytes < kLargeFrom) return (bytes + kSmall - 1) / kSmall * kSmall;
  return (bytes + kLarge - 1) / kLarge * kLarge;
}

void CachingAllocator::emptyCacheLocked() {
  for (auto& [size, blocks] : free_) {
    for (void* p : blocks) cudaFree(p);  // errors ignored: best effort while recovering memory
  }
  free_.clear();
  cachedBytes_ = 0;
}

void CachingAllocator::emptyCache() {
  std::lock_guard<std::mutex> lock(mu_);
  emptyCacheLocked();
}

void* CachingAllocator::alloc(size_t bytes) {
  size_t size = roundSize(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = free_.find(size);
  if (it != free_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    cachedBytes_ -= size;
    live_[p] = size;
    liveBytes_ += size;
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, size);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // clear the error so it does not stick to the next launch check
    emptyCacheLocked();
    e = cudaMalloc(&p, size);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t freeB = 0, totalB = 0;
    cudaMemGetInfo(&freeB, &totalB);
    cudaGetLastError();
    throw Error("cuda: out of memory on device " + std::to_string(device_) + ": allocating " +
                std::to_string(bytes) + " bytes (" + std::to_string(size) + " rounded) failed with " +
                cudaGetErrorName(e) + "; " + std::to_string(freeB) + " of " + std::to_string(totalB) +
                " bytes free, " + std::to_string(liveBytes_) + " bytes held by live tensors");
  }
  live_[p] = size;
  liveBytes_ += size;
  return p;
}

void CachingAllocator::release(void* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) throw Error("cuda: release of a pointer this device did not allocate");
  size_t size = it->second;
  live_.erase(it);
  liveBytes_ -= size;
  free_[size].push_back(p);
  cachedBytes_ += size;
}

}  // namespace kiln::cuda
