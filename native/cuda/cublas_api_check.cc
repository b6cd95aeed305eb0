// Checks our hand-written cuBLAS / cuBLASLt declarations (cublas_api.h) against NVIDIA's real
// headers, and that every symbol the loader asks for is exported by the real libraries.
// Not part of the normal build (CI has no cuBLAS headers): tests/gpu/run.sh compiles it first on
// the GPU machine against the nvidia-cublas wheel's include/ and runs it against its lib/:
//
//   g++ -std=c++17 -I<wheel>/include -I/usr/local/cuda/include native/cuda/cublas_api_check.cc
//       -ldl -o /tmp/cublas_api_check && /tmp/cublas_api_check <wheel>/lib
//
// A failed static_assert names the declaration that is wrong; a wrong enum would otherwise be a
// silent wrong answer.
#include <cublasLt.h>
#include <cublas_v2.h>
#include <dlfcn.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cublas_api.h"

namespace b = kiln::cuda::blas;

// ---- enum values ----
#define SAME_VALUE(ours, theirs) static_assert(static_cast<long long>(ours) == static_cast<long long>(theirs), #ours " != " #theirs)
SAME_VALUE(b::STATUS_SUCCESS, CUBLAS_STATUS_SUCCESS);
SAME_VALUE(b::STATUS_NOT_INITIALIZED, CUBLAS_STATUS_NOT_INITIALIZED);
SAME_VALUE(b::STATUS_ALLOC_FAILED, CUBLAS_STATUS_ALLOC_FAILED);
SAME_VALUE(b::STATUS_INVALID_VALUE, CUBLAS_STATUS_INVALID_VALUE);
SAME_VALUE(b::STATUS_ARCH_MISMATCH, CUBLAS_STATUS_ARCH_MISMATCH);
SAME_VALUE(b::STATUS_MAPPING_ERROR, CUBLAS_STATUS_MAPPING_ERROR);
SAME_VALUE(b::STATUS_EXECUTION_FAILED, CUBLAS_STATUS_EXECUTION_FAILED);
SAME_VALUE(b::STATUS_INTERNAL_ERROR, CUBLAS_STATUS_INTERNAL_ERROR);
SAME_VALUE(b::STATUS_NOT_SUPPORTED, CUBLAS_STATUS_NOT_SUPPORTED);
SAME_VALUE(b::STATUS_LICENSE_ERROR, CUBLAS_STATUS_LICENSE_ERROR);
SAME_VALUE(b::OP_N, CUBLAS_OP_N);
SAME_VALUE(b::OP_T, CUBLAS_OP_T);
SAME_VALUE(b::OP_C, CUBLAS_OP_C);
SAME_VALUE(b::DEFAULT_MATH, CUBLAS_DEFAULT_MATH);
SAME_VALUE(b::PEDANTIC_MATH, CUBLAS_PEDANTIC_MATH);
SAME_VALUE(b::TF32_TENSOR_OP_MATH, CUBLAS_TF32_TENSOR_OP_MATH);
SAME_VALUE(b::COMPUTE_32F, CUBLAS_COMPUTE_32F);
SAME_VALUE(b::COMPUTE_32F_PEDANTIC, CUBLAS_COMPUTE_32F_PEDANTIC);
SAME_VALUE(b::COMPUTE_32F_FAST_TF32, CUBLAS_COMPUTE_32F_FAST_TF32);
SAME_VALUE(b::LT_MATMUL_DESC_COMPUTE_TYPE, CUBLASLT_MATMUL_DESC_COMPUTE_TYPE);
SAME_VALUE(b::LT_MATMUL_DESC_SCALE_TYPE, CUBLASLT_MATMUL_DESC_SCALE_TYPE);
SAME_VALUE(b::LT_MATMUL_DESC_POINTER_MODE, CUBLASLT_MATMUL_DESC_POINTER_MODE);
SAME_VALUE(b::LT_MATMUL_DESC_TRANSA, CUBLASLT_MATMUL_DESC_TRANSA);
SAME_VALUE(b::LT_MATMUL_DESC_TRANSB, CUBLASLT_MATMUL_DESC_TRANSB);
SAME_VALUE(b::LT_MATMUL_DESC_TRANSC, CUBLASLT_MATMUL_DESC_TRANSC);
SAME_VALUE(b::LT_MATMUL_DESC_EPILOGUE, CUBLASLT_MATMUL_DESC_EPILOGUE);
SAME_VALUE(b::LT_MATMUL_DESC_BIAS_POINTER, CUBLASLT_MATMUL_DESC_BIAS_POINTER);
SAME_VALUE(b::LT_MATRIX_LAYOUT_TYPE, CUBLASLT_MATRIX_LAYOUT_TYPE);
SAME_VALUE(b::LT_MATRIX_LAYOUT_ORDER, CUBLASLT_MATRIX_LAYOUT_ORDER);
SAME_VALUE(b::LT_MATRIX_LAYOUT_ROWS, CUBLASLT_MATRIX_LAYOUT_ROWS);
SAME_VALUE(b::LT_MATRIX_LAYOUT_COLS, CUBLASLT_MATRIX_LAYOUT_COLS);
SAME_VALUE(b::LT_MATRIX_LAYOUT_LD, CUBLASLT_MATRIX_LAYOUT_LD);
SAME_VALUE(b::LT_MATRIX_LAYOUT_BATCH_COUNT, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT);
SAME_VALUE(b::LT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET);
SAME_VALUE(b::LT_MATMUL_PREF_SEARCH_MODE, CUBLASLT_MATMUL_PREF_SEARCH_MODE);
SAME_VALUE(b::LT_MATMUL_PREF_MAX_WORKSPACE_BYTES, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES);
SAME_VALUE(b::LT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES);
SAME_VALUE(b::LT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES);
SAME_VALUE(b::LT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES);
SAME_VALUE(b::LT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES);
SAME_VALUE(b::LT_EPILOGUE_DEFAULT, CUBLASLT_EPILOGUE_DEFAULT);
SAME_VALUE(b::LT_EPILOGUE_RELU, CUBLASLT_EPILOGUE_RELU);
SAME_VALUE(b::LT_EPILOGUE_BIAS, CUBLASLT_EPILOGUE_BIAS);
SAME_VALUE(b::LT_EPILOGUE_RELU_BIAS, CUBLASLT_EPILOGUE_RELU_BIAS);
SAME_VALUE(b::LT_EPILOGUE_GELU, CUBLASLT_EPILOGUE_GELU);
SAME_VALUE(b::LT_EPILOGUE_GELU_BIAS, CUBLASLT_EPILOGUE_GELU_BIAS);

// Enum types we pass by value must have the size of the real ones.
static_assert(sizeof(b::Status) == sizeof(cublasStatus_t), "Status size");
static_assert(sizeof(b::Operation) == sizeof(cublasOperation_t), "Operation size");
static_assert(sizeof(b::Math) == sizeof(cublasMath_t), "Math size");
static_assert(sizeof(b::ComputeType) == sizeof(cublasComputeType_t), "ComputeType size");
static_assert(sizeof(b::LtMatmulDescAttribute) == sizeof(cublasLtMatmulDescAttributes_t), "desc attr size");
static_assert(sizeof(b::LtMatrixLayoutAttribute) == sizeof(cublasLtMatrixLayoutAttribute_t), "layout attr size");
static_assert(sizeof(b::LtMatmulPreferenceAttribute) == sizeof(cublasLtMatmulPreferenceAttributes_t), "pref attr size");

// ---- structs ----
static_assert(sizeof(b::LtMatmulAlgo) == sizeof(cublasLtMatmulAlgo_t), "cublasLtMatmulAlgo_t size");
static_assert(alignof(b::LtMatmulAlgo) == alignof(cublasLtMatmulAlgo_t), "cublasLtMatmulAlgo_t alignment");
static_assert(sizeof(b::LtMatmulHeuristicResult) == sizeof(cublasLtMatmulHeuristicResult_t), "heuristic result size");
static_assert(offsetof(b::LtMatmulHeuristicResult, algo) == offsetof(cublasLtMatmulHeuristicResult_t, algo), "algo offset");
static_assert(offsetof(b::LtMatmulHeuristicResult, workspaceSize) ==
                  offsetof(cublasLtMatmulHeuristicResult_t, workspaceSize), "workspaceSize offset");
static_assert(offsetof(b::LtMatmulHeuristicResult, state) == offsetof(cublasLtMatmulHeuristicResult_t, state), "state offset");
static_assert(offsetof(b::LtMatmulHeuristicResult, wavesCount) ==
                  offsetof(cublasLtMatmulHeuristicResult_t, wavesCount), "wavesCount offset");
// Handles and descriptors are pointers on both sides.
static_assert(std::is_pointer_v<cublasHandle_t> && std::is_pointer_v<b::Handle>, "cublasHandle_t");
static_assert(std::is_pointer_v<cublasLtHandle_t> && std::is_pointer_v<b::LtHandle>, "cublasLtHandle_t");
static_assert(std::is_pointer_v<cublasLtMatmulDesc_t>, "cublasLtMatmulDesc_t");
static_assert(std::is_pointer_v<cublasLtMatrixLayout_t>, "cublasLtMatrixLayout_t");
static_assert(std::is_pointer_v<cublasLtMatmulPreference_t>, "cublasLtMatmulPreference_t");

// ---- signatures: same arity, and each parameter ABI-equivalent ----
template <class T>
constexpr bool isScalarLike = std::is_integral_v<T> || std::is_enum_v<T>;

template <class A, class B>
constexpr bool abiSame() {
  if constexpr (std::is_pointer_v<A> || std::is_pointer_v<B>) {
    if constexpr (!(std::is_pointer_v<A> && std::is_pointer_v<B>)) {
      return false;
    } else {
      using PA = std::remove_pointer_t<A>;
      using PB = std::remove_pointer_t<B>;
      if (std::is_const_v<PA> != std::is_const_v<PB>) return false;
      using CA = std::remove_cv_t<PA>;
      using CB = std::remove_cv_t<PB>;
      // Pointers to numbers or to pointers must match exactly in what they point to.
      if constexpr (std::is_arithmetic_v<CA> || std::is_arithmetic_v<CB>) return std::is_same_v<CA, CB>;
      else if constexpr (std::is_pointer_v<CA> || std::is_pointer_v<CB>) return std::is_pointer_v<CA> && std::is_pointer_v<CB>;
      else if constexpr (std::is_void_v<CA> || std::is_void_v<CB>) return std::is_void_v<CA> && std::is_void_v<CB>;
      else return true;  // struct pointers: checked by the struct asserts above
    }
  } else if constexpr (std::is_floating_point_v<A> || std::is_floating_point_v<B>) {
    return std::is_same_v<A, B>;
  } else if constexpr (std::is_void_v<A> || std::is_void_v<B>) {
    return std::is_void_v<A> && std::is_void_v<B>;
  } else {
    return isScalarLike<A> && isScalarLike<B> && sizeof(A) == sizeof(B) &&
           std::is_signed_v<std::conditional_t<std::is_enum_v<A>, int, A>> ==
               std::is_signed_v<std::conditional_t<std::is_enum_v<B>, int, B>>;
  }
}

template <class F>
struct Fn;
template <class R, class... A>
struct Fn<R (*)(A...)> {
  using Ret = R;
  using Args = std::tuple<A...>;
};

template <class TA, class TB, size_t... I>
constexpr bool argsSame(std::index_sequence<I...>) {
  return (abiSame<std::tuple_element_t<I, TA>, std::tuple_element_t<I, TB>>() && ...);
}

template <class Ours, class Theirs>
constexpr bool sameSignature() {
  using A = Fn<Ours>;
  using B = Fn<Theirs>;
  constexpr size_t n = std::tuple_size_v<typename A::Args>;
  if constexpr (n != std::tuple_size_v<typename B::Args>) {
    return false;
  } else {
    return abiSame<typename A::Ret, typename B::Ret>() &&
           argsSame<typename A::Args, typename B::Args>(std::make_index_sequence<n>{});
  }
}

#define SAME_SIGNATURE(pfn, fn) static_assert(sameSignature<b::pfn, decltype(&fn)>(), "signature of " #fn)
SAME_SIGNATURE(PFN_cublasCreate_v2, cublasCreate_v2);
SAME_SIGNATURE(PFN_cublasDestroy_v2, cublasDestroy_v2);
SAME_SIGNATURE(PFN_cublasSetStream_v2, cublasSetStream_v2);
SAME_SIGNATURE(PFN_cublasSetMathMode, cublasSetMathMode);
SAME_SIGNATURE(PFN_cublasSetWorkspace_v2, cublasSetWorkspace_v2);
SAME_SIGNATURE(PFN_cublasSgemmStridedBatched, cublasSgemmStridedBatched);
SAME_SIGNATURE(PFN_cublasGetStatusString, cublasGetStatusString);
SAME_SIGNATURE(PFN_cublasLtCreate, cublasLtCreate);
SAME_SIGNATURE(PFN_cublasLtDestroy, cublasLtDestroy);
SAME_SIGNATURE(PFN_cublasLtGetVersion, cublasLtGetVersion);
SAME_SIGNATURE(PFN_cublasLtMatmulDescCreate, cublasLtMatmulDescCreate);
SAME_SIGNATURE(PFN_cublasLtMatmulDescDestroy, cublasLtMatmulDescDestroy);
SAME_SIGNATURE(PFN_cublasLtMatmulDescSetAttribute, cublasLtMatmulDescSetAttribute);
SAME_SIGNATURE(PFN_cublasLtMatrixLayoutCreate, cublasLtMatrixLayoutCreate);
SAME_SIGNATURE(PFN_cublasLtMatrixLayoutDestroy, cublasLtMatrixLayoutDestroy);
SAME_SIGNATURE(PFN_cublasLtMatrixLayoutSetAttribute, cublasLtMatrixLayoutSetAttribute);
SAME_SIGNATURE(PFN_cublasLtMatmulPreferenceCreate, cublasLtMatmulPreferenceCreate);
SAME_SIGNATURE(PFN_cublasLtMatmulPreferenceDestroy, cublasLtMatmulPreferenceDestroy);
SAME_SIGNATURE(PFN_cublasLtMatmulPreferenceSetAttribute, cublasLtMatmulPreferenceSetAttribute);
SAME_SIGNATURE(PFN_cublasLtMatmulAlgoGetHeuristic, cublasLtMatmulAlgoGetHeuristic);
SAME_SIGNATURE(PFN_cublasLtMatmul, cublasLtMatmul);

// ---- run time: every name the loader dlsym's is exported under that exact name ----
int main(int argc, char** argv) {
  std::string dir = argc > 1 ? std::string(argv[1]) + "/" : std::string();
  int failures = 0;
  const char* ltNames[] = {"cublasLtCreate", "cublasLtDestroy", "cublasLtGetVersion", "cublasLtMatmulDescCreate",
                           "cublasLtMatmulDescDestroy", "cublasLtMatmulDescSetAttribute",
                           "cublasLtMatrixLayoutCreate", "cublasLtMatrixLayoutDestroy",
                           "cublasLtMatrixLayoutSetAttribute", "cublasLtMatmulPreferenceCreate",
                           "cublasLtMatmulPreferenceDestroy", "cublasLtMatmulPreferenceSetAttribute",
                           "cublasLtMatmulAlgoGetHeuristic", "cublasLtMatmul"};
  const char* blasNames[] = {"cublasCreate_v2", "cublasDestroy_v2", "cublasSetStream_v2", "cublasSetMathMode",
                             "cublasSgemmStridedBatched"};
  void* lt = dlopen((dir + "libcublasLt.so.13").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lt == nullptr) lt = dlopen((dir + "libcublasLt.so.12").c_str(), RTLD_NOW | RTLD_LOCAL);
  void* bl = dlopen((dir + "libcublas.so.13").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (bl == nullptr) bl = dlopen((dir + "libcublas.so.12").c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lt == nullptr || bl == nullptr) {
    std::printf("cublas_api_check: could not open the libraries in '%s': %s\n", dir.c_str(), dlerror());
    return 2;
  }
  for (const char* n : ltNames) {
    if (dlsym(lt, n) == nullptr) {
      std::printf("cublas_api_check: libcublasLt does not export %s\n", n);
      ++failures;
    }
  }
  for (const char* n : blasNames) {
    if (dlsym(bl, n) == nullptr) {
      std::printf("cublas_api_check: libcublas does not export %s\n", n);
      ++failures;
    }
  }
  auto ver = reinterpret_cast<size_t (*)()>(dlsym(lt, "cublasLtGetVersion"));
  std::printf("cublas_api_check: %s (cuBLASLt version %zu, header CUBLAS_VERSION %d)\n",
              failures == 0 ? "all declarations and symbols match" : "FAILED", ver ? ver() : size_t{0},
              static_cast<int>(CUBLAS_VERSION));
  return failures == 0 ? 0 : 1;
}
