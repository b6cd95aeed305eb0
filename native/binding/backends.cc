// Device id -> backend. The CPU backend registers itself on first use; the CUDA addon's
// backend is registered through the `registerCudaBackend` export. Atomic slots: worker threads
// may look a backend up while another thread registers one.
#include <atomic>

#include "../include/backend.h"

namespace kiln {

Backend* cpuBackend();  // native/cpu/cpu_backend.cc

namespace {
std::atomic<Backend*> gBackends[kMaxDevices] = {};
}

Backend* backendFor(int device) {
  if (device == kCpuDevice) return cpuBackend();
  if (device < 0 || device >= kMaxDevices) return nullptr;
  return gBackends[device].load(std::memory_order_acquire);
}

void registerBackend(int device, Backend* backend) {
  if (device > kCpuDevice && device < kMaxDevices) gBackends[device].store(backend, std::memory_order_release);
}

}  // namespace kiln
