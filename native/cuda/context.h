// Per-device state: the device's one stream, its caching allocator, the device error word that
// index-reading kernels write, and the cuBLASLt / cuBLAS handles with their workspace.
#pragma once
#include <cuda_runtime_api.h>

#include <atomic>
#include <memory>

#include "allocator.h"
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
  CachingAllocator& allocator() { return alloc_; }
  int32_t* errorWord() const { return errWord_; }

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
  CachingAllocator alloc_;
  int32_t* errWord_ = nullptr;    // device
  int32_t* errHost_ = nullptr;    // pinned host copy
  blas::LtHandle lt_ = nullptr;
  blas::Handle classic_ = nullptr;
  bool classicTried_ = false;
  void* workspace_ = nullptr;
  size_t workspaceBytes_ = 0;
};

}  // namespace kiln::cuda
