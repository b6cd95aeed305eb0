// Our own declarations of the slice of cuBLAS / cuBLASLt that Kiln uses. cuBLAS is loaded with
// dlopen at start (cublas_loader.cc), so the addon builds where cuBLAS is absent (CI has nvcc but
// no cuBLAS). Every value and signature here is checked against NVIDIA's real headers by
// cublas_api_check.cc, compiled on a GPU machine where the nvidia-cublas wheel carries them:
// a wrong enum would otherwise be a silent wrong answer.
#pragma once
#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>  // cudaStream_t
#include <library_types.h>     // cudaDataType (part of the CUDA runtime headers)

namespace kiln::cuda::blas {

// ---- cublas_api.h ----
enum Status : int {
  STATUS_SUCCESS = 0,
  STATUS_NOT_INITIALIZED = 1,
  STATUS_ALLOC_FAILED = 3,
  STATUS_INVALID_VALUE = 7,
  STATUS_ARCH_MISMATCH = 8,
  STATUS_MAPPING_ERROR = 11,
  STATUS_EXECUTION_FAILED = 13,
  STATUS_INTERNAL_ERROR = 14,
  STATUS_NOT_SUPPORTED = 15,
  STATUS_LICENSE_ERROR = 16,
};

enum Operation : int { OP_N = 0, OP_T = 1, OP_C = 2 };

enum Math : int {
  DEFAULT_MATH = 0,
  PEDANTIC_MATH = 2,
  TF32_TENSOR_OP_MATH = 3,
};

enum ComputeType : int {
  COMPUTE_32F = 68,
  COMPUTE_32F_PEDANTIC = 69,
  COMPUTE_32F_FAST_TF32 = 77,
};

struct HandleOpaque;
using Handle = HandleOpaque*;

// ---- cublasLt.h ----
struct LtHandleOpaque;
using LtHandle = LtHandleOpaque*;

// Descriptors are only ever created by cuBLASLt and passed back to it: pointers to incomplete types.
struct LtMatmulDescOpaque;
using LtMatmulDesc = LtMatmulDescOpaque*;
struct LtMatrixLayoutOpaque;
using LtMatrixLayout = LtMatrixLayoutOpaque*;
struct LtMatmulPreferenceOpaque;
using LtMatmulPreference = LtMatmulPreferenceOpaque*;

struct LtMatmulAlgo { uint64_t data[8]; };

struct LtMatmulHeuristicResult {
  LtMatmulAlgo algo;
  size_t workspaceSize;
  Status state;
  float wavesCount;
  int reserved[4];
};

enum LtMatmulDescAttribute : int {
  LT_MATMUL_DESC_COMPUTE_TYPE = 0,
  LT_MATMUL_DESC_SCALE_TYPE = 1,
  LT_MATMUL_DESC_POINTER_MODE = 2,
  LT_MATMUL_DESC_TRANSA = 3,
  LT_MATMUL_DESC_TRANSB = 4,
  LT_MATMUL_DESC_TRANSC = 5,
  LT_MATMUL_DESC_EPILOGUE = 7,
  LT_MATMUL_DESC_BIAS_POINTER = 8,
};

enum LtMatrixLayoutAttribute : int {
  LT_MATRIX_LAYOUT_TYPE = 0,
  LT_MATRIX_LAYOUT_ORDER = 1,
  LT_MATRIX_LAYOUT_ROWS = 2,
  LT_MATRIX_LAYOUT_COLS = 3,
  LT_MATRIX_LAYOUT_LD = 4,
  LT_MATRIX_LAYOUT_BATCH_COUNT = 5,           // int32_t
  LT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = 6,  // int64_t, in elements
};

enum LtMatmulPreferenceAttribute : int {
  LT_MATMUL_PREF_SEARCH_MODE = 0,
  LT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,  // uint64_t
  LT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES = 5,  // uint32_t, default 256
  LT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES = 6,
  LT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES = 7,
  LT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES = 8,
};

enum LtEpilogue : int {
  LT_EPILOGUE_DEFAULT = 1,
  LT_EPILOGUE_RELU = 2,
  LT_EPILOGUE_BIAS = 4,
  LT_EPILOGUE_RELU_BIAS = 6,
  LT_EPILOGUE_GELU = 32,
  LT_EPILOGUE_GELU_BIAS = 36,
};

// ---- function pointer types (the exported symbol names are in the loader) ----
using PFN_cublasCreate_v2 = Status (*)(Handle*);
using PFN_cublasDestroy_v2 = Status (*)(Handle);
using PFN_cublasSetStream_v2 = Status (*)(Handle, cudaStream_t);
using PFN_cublasSetMathMode = Status (*)(Handle, Math);
using PFN_cublasSetWorkspace_v2 = Status (*)(Handle, void*, size_t);
// exported as cublasSgemmStridedBatched (there is no _v2 name for it)
using PFN_cublasSgemmStridedBatched = Status (*)(Handle, Operation, Operation, int m, int n, int k,
                                                 const float* alpha, const float* A, int lda,
                                                 long long strideA, const float* B, int ldb,
                                                 long long strideB, const float* beta, float* C,
                                                 int ldc, long long strideC, int batchCount);
using PFN_cublasGetStatusString = const char* (*)(Status);

using PFN_cublasLtCreate = Status (*)(LtHandle*);
using PFN_cublasLtDestroy = Status (*)(LtHandle);
using PFN_cublasLtGetVersion = size_t (*)();
using PFN_cublasLtMatmulDescCreate = Status (*)(LtMatmulDesc*, ComputeType, cudaDataType);
using PFN_cublasLtMatmulDescDestroy = Status (*)(LtMatmulDesc);
using PFN_cublasLtMatmulDescSetAttribute = Status (*)(LtMatmulDesc, LtMatmulDescAttribute,
                                                      const void*, size_t);
using PFN_cublasLtMatrixLayoutCreate = Status (*)(LtMatrixLayout*, cudaDataType, uint64_t rows,
                                                  uint64_t cols, int64_t ld);
using PFN_cublasLtMatrixLayoutDestroy = Status (*)(LtMatrixLayout);
using PFN_cublasLtMatrixLayoutSetAttribute = Status (*)(LtMatrixLayout, LtMatrixLayoutAttribute,
                                                        const void*, size_t);
using PFN_cublasLtMatmulPreferenceCreate = Status (*)(LtMatmulPreference*);
using PFN_cublasLtMatmulPreferenceDestroy = Status (*)(LtMatmulPreference);
using PFN_cublasLtMatmulPreferenceSetAttribute = Status (*)(LtMatmulPreference,
                                                            LtMatmulPreferenceAttribute,
                                                            const void*, size_t);
using PFN_cublasLtMatmulAlgoGetHeuristic = Status (*)(LtHandle, LtMatmulDesc, LtMatrixLayout Adesc,
                                                      LtMatrixLayout Bdesc, LtMatrixLayout Cdesc,
                                                      LtMatrixLayout Ddesc, LtMatmulPreference,
                                                      int requestedAlgoCount,
                                                      LtMatmulHeuristicResult results[],
                                                      int* returnAlgoCount);
using PFN_cublasLtMatmul = Status (*)(LtHandle, LtMatmulDesc, const void* alpha, const void* A,
                                      LtMatrixLayout Adesc, const void* B, LtMatrixLayout Bdesc,
                                      const void* beta, const void* C, LtMatrixLayout Cdesc,
                                      void* D, LtMatrixLayout Ddesc, const LtMatmulAlgo* algo,
                                      void* workspace, size_t workspaceSizeInBytes,
                                      cudaStream_t stream);

}  // namespace kiln::cuda::blas
