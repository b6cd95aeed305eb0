#include "args.h"

namespace kiln::binding {

namespace {
const napi_type_tag kStorageTag = {0x6b696c6e73746f72ULL, 0x6167652d68616e64ULL};
}

const napi_type_tag& storageTag() { return kStorageTag; }

void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [fn](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return fn(info);
                          } catch (const Napi::Error&) {
                            throw;
                          } catch (const std::exception& e) {
                            throwKilnError(info.Env(), e.what());
                          }
                        },
                        name));
}

void throwKilnError(Napi::Env env, const std::string& message) {
  auto* holder = env.GetInstanceData<ErrorClassHolder>();
  if (holder != nullptr && !holder->ctor.IsEmpty()) {
    Napi::Object err = holder->ctor.New({Napi::String::New(env, message)});
    throw Napi::Error(env, err);
  }
  throw Napi::Error::New(env, message);
}

Storage* storageArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (!v.IsNumber()) throwKilnError(env, std::string(name) + ": expected a tensor storage handle");
  Storage* s = lookupStorage(v.As<Napi::Number>().DoubleValue());
  if (s == nullptr || s->released) throwKilnError(env, std::string(name) + ": tensor has been disposed");
  return s;
}

Buf bufArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t count) {
  Storage* s = storageArg(info, i, name);
  int64_t off = intArg(info, i + 1, name);
  if (off < 0 || count < 0 || off + count > s->numel) {
    throwKilnError(info.Env(), std::string(name) + ": range [" + std::to_string(off) + ", " +
                                   std::to_string(off + count) + ") is outside its storage of " +
                                   std::to_string(s->numel) + " elements");
  }
  return Buf{s, static_cast<char*>(s->ptr) + off * static_cast<int64_t>(dtypeSize(s->dtype))};
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throwKilnError(info.Env(), std::string(name) + ": expected an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == static_cast<double>(static_cast<int64_t>(d)))) {
    throwKilnError(info.Env(), std::string(name) + ": expected an integer, got " + std::to_string(d));
  }
  return static_cast<int64_t>(d);
}

double numberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throwKilnError(info.Env(), std::string(name) + ": expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool boolArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) throwKilnError(info.Env(), std::string(name) + ": expected a boolean");
  return v.As<Napi::Boolean>().Value();
}

int dimsArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* out) {
  Napi::Value v = info[i];
  if (!v.IsArray()) throwKilnError(info.Env(), std::string(name) + ": expected an array of integers");
  auto arr = v.As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n > static_cast<uint32_t>(kMaxDims)) {
    throwKilnError(info.Env(), std::string(name) + ": at most " + std::to_string(kMaxDims) +
                                   " dims are supported, got " + std::to_string(n));
  }
  for (uint32_t k = 0; k < n; ++k) {
    Napi::Value e = arr.Get(k);
    if (!e.IsNumber()) throwKilnError(info.Env(), std::string(name) + ": expected an array of integers");
    out[k] = static_cast<int64_t>(e.As<Napi::Number>().DoubleValue());
  }
  return static_cast<int>(n);
}

void requireDtype(Napi::Env env, const Buf& b, DType dt, const char* name) {
  if (b.storage->dtype != dt) {
    throwKilnError(env, std::string(name) + ": expected dtype " + (dt == DType::F32 ? "float32" : "int32"));
  }
}

// Optional buffer: null/undefined handle gives a Buf with no storage.
Buf optBufArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t count) {
  if (info[i].IsNull() || info[i].IsUndefined()) return Buf{nullptr, nullptr};
  return bufArg(info, i, name, count);
}

Backend& backendOf(Napi::Env env, std::initializer_list<const Buf*> bufs) {
  int device = -1;
  for (const Buf* b : bufs) {
    if (b == nullptr || b->storage == nullptr) continue;
    if (device < 0) device = b->storage->device;
    else if (device != b->storage->device) {
      throwKilnError(env, "all tensors of an op must be on the same device");
    }
  }
  Backend* be = backendFor(device < 0 ? kCpuDevice : device);
  if (be == nullptr) throwKilnError(env, "no backend is registered for device " + std::to_string(device));
  return *be;
}

}  // namespace kiln::binding
