#include "util.h"

#include <cmath>

#include "group.h"

namespace kiln::dist {

DistEnv& distEnv(Napi::Env env) { return *env.GetInstanceData<DistEnv>(); }

Napi::Error kilnError(Napi::Env env, const std::string& message) {
  DistEnv* st = env.GetInstanceData<DistEnv>();
  if (st != nullptr && !st->errorClass.IsEmpty()) {
    return Napi::Error(env, st->errorClass.New({Napi::String::New(env, message)}));
  }
  return Napi::Error::New(env, message);
}

void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn) {
  exports.Set(name, Napi::Function::New(
                        env,
                        [fn, name](const Napi::CallbackInfo& info) -> Napi::Value {
                          try {
                            return fn(info);
                          } catch (const Napi::Error&) {
                            throw;
                          } catch (const std::exception& e) {
                            throw kilnError(info.Env(), std::string(name) + ": " + e.what());
                          }
                        },
                        name));
}

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(std::fabs(d) <= 9007199254740992.0) || d != std::trunc(d)) throw Error(std::string(name) + ": expected an integer");
  return static_cast<int64_t>(d);
}

std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) throw Error(std::string(name) + ": expected a string");
  return info[i].As<Napi::String>().Utf8Value();
}

StorageView viewArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Value v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<StorageView>>().CheckTypeTag(&kStorageViewTag)) {
    throw Error(std::string(name) + ": expected a tensor view from the core addon (storageView)");
  }
  return *v.As<Napi::External<StorageView>>().Data();
}

Group& groupArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t id = intArg(info, i, "group");
  auto& groups = distEnv(info.Env()).groups;
  auto it = groups.find(static_cast<int>(id));
  if (it == groups.end()) throw Error("group: this process group has been destroyed (or never existed)");
  return *it->second;
}

}  // namespace kiln::dist
