// The binding's per-environment state and its argument readers: JS values into plain C++ values,
// with an error that names the argument when a value is not what it should be. No math here.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../include/backend.h"

namespace kiln::binding {

// One native allocation. JS holds it as a number naming a slot of its environment's table.
struct Storage {
  void* ptr = nullptr;
  size_t bytes = 0;
  int device = 0;
  DType dtype = DType::F32;
  int64_t numel = 0;
  // An empty tensor still gets a (4-byte) block, so its pointer is valid; it counts as 0 bytes.
  size_t allocated() const { return bytes == 0 ? 4 : bytes; }
};

struct DeviceCounters {
  int64_t bytes = 0, count = 0, peakBytes = 0;
};

// Everything the binding keeps, per Node environment (the main thread and each worker thread
// has its own: N-API instance data), so worker threads never share a table. The backends and
// their caches are process-wide and thread-safe.
struct EnvState {
  // Storages live in a slot table; JS holds slot + generation * 2^24, so a freed (or foreign)
  // handle is detected instead of reaching freed memory.
  struct Slot {
    Storage storage;
    uint32_t gen = 0;
    bool used = false;
  };
  static constexpr double kSlotSpan = 16777216.0;  // 2^24
  std::vector<Slot> slots;
  std::vector<uint32_t> freeSlots;
  DeviceCounters counters[kMaxDevices];
  int64_t reportedToV8[kMaxDevices] = {};  // each backend's systemBytes() as this env last told V8
  Napi::FunctionReference errorClass;  // native errors are raised as this class (KilnError)

  ~EnvState();  // the environment is going away (a worker ended): its storages are released
  Storage* lookup(double handle);
};

EnvState& envState(Napi::Env env);

// Registers fn as exports[name]. A kiln::Error (or any std::exception) thrown inside becomes a JS
// KilnError "name: message" carrying the JS stack of the call.
using NativeFn = Napi::Value (*)(const Napi::CallbackInfo& info);
void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn);

// Readers: each throws kiln::Error("<name>: expected ...") for a value of the wrong kind.
int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name);    // |v| <= 2^53
int64_t sizeArg(const Napi::CallbackInfo& info, size_t i, const char* name);   // 0 <= v <= 2^53
double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name);
bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A JS array of at most kMaxDims integers >= 0.
Dims dimsArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// The live storage a handle names; throws when it is not a handle or has been released.
Storage& storageArg(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace kiln::binding
