// Status checks shared by the CUDA backend's host code and kernel launchers. Every CUDA call's
// status is checked and every launch is followed by checkLaunch(name): a failure becomes a
// kiln::Error that names the call or the kernel, never an abort.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>
#include <string>

#include "../include/backend.h"

namespace kiln::cuda {

[[noreturn]] inline void throwCuda(const char* what, cudaError_t e) {
  throw Error(std::string("cuda: ") + what + " failed: " + cudaGetErrorName(e) + " (" +
              cudaGetErrorString(e) + ")");
}

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throwCuda(what, e);
}

// After a kernel launch: launch-configuration errors and any sticky error from earlier work.
inline void checkLaunch(const char* kernel) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    throw Error(std::string("cuda: kernel ") + kernel + " failed: " + cudaGetErrorName(e) + " (" +
                cudaGetErrorString(e) + ")");
  }
}

[[noreturn]] inline void notImplemented(const char* op) {
  throw Error(std::string("cuda: ") + op + " is not implemented");
}

// Codes kernels write into the device error word (Context::errorWord) when they meet a bad index;
// reported at the next host sync (copyToHost / synchronize), the only place a value is read.
enum DeviceErrorCode : int32_t {
  kErrNone = 0,
  kErrIndexSelect = 1,
  kErrIndexAdd = 2,
  kErrGather = 3,
  kErrScatterAdd = 4,
  kErrCrossEntropyTarget = 5,
  kErrMaxPoolArgmax = 6,
};

inline const char* deviceErrorOp(int32_t code) {
  switch (code) {
    case kErrIndexSelect: return "indexSelect";
    case kErrIndexAdd: return "indexAdd";
    case kErrGather: return "gather";
    case kErrScatterAdd: return "scatterAdd";
    case kErrCrossEntropyTarget: return "crossEntropy (target)";
    case kErrMaxPoolArgmax: return "maxPool2dBackward (argmax)";
    default: return "unknown op";
  }
}

}  // namespace kiln::cuda

#define KILN_CUDA(call) ::kiln::cuda::check((call), #call)
