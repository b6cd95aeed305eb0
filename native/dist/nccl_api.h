// Our declarations of the part of NCCL's API (nccl.h, NCCL 2.x) and of the CUDA driver API
// (cuda.h) that Kiln uses, so kiln_dist.node compiles without either and opens libnccl.so.2 and
// libcuda.so.1 with dlopen when an NCCL group is asked for. nccl_api_check.cc static_asserts them
// against the real headers (tests/gpu/run.sh compiles it on a GPU machine).
#pragma once
#include <cstddef>

struct ncclComm;     // nccl.h: typedef struct ncclComm* ncclComm_t
struct CUstream_st;  // cudaStream_t / CUstream
struct CUctx_st;     // CUcontext
struct CUevent_st;   // CUevent

namespace kiln::dist::nccl {

constexpr int UNIQUE_ID_BYTES = 128;
struct UniqueId {
  char internal[UNIQUE_ID_BYTES];
};
using Comm = ncclComm*;
using Stream = CUstream_st*;

enum Result : int { Success = 0, UnhandledCudaError = 1, SystemError = 2, InternalError = 3, InvalidArgument = 4,
                    InvalidUsage = 5, RemoteError = 6, InProgress = 7 };
enum DataType : int { Int32 = 2, Float32 = 7 };
enum RedOp : int { Sum = 0, Prod = 1, Max = 2, Min = 3, Avg = 4 };

struct Api {
  Result (*GetVersion)(int*);
  Result (*GetUniqueId)(UniqueId*);
  Result (*CommInitRank)(Comm*, int, UniqueId, int);
  Result (*CommDestroy)(Comm);
  Result (*CommAbort)(Comm);
  Result (*CommGetAsyncError)(Comm, Result*);
  const char* (*GetErrorString)(Result);
  Result (*AllReduce)(const void*, void*, size_t, DataType, RedOp, Comm, Stream);
  Result (*Broadcast)(const void*, void*, size_t, DataType, int, Comm, Stream);
  Result (*AllGather)(const void*, void*, size_t, DataType, Comm, Stream);
  Result (*ReduceScatter)(const void*, void*, size_t, DataType, RedOp, Comm, Stream);
  Result (*Send)(const void*, size_t, DataType, int, Comm, Stream);
  Result (*Recv)(void*, size_t, DataType, int, Comm, Stream);
};
#define KILN_NCCL_FUNCTIONS(X)                                                                          \
  X(GetVersion) X(GetUniqueId) X(CommInitRank) X(CommDestroy) X(CommAbort) X(CommGetAsyncError)         \
  X(GetErrorString) X(AllReduce) X(Broadcast) X(AllGather) X(ReduceScatter) X(Send) X(Recv)

}  // namespace kiln::dist::nccl

namespace kiln::dist::cu {

using Result = int;  // CUresult
constexpr Result SUCCESS = 0;
constexpr Result ERROR_NOT_READY = 600;
constexpr unsigned STREAM_NON_BLOCKING = 1;
constexpr unsigned EVENT_DISABLE_TIMING = 2;
using Device = int;
using Context = CUctx_st*;
using Stream = CUstream_st*;
using Event = CUevent_st*;
using DevicePtr = unsigned long long;  // CUdeviceptr

struct Api {
  Result (*Init)(unsigned);
  Result (*DeviceGet)(Device*, int);
  Result (*DevicePrimaryCtxRetain)(Context*, Device);
  Result (*DevicePrimaryCtxRelease)(Device);
  Result (*CtxSetCurrent)(Context);
  Result (*StreamCreate)(Stream*, unsigned);
  Result (*StreamDestroy)(Stream);
  Result (*StreamQuery)(Stream);
  Result (*EventCreate)(Event*, unsigned);
  Result (*EventRecord)(Event, Stream);
  Result (*EventQuery)(Event);
  Result (*EventDestroy)(Event);
  Result (*MemAlloc)(DevicePtr*, size_t);
  Result (*MemFree)(DevicePtr);
  Result (*GetErrorString)(Result, const char**);
};
// field, exported symbol (the driver exports versioned names)
#define KILN_CU_FUNCTIONS(X)                                                                              \
  X(Init, cuInit) X(DeviceGet, cuDeviceGet) X(DevicePrimaryCtxRetain, cuDevicePrimaryCtxRetain)              \
  X(DevicePrimaryCtxRelease, cuDevicePrimaryCtxRelease_v2) X(CtxSetCurrent, cuCtxSetCurrent)                 \
  X(StreamCreate, cuStreamCreate) X(StreamDestroy, cuStreamDestroy_v2) X(StreamQuery, cuStreamQuery)         \
  X(EventCreate, cuEventCreate) X(EventRecord, cuEventRecord) X(EventQuery, cuEventQuery)                    \
  X(EventDestroy, cuEventDestroy_v2) X(MemAlloc, cuMemAlloc_v2) X(MemFree, cuMemFree_v2)                     \
  X(GetErrorString, cuGetErrorString)

}  // namespace kiln::dist::cu
