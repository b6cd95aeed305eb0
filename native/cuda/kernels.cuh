// Launchers for the CUDA kernels, one per op of ops.def, with the same name and argument struct
// as the Backend method, plus the device (its stream, its error word, its cuBLAS handles). Every
// launcher checks its launch (common.h). Index-reading kernels write a DeviceErrorCode into the
// device's error word when an index is out of range (the element is then skipped); it is raised
// at the next host sync.
#pragma once
#include <cuda_runtime_api.h>
#include <library_types.h>  // cudaDataType_t

#include <cstdint>

#include "../include/backend.h"
#include "context.h"

namespace kiln::cuda {

// Strided view of up to kMaxDims dims, passed to kernels by value.
struct Strided {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
};

// elementwise.cu, layout.cu, reduce.cu, softmax_xent.cu, lstm.cu, gru.cu, gemm.cu, index.cu,
// conv.cu, pool.cu, random.cu, optim.cu
#define KILN_OP(name, fields) void name(DeviceContext& dev, const args::name& a);
#define KILN_COMPOSITE(name, fields)
#include "../include/ops.def"
#include "../include/ops_undef.h"

// gemm.cu: C (float32) = alpha op(A) op(B) + beta C through cuBLASLt with A and B of abType
// (CUDA_R_32F, or CUDA_R_16BF for gemmBf16's packed copies); false when it has no algorithm.
bool gemmLt(DeviceContext& dev, const args::gemm& g, cudaDataType_t abType);

}  // namespace kiln::cuda
