// Argument conversion for the binding: JS values into plain C++ values, with a KilnError that
// names the argument when a value has the wrong type. No math here.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "../include/backend.h"

namespace kiln::binding {

// One native allocation. JS holds it as a number naming a slot of the table in memory.cc.
struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  int device = 0;
  DType dtype = DType::F32;
  int64_t numel = 0;
  bool released = false;
};

// A storage plus an element offset, resolved to a device pointer.
struct Buf {
  Storage* storage;
  char* base;  // storage->ptr advanced by the offset
  template <class T>
  T* as() const { return reinterpret_cast<T*>(base); }
};

// The JS error class native errors are raised as (set once by the loader).
struct ErrorClassHolder {
  Napi::FunctionReference ctor;
};
const napi_type_tag& storageTag();

// Registers fn as exports[name]; a kiln::Error (or std::exception) thrown inside becomes a JS
// KilnError carrying the JS stack of the call.
using NativeFn = Napi::Value (*)(const Napi::CallbackInfo& info);
void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn);

// Throws a JS KilnError (the class registered by setErrorClass) with this message.
[[noreturn]] void throwKilnError(Napi::Env env, const std::string& message);

// The live storage a JS handle names, or nullptr (not a handle, or already released).
Storage* lookupStorage(double handle);
Storage* storageArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// Reads info[i] (handle) and info[i + 1] (element offset), checking that `count` elements from
// the offset lie inside the storage.
Buf bufArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t count);
// bufArg, or a Buf with no storage when info[i] is null or undefined.
Buf optBufArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t count);
// Throws a KilnError naming the argument unless b holds dt.
void requireDtype(Napi::Env env, const Buf& b, DType dt, const char* name);
int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name);
double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name);
bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A JS array of at most kMaxDims integers; returns its length.
int dimsArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out);

// All buffers of one op live on the same device; returns that device's backend.
Backend& backendOf(Napi::Env env, std::initializer_list<const Buf*> bufs);

}  // namespace kiln::binding
