// Device id -> backend. The CPU backend registers itself on first use; the CUDA addon's
// backend is registered through the `registerCudaBackend` export.
#include "../include/backend.h"

namespace kiln {

Backend* cpuBackend();  // native/cpu/cpu_backend.cc

namespace {
Backend* gBackends[kMaxDevices] = {};
}

Backend* backendFor(int device) {
  if (device == kCpuDevice) return cpuBackend();
  if (device < 0 || device >= kMaxDevices) return nullptr;
  return gBackends[device];
}

void registerBackend(int device, Backend* backend) {
  if (device > kCpuDevice && device < kMaxDevices) gBackends[device] = backend;
}

}  // namespace kiln
