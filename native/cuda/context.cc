#include "context.h"

#include <cstdint>
#include <string>

#include "common.h"
#include "cublas_loader.h"

namespace kiln::cuda {

std::atomic<int> gMatmulPrecision{static_cast<int>(MatmulPrecision::Highest)};

namespace {
constexpr size_t kWorkspaceBytes = size_t{32} << 20;  // cuBLASLt's recommendation for Hopper

// Small blocks round to 512 bytes, large ones (>= 1 MiB) to 2 MiB.
size_t roundSize(size_t bytes) {
  if (bytes == 0) bytes = 1;
  constexpr size_t kSmall = 512, kLarge = size_t{2} << 20, kLargeFrom = size_t{1} << 20;
  if (bytes < kLargeFrom) return (bytes + kSmall - 1) / kSmall * kSmall;
  return (bytes + kLarge - 1) / kLarge * kLarge;
}

void* deviceAlloc(size_t bytes, void* ctx) {
  static_cast<const DeviceContext*>(ctx)->activate();
  void* p = nullptr;
  if (cudaMalloc(&p, bytes) != cudaSuccess) {
    cudaGetLastError();  // clear the error so it does not stick to the next launch check
    return nullptr;
  }
  return p;
}

void deviceFree(void* p, void*) { cudaFree(p); }  // errors ignored: best effort while recovering memory

constexpr int64_t kNoCacheLimit = INT64_MAX;  // keep every block until the driver runs out
}  // namespace

DeviceContext::DeviceContext(int device)
    : device_(device), cache_({roundSize, deviceAlloc, deviceFree, this, kNoCacheLimit}) {
  KILN_CUDA(cudaSetDevice(device));
  KILN_CUDA(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  KILN_CUDA(cudaMalloc(reinterpret_cast<void**>(&errWord_), sizeof(int32_t)));
  KILN_CUDA(cudaMemset(errWord_, 0, sizeof(int32_t)));
  KILN_CUDA(cudaMallocHost(reinterpret_cast<void**>(&errHost_), sizeof(int32_t)));
  *errHost_ = 0;
}

void* DeviceContext::alloc(size_t bytes) {
  void* p = cache_.alloc(bytes);
  if (p == nullptr) {
    size_t freeB = 0, totalB = 0;
    cudaMemGetInfo(&freeB, &totalB);
    cudaGetLastError();
    throw Error("cuda: out of memory on device " + std::to_string(device_) + ": allocating " + std::to_string(bytes) +
                " bytes failed; " + std::to_string(freeB) + " of " + std::to_string(totalB) + " bytes free");
  }
  return p;
}

void DeviceContext::activate() const {
  int cur = -1;
  KILN_CUDA(cudaGetDevice(&cur));
  if (cur != device_) KILN_CUDA(cudaSetDevice(device_));
}

void DeviceContext::sync() {
  KILN_CUDA(cudaMemcpyAsync(errHost_, errWord_, sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
  KILN_CUDA(cudaStreamSynchronize(stream_));
  int32_t code = *errHost_;
  if (code != kErrNone) {
    *errHost_ = 0;
    KILN_CUDA(cudaMemsetAsync(errWord_, 0, sizeof(int32_t), stream_));
    throw Error(std::string("cuda: ") + deviceErrorOp(code) +
                ": an index was out of range (found on the device; the op that read it skipped the "
                "element, and its output is not valid)");
  }
}

blas::LtHandle DeviceContext::lt() {
  if (lt_ == nullptr) {
    const CublasLib& L = cublasLib();
    if (!L.ok) throw Error("cuda: gemm: " + L.reason);
    blas::Status st = L.ltCreate(&lt_);
    if (st != blas::STATUS_SUCCESS) {
      lt_ = nullptr;
      throw Error("cuda: cublasLtCreate failed with status " + std::to_string(static_cast<int>(st)));
    }
  }
  return lt_;
}

blas::Handle DeviceContext::classic() {
  if (!classicTried_) {
    classicTried_ = true;
    const CublasLib& L = cublasLib();
    if (L.ok && L.create != nullptr) {
      blas::Handle h = nullptr;
      if (L.create(&h) == blas::STATUS_SUCCESS && L.setStream(h, stream_) == blas::STATUS_SUCCESS) {
        classic_ = h;
      }
    }
  }
  return classic_;
}

void* DeviceContext::workspace(size_t* bytes) {
  if (workspace_ == nullptr) {
    workspace_ = alloc(kWorkspaceBytes);
    workspaceBytes_ = kWorkspaceBytes;
  }
  *bytes = workspaceBytes_;
  return workspace_;
}

}  // namespace kiln::cuda
