// Checks our NCCL and CUDA driver declarations (nccl_api.h) against the real nccl.h and cuda.h,
// and that every name the loader looks up is exported by libnccl.so.2 / libcuda.so.1. Not part
// of the normal build (no NCCL headers there): tests/gpu/run.sh compiles it on the GPU machine
// against the nvidia-nccl wheel's include/ and runs it against its lib/:
//
//   g++ -std=c++17 -I<wheel>/include -I/usr/local/cuda/include native/dist/nccl_api_check.cc
//       -ldl -o /tmp/nccl_api_check && /tmp/nccl_api_check <wheel>/lib
//
// A failed static_assert names the declaration that is wrong.
#include <cuda.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstdio>
#include <string>

#include "api_check.h"
#include "nccl_api.h"

namespace n = kiln::dist::nccl;
namespace c = kiln::dist::cu;
using kiln::api_check::sameSignature;

// ---- NCCL ----
KILN_SAME_VALUE(n::UNIQUE_ID_BYTES, NCCL_UNIQUE_ID_BYTES);
static_assert(sizeof(n::UniqueId) == sizeof(ncclUniqueId), "ncclUniqueId size");
static_assert(std::is_same_v<n::Comm, ncclComm_t>, "ncclComm_t");
static_assert(sizeof(n::Result) == sizeof(ncclResult_t), "ncclResult_t size");
static_assert(sizeof(n::DataType) == sizeof(ncclDataType_t), "ncclDataType_t size");
static_assert(sizeof(n::RedOp) == sizeof(ncclRedOp_t), "ncclRedOp_t size");
KILN_SAME_VALUE(n::Success, ncclSuccess);
KILN_SAME_VALUE(n::UnhandledCudaError, ncclUnhandledCudaError);
KILN_SAME_VALUE(n::SystemError, ncclSystemError);
KILN_SAME_VALUE(n::InternalError, ncclInternalError);
KILN_SAME_VALUE(n::InvalidArgument, ncclInvalidArgument);
KILN_SAME_VALUE(n::InvalidUsage, ncclInvalidUsage);
KILN_SAME_VALUE(n::RemoteError, ncclRemoteError);
KILN_SAME_VALUE(n::InProgress, ncclInProgress);
KILN_SAME_VALUE(n::Int32, ncclInt32);
KILN_SAME_VALUE(n::Float32, ncclFloat32);
KILN_SAME_VALUE(n::Sum, ncclSum);
KILN_SAME_VALUE(n::Prod, ncclProd);
KILN_SAME_VALUE(n::Max, ncclMax);
KILN_SAME_VALUE(n::Min, ncclMin);
KILN_SAME_VALUE(n::Avg, ncclAvg);
static_assert(std::is_same_v<n::Stream, cudaStream_t>, "cudaStream_t");
#define KILN_CHECK_NCCL(name) \
  static_assert(sameSignature<decltype(n::Api::name), decltype(&::nccl##name)>(), "signature of nccl" #name);
KILN_NCCL_FUNCTIONS(KILN_CHECK_NCCL)

// ---- CUDA driver ----
static_assert(sizeof(c::Result) == sizeof(CUresult), "CUresult size");
KILN_SAME_VALUE(c::SUCCESS, CUDA_SUCCESS);
KILN_SAME_VALUE(c::ERROR_NOT_READY, CUDA_ERROR_NOT_READY);
KILN_SAME_VALUE(c::STREAM_NON_BLOCKING, CU_STREAM_NON_BLOCKING);
KILN_SAME_VALUE(c::EVENT_DISABLE_TIMING, CU_EVENT_DISABLE_TIMING);
static_assert(std::is_same_v<c::Device, CUdevice>, "CUdevice");
static_assert(std::is_same_v<c::Context, CUcontext>, "CUcontext");
static_assert(std::is_same_v<c::Stream, CUstream>, "CUstream");
static_assert(std::is_same_v<c::Event, CUevent>, "CUevent");
static_assert(sizeof(c::DevicePtr) == sizeof(CUdeviceptr), "CUdeviceptr");
// cuda.h maps the plain names to the versioned symbols the loader asks for (cuStreamDestroy ->
// cuStreamDestroy_v2, ...), so the versioned functions are the ones to compare with
#define KILN_CHECK_CU(field, symbol) \
  static_assert(sameSignature<decltype(c::Api::field), decltype(&::symbol)>(), "signature of " #symbol);
KILN_CU_FUNCTIONS(KILN_CHECK_CU)

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? std::string(argv[1]) + "/" : std::string();
  int failures = 0;
  void* nccl = dlopen((dir + "libnccl.so.2").c_str(), RTLD_NOW | RTLD_LOCAL);
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (nccl == nullptr) {
    std::printf("nccl_api_check: could not open libnccl.so.2 in '%s': %s\n", dir.c_str(), dlerror());
    return 2;
  }
#define KILN_SYM_NCCL(name)                                 \
  if (dlsym(nccl, "nccl" #name) == nullptr) {                \
    std::printf("missing symbol nccl%s\n", #name);           \
    ++failures;                                              \
  }
  KILN_NCCL_FUNCTIONS(KILN_SYM_NCCL)
#define KILN_SYM_CU(field, symbol)                           \
  if (dlsym(cuda, #symbol) == nullptr) {                     \
    std::printf("missing symbol %s\n", #symbol);             \
    ++failures;                                              \
  }
  if (cuda != nullptr) {
    KILN_CU_FUNCTIONS(KILN_SYM_CU)
  } else {
    std::printf("nccl_api_check: no libcuda.so.1 (no driver here): its symbols not checked\n");
  }
  int version = 0;
  using GetVersion = ncclResult_t (*)(int*);
  if (auto f = reinterpret_cast<GetVersion>(dlsym(nccl, "ncclGetVersion"))) f(&version);
  std::printf("nccl_api_check: NCCL %d (header %d.%d.%d): %s\n", version, NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH,
              failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
