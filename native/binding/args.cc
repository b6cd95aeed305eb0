#include "args.h"

#include <cmath>

namespace kiln::binding {

namespace {
constexpr double kMaxSafe = 9007199254740992.0;  // 2^53: every integer up to it is a double

std::string withName(const char* name, const std::string& what) { return std::string(name) + ": " + what; }
}  // namespace

EnvState::~EnvState() {
  for (Slot& sl : slots) {
    if (!sl.used || sl.storage.ptr == nullptr) continue;
    if (Backend* be = backendFor(sl.storage.device)) {
      try {
        be->release(sl.storage.ptr, sl.storage.allocated());
      } catch (...) {
        // a device that is already shutting down: nothing left to do with its memory
      }
    }
  }
  errorClass.SuppressDestruct();  // the environment's references die with it
}

bool EnvState::splitHandle(double handle, uint32_t* slot, uint64_t* gen) {
  if (!(handle >= 0 && handle < kMaxSafe)) return false;
  const uint64_t h = static_cast<uint64_t>(handle);
  if (static_cast<double>(h) != handle) return false;  // not an integer
  *slot = static_cast<uint32_t>(h & (kSlotCount - 1));
  *gen = h / kSlotCount;
  return true;
}

Storage* EnvState::lookup(double handle) {
  uint32_t slot;
  uint64_t gen;
  if (!splitHandle(handle, &slot, &gen) || slot >= slots.size()) return nullptr;
  Slot& sl = slots[slot];
  if (!sl.used || sl.gen != gen) return nullptr;
  return &sl.storage;
}

EnvState& envState(Napi::Env env) { return *env.GetInstanceData<EnvState>(); }

namespace {

[[noreturn]] void throwKilnError(Napi::Env env, const std::string& message) {
  EnvState* st = env.GetInstanceData<EnvState>();
  if (st != nullptr && !st->errorClass.IsEmpty()) {
    Napi::Object err = st->errorClass.New({Napi::String::New(env, message)});
    throw Napi::Error(env, err);
  }
  throw Napi::Error::New(env, message);
}

}  // namespace

void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [fn, name](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return fn(info);
                          } catch (const Napi::Error&) {
                            throw;
                          } catch (const std::exception& e) {
                            throwKilnError(info.Env(), std::string(name) + ": " + e.what());
                          }
                        },
                        name));
}

// Each reader asks N-API for the value once: the getter itself reports a value of the wrong kind
// (napi_number_expected, napi_boolean_expected), so no separate napi_typeof call is needed.
int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) throw Error(withName(name, "expected an integer"));
  // check before the cast: casting a double outside int64's range is undefined behaviour
  if (!(std::fabs(d) <= kMaxSafe) || d != std::trunc(d)) {
    throw Error(withName(name, "expected an integer of magnitude at most 2^53, got " + std::to_string(d)));
  }
  return static_cast<int64_t>(d);
}

int64_t sizeArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int64_t v = intArg(info, i, name);
  if (v < 0) throw Error(withName(name, "expected a non-negative integer, got " + std::to_string(v)));
  return v;
}

double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double d;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) throw Error(withName(name, "expected a number"));
  return d;
}

bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  bool b;
  if (napi_get_value_bool(info.Env(), info[i], &b) != napi_ok) throw Error(withName(name, "expected a boolean"));
  return b;
}

Dims dimsArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsArray()) throw Error(withName(name, "expected an array of non-negative integers"));
  auto arr = v.As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n > static_cast<uint32_t>(kMaxDims)) {
    throw Error(withName(name, "at most " + std::to_string(kMaxDims) + " dims are supported, got " + std::to_string(n)));
  }
  Dims out;
  out.n = static_cast<int>(n);
  for (uint32_t k = 0; k < n; ++k) {
    napi_value e;
    double d = -1;
    if (napi_get_element(info.Env(), arr, k, &e) != napi_ok || napi_get_value_double(info.Env(), e, &d) != napi_ok) d = -1;
    if (!(d >= 0 && d <= kMaxSafe) || d != std::trunc(d)) {
      throw Error(withName(name, "expected an array of non-negative integers (entry " + std::to_string(k) + ")"));
    }
    out.v[k] = static_cast<int64_t>(d);
  }
  return out;
}

Storage& storageArg(EnvState& st, const Napi::CallbackInfo& info, size_t i, const char* name) {
  double handle;
  if (napi_get_value_double(info.Env(), info[i], &handle) != napi_ok) {
    throw Error(withName(name, "expected a tensor storage handle"));
  }
  Storage* s = st.lookup(handle);
  if (s == nullptr) throw Error(withName(name, "tensor has been disposed"));
  return *s;
}

Storage& storageArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return storageArg(envState(info.Env()), info, i, name);
}

}  // namespace kiln::binding
