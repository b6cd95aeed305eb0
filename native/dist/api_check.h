// Compile-time comparison of our hand-written C API declarations with a library's real header
// (mpi_api_check.cc, nccl_api_check.cc; the cuBLAS check in native/cuda does the same): same
// arity, and each parameter and the result ABI-equivalent (an enum of ours against theirs:
// same size and signedness; pointers: same constness, same pointee for numbers).
#pragma once
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace kiln::api_check {

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
      if constexpr (std::is_arithmetic_v<CA> || std::is_arithmetic_v<CB>) return std::is_same_v<CA, CB>;
      else if constexpr (std::is_pointer_v<CA> || std::is_pointer_v<CB>) return std::is_pointer_v<CA> && std::is_pointer_v<CB>;
      else if constexpr (std::is_void_v<CA> || std::is_void_v<CB>) return std::is_void_v<CA> && std::is_void_v<CB>;
      else return true;  // struct pointers: their layouts are asserted separately
    }
  } else if constexpr (std::is_floating_point_v<A> || std::is_floating_point_v<B>) {
    return std::is_same_v<A, B>;
  } else if constexpr (std::is_void_v<A> || std::is_void_v<B>) {
    return std::is_void_v<A> && std::is_void_v<B>;
  } else if constexpr (std::is_class_v<A> || std::is_class_v<B>) {
    return sizeof(A) == sizeof(B) && alignof(A) == alignof(B);  // structs passed by value
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

}  // namespace kiln::api_check

#define KILN_SAME_VALUE(ours, theirs) \
  static_assert(static_cast<long long>(ours) == static_cast<long long>(theirs), #ours " != " #theirs)
