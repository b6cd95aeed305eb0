// Per-device state: the device's one stream, its caching allocator, the device error word that
// index-reading kernels write, and the cuBLASLt / cuBLAS handles with their workspace.
#pragma once
#include <cuda_runtime_api.h>

#include <atomic>
#include <memory>

#include "../include/block_cache.h"
#include "cublas_api.h"

namespace kiln::cuda {

// PyTorch's torch.set_float32_matmul_precision: Highest = fp32, High = TF32 allowed.
enum class MatmulPrecision : int { Highest = 0, High = 1 };
extern std::atomic<int> gMatmulPrecision;

class DeviceContext {
 public:
  explicit DeviceContext(int device);
  ~DeviceContext() = default;  // lives until the process exits (the core holds its backend)

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  int32_t* errorWord() const { return errWord_; }

  // Device memory through the block cache: every kernel of a device runs on its one stream, so a
  // block freed by the host can be reused at once (the stream orders the old readers before the
  // new writers). When cudaMalloc fails the cache is returned to the driver and the allocation
  // retried once; then kiln::Error says how many bytes were asked for and how many are free.
  void* alloc(size_t bytes);
  void release(void* p, size_t bytes) { cache_.release(p, bytes); }
  BlockCache& cache() { return cache_; }

  // Makes this context's device current for the calling thread.
  void activate() const;
  // Waits for the stream, then raises any error a kernel left in the error word.
  void sync();

  blas::LtHandle lt();          // created on first use
  blas::Handle classic();       // nullptr when libcublas was not found
  void* workspace(size_t* bytes);

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  BlockCache cache_;
  int32_t* errWord_ = nullptr;    // device
  int32_t* errHost_ = nullptr;    // pinned host copy
  blas::LtHandle lt_ = nullptr;
  blas::Handle classic_ = nullptr;
  bool classicTried_ = false;
  void* workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
};

}  // namespace kiln::cuda
