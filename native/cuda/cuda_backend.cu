// kiln::Backend on one CUDA device: memory through the device's block cache, every op on the
// device's one stream (asynchronous; the host waits only in copyToHost and synchronize). The ops
// are the launchers of kernels.cuh, one per entry of ops.def (matmul through cuBLASLt: gemm.cu).
#include "cuda_backend.h"

#include <mutex>
#include <string>

#include "common.h"
#include "context.h"
#include "kernels.cuh"

namespace kiln::cuda {
namespace {

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device) : ctx_(device) { name_ = "cuda:" + std::to_string(device); }

  const char* name() const override { return name_.c_str(); }

  // ---- memory ----
  void* alloc(size_t bytes) override {
    ctx_.activate();
    return ctx_.alloc(bytes);
  }
  // Stream-ordered reuse: the block goes back to the cache, no sync needed (context.h).
  void release(void* p, size_t bytes) override { ctx_.release(p, bytes); }
  void emptyCache() override {
    ctx_.activate();
    KILN_CUDA(cudaStreamSynchronize(ctx_.stream()));  // no kernel may still use a block given back
    ctx_.cache().emptyCache();
  }
  int64_t cachedBytes() override { return ctx_.cache().cachedBytes(); }
  int64_t systemBytes() override { return ctx_.cache().systemBytes(); }
  void copyFromHost(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    ctx_.activate();
    KILN_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx_.stream()));
  }
  void copyToHost(void* dst, const void* src, size_t bytes) override {
    ctx_.activate();
    if (bytes != 0) KILN_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx_.stream()));
    ctx_.sync();
  }
  void copy(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0 || dst == src) return;
    ctx_.activate();
    KILN_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx_.stream()));
  }
  void synchronize() override {
    ctx_.activate();
    ctx_.sync();
  }

  // ---- ops (ops.def) ----
#define KILN_OP(name, fields)                  \
  void name(const args::name& a) override {    \
    ctx_.activate();                           \
    cuda::name(ctx_, a);                       \
  }
#define KILN_COMPOSITE(name, fields)
#include "../include/ops.def"
#include "../include/ops_undef.h"

 private:
  DeviceContext ctx_;
  std::string name_;
};

}  // namespace

Backend* backendForDevice(int device) {
  static std::mutex mu;
  static CudaBackend* backends[kMaxDevices] = {};
  if (device < 0 || device >= kMaxDevices - 1) throw Error("cuda: device index out of range");
  std::lock_guard<std::mutex> lock(mu);
  if (backends[device] == nullptr) backends[device] = new CudaBackend(device);
  return backends[device];
}

}  // namespace kiln::cuda
