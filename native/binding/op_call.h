// One call of an op of ops.def from JS. ops.cc expands each op's field list four times over an
// OpCall: pass 0 counts the JS arguments, pass 1 reads the scalar fields, pass 2 the buffers
// (whose extents are expressions over the scalars), pass 3 runs the checks (CHECK, index ranges,
// aliasing). finish() then refuses overlapping outputs and mixed devices and returns the backend
// to run on.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "args.h"
#include "extent.h"

namespace kiln::binding {

enum Pass { kCount = 0, kScalars, kBuffers, kChecks, kPasses };

class OpCall {
 public:
  // op: the op's name; bf16Ok: whether its kernels take bfloat16 buffers.
  OpCall(const Napi::CallbackInfo& info, const char* op) : info_(info), bf16Ok_(takesBf16(op)) {}

  // The ops whose CPU kernels read or write bfloat16 storage; every other kernel would read its
  // 2-byte elements as something else, so a bfloat16 buffer is refused before it runs.
  static bool takesBf16(const char* op) {
    static const char* const kOps[] = {"fill", "cast", "stridedCopy", "copyStrided", "indexSelect", "gather", "gemmBf16"};
    for (const char* o : kOps)
      if (std::string(o) == op) return true;
    return false;
  }

  void begin(int pass) {
    if (pass == kScalars && info_.Length() != arg_) {
      throw Error("expected " + std::to_string(arg_) + " arguments, got " + std::to_string(info_.Length()));
    }
    pass_ = pass;
    arg_ = 0;
  }

  // ---- scalar fields (one JS argument; CONV three) ----
  template <class E>
  void enumField(E& f, const char* name) {
    if (at(kScalars, 1)) {
      int64_t v = intArg(info_, arg_ - 1, name);
      if (v < 0 || v >= static_cast<int64_t>(E::Count)) throw Error(std::string(name) + ": unknown op code " + std::to_string(v));
      f = static_cast<E>(v);
    }
  }
  void size(int64_t& f, const char* name) {
    if (at(kScalars, 1)) f = sizeArg(info_, arg_ - 1, name);
  }
  void i32(int32_t& f, const char* name) {
    if (at(kScalars, 1)) {
      int64_t v = intArg(info_, arg_ - 1, name);
      if (v < INT32_MIN || v > INT32_MAX) throw Error(std::string(name) + ": expected an int32, got " + std::to_string(v));
      f = static_cast<int32_t>(v);
    }
  }
  void u64(uint64_t& f, const char* name) {
    if (at(kScalars, 1)) f = static_cast<uint64_t>(sizeArg(info_, arg_ - 1, name));
  }
  void f32(float& f, const char* name) {
    if (at(kScalars, 1)) f = static_cast<float>(numberArg(info_, arg_ - 1, name));
  }
  void f64(double& f, const char* name) {
    if (at(kScalars, 1)) f = numberArg(info_, arg_ - 1, name);
  }
  void boolean(bool& f, const char* name) {
    if (at(kScalars, 1)) f = boolArg(info_, arg_ - 1, name);
  }
  void dims(Dims& f, const char* name) {
    if (at(kScalars, 1)) f = dimsArg(info_, arg_ - 1, name);
  }
  void conv(ConvGeom& g, const char* name);

  // ---- buffers (two JS arguments: storage handle, element offset) ----
  template <class T, class Ext>
  void in(const T*& p, const char* name, const Ext& extent, bool optional) {
    if (at(kBuffers, 2)) p = static_cast<const T*>(buffer(name, extent(), optional, false, dtypeOf<T>()));
  }
  template <class T, class Ext>
  void out(T*& p, const char* name, const Ext& extent, bool optional) {
    if (at(kBuffers, 2)) p = static_cast<T*>(buffer(name, extent(), optional, true, dtypeOf<T>()));
  }
  // optional: the handle may be null (the pointer is then null and the type float32)
  template <class Ext>
  void inAny(const void*& p, DType& type, const char* name, const Ext& extent, bool optional = false) {
    if (at(kBuffers, 2)) p = buffer(name, extent(), optional, false, -1, &type);
  }
  template <class Ext>
  void outAny(void*& p, DType& type, const char* name, const Ext& extent) {
    if (at(kBuffers, 2)) p = buffer(name, extent(), false, true, -1, &type);
  }
  // int32 indices in [0, bound), or equal to except when hasExcept.
  template <class C, class B, class X>
  void index(const int32_t*& p, const char* name, const C& count, const B& bound, bool hasExcept, const X& except) {
    arg_ += 2;
    if (pass_ == kBuffers) p = static_cast<const int32_t*>(buffer(name, count(), false, false, int(DType::I32)));
    if (pass_ == kChecks) checkIndices(name, bound(), hasExcept, static_cast<int64_t>(except()));
  }

  // ---- checks ----
  template <class F>
  void alias(const char* out, const char* in, const F& layoutOk) {
    if (pass_ == kChecks && nAliases_ < kMaxAliases) aliases_[nAliases_++] = {out, in, static_cast<bool>(layoutOk())};
  }
  template <class F>
  void check(const F& cond, const char* message) {
    if (pass_ == kChecks && !cond()) throw Error(message);
  }

  // After the passes: no output overlaps another buffer (but for a declared alias), every buffer
  // is on one device; returns that device's backend.
  Backend& finish();

 private:
  struct BufferSeen {
    const char* name;
    const Storage* storage;
    int64_t offset, extent;
    bool out;
    const void* ptr;
  };
  struct AliasSeen {
    const char* out;
    const char* in;
    bool layoutOk;
  };
  static constexpr int kMaxBuffers = 16, kMaxAliases = 4;

  // Every pass walks every field, so argument positions stay in step: advances past a field's
  // n JS arguments and says whether this is the pass that handles it.
  bool at(int pass, size_t n) {
    arg_ += n;
    return pass_ == pass;
  }
  template <class T>
  static int dtypeOf();
  // Reads the buffer at arg_ - 2: checks its range, dtype (want >= 0) and records it.
  void* buffer(const char* name, int64_t extent, bool optional, bool out, int want, DType* type = nullptr);
  void checkIndices(const char* name, int64_t bound, bool hasExcept, int64_t except);
  const BufferSeen* find(const char* name) const;

  const Napi::CallbackInfo& info_;
  bool bf16Ok_;
  EnvState* env_ = nullptr;  // looked up once, at the first buffer
  int pass_ = kScalars;
  size_t arg_ = 0;
  BufferSeen bufs_[kMaxBuffers];
  int nBufs_ = 0;
  AliasSeen aliases_[kMaxAliases];
  int nAliases_ = 0;
};

template <>
inline int OpCall::dtypeOf<float>() { return int(DType::F32); }
template <>
inline int OpCall::dtypeOf<int32_t>() { return int(DType::I32); }
template <>
inline int OpCall::dtypeOf<double>() { return int(DType::F64); }

}  // namespace kiln::binding
