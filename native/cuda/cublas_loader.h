// Finds and opens cuBLASLt (required) and cuBLAS (optional fallback) with dlopen.
//
// Search order, first hit wins (libcublasLt first, then libcublas of the same version from the
// same place): $KILN_CUBLAS_PATH (a directory); the sonames libcublasLt.so.13 / libcublas.so.13
// through the dynamic linker (LD_LIBRARY_PATH, ld.so.cache); the same for .so.12; the lib
// folders of the nvidia pip wheels (nvidia/cu13/lib, then nvidia/cublas/lib) under the Python
// package directories in $PYTHONPATH, /usr/local/lib/python3*/{dist,site}-packages,
// /usr/lib/python3*/{dist,site}-packages and ~/.local/lib/python3*/site-packages. Every place
// tried is kept in `searched` for the reason string.
#pragma once
#include <string>
#include <vector>

#include "cublas_api.h"

namespace kiln::cuda {

struct CublasLib {
  bool ok = false;
  std::string reason;                 // why not ok
  std::string ltPath, blasPath;       // what was opened (blasPath empty: no classic fallback)
  std::vector<std::string> searched;  // every candidate tried, in order

  // cuBLASLt (all required)
  blas::PFN_cublasLtCreate ltCreate = nullptr;
  blas::PFN_cublasLtDestroy ltDestroy = nullptr;
  blas::PFN_cublasLtGetVersion ltGetVersion = nullptr;
  blas::PFN_cublasLtMatmulDescCreate matmulDescCreate = nullptr;
  blas::PFN_cublasLtMatmulDescDestroy matmulDescDestroy = nullptr;
  blas::PFN_cublasLtMatmulDescSetAttribute matmulDescSetAttribute = nullptr;
  blas::PFN_cublasLtMatrixLayoutCreate layoutCreate = nullptr;
  blas::PFN_cublasLtMatrixLayoutDestroy layoutDestroy = nullptr;
  blas::PFN_cublasLtMatrixLayoutSetAttribute layoutSetAttribute = nullptr;
  blas::PFN_cublasLtMatmulPreferenceCreate prefCreate = nullptr;
  blas::PFN_cublasLtMatmulPreferenceDestroy prefDestroy = nullptr;
  blas::PFN_cublasLtMatmulPreferenceSetAttribute prefSetAttribute = nullptr;
  blas::PFN_cublasLtMatmulAlgoGetHeuristic algoGetHeuristic = nullptr;
  blas::PFN_cublasLtMatmul matmul = nullptr;

  // cuBLAS (optional: used when cuBLASLt has no algorithm for a problem)
  blas::PFN_cublasCreate_v2 create = nullptr;
  blas::PFN_cublasDestroy_v2 destroy = nullptr;
  blas::PFN_cublasSetStream_v2 setStream = nullptr;
  blas::PFN_cublasSetMathMode setMathMode = nullptr;
  blas::PFN_cublasSgemmStridedBatched sgemmStridedBatched = nullptr;

  std::string description() const;  // "libcublasLt at <path> (+ libcublas at <path>)"
};

// Loads once (thread-safe); later calls return the same result.
const CublasLib& cublasLib();

// Runs the search without keeping anything open: for diagnostics (the `findCublas` export).
CublasLib probeCublas();

}  // namespace kiln::cuda
