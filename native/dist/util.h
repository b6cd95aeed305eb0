// The communication addon's N-API helpers: its per-environment state, the KilnError class, the
// export wrapper and the argument readers (JS values into plain C++ values, with an error that
// names the argument). No communication here.
#pragma once
#include <napi.h>

#include <map>
#include <memory>
#include <string>

#include "../include/storage_view.h"
#include "engine.h"

namespace kiln::dist {

class Group;
class StoreServer;
class StoreClient;

struct DistEnv {
  Napi::FunctionReference errorClass;
  std::map<int, Group*> groups;  // live groups by id; a group deletes itself once released
  int nextGroup = 0;
  std::map<int, std::unique_ptr<StoreServer>> servers;
  std::map<int, std::shared_ptr<StoreClient>> clients;
  int nextStore = 0;
};

DistEnv& distEnv(Napi::Env env);
Napi::Error kilnError(Napi::Env env, const std::string& message);

using NativeFn = Napi::Value (*)(const Napi::CallbackInfo& info);
// exports[name] = fn; a kiln::Error thrown inside becomes a KilnError "name: message".
void exportFn(Napi::Env env, Napi::Object exports, const char* name, NativeFn fn);

int64_t intArg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string stringArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A tensor range from the core's storageView (a type-tagged External); copied at once.
StorageView viewArg(const Napi::CallbackInfo& info, size_t i, const char* name);
Group& groupArg(const Napi::CallbackInfo& info, size_t i);

}  // namespace kiln::dist
