// The core addon's exports: registration only. Memory exports live in memory.cc, the ops of
// ops.def in ops.cc (the recurrences' loops in native/composite/); argument conversion in args.cc.
#include <napi.h>

#include "../cpu/isa.h"
#include "../cpu/thread_pool.h"
#include "args.h"

namespace kiln::binding {

void registerMemory(Napi::Env env, Napi::Object exports);
void registerOps(Napi::Env env, Napi::Object exports);
void registerExternal(Napi::Env env, Napi::Object exports);  // external.cc: storageView for native/dist

namespace {

// setErrorClass(ctor): native errors are raised as instances of ctor (KilnError).
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Error("ctor: expected a class");
  envState(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// cpuInfo() -> {isa, detectedIsa, reason, threads, bf16}
Napi::Value CpuInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto& c = cpu::isaChoice();
  auto o = Napi::Object::New(env);
  o.Set("isa", c.table->isa);
  o.Set("detectedIsa", c.detected);
  o.Set("reason", c.reason);
  o.Set("threads", cpu::numThreads());
  o.Set("bf16", c.bf16);
  return o;
}

// registerCudaBackend(external pointer from the CUDA addon, device id)
Napi::Value RegisterCudaBackend(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) throw Error("backend: expected the CUDA addon's backend handle");
  auto* be = info[0].As<Napi::External<Backend>>().Data();
  int64_t device = intArg(info, 1, "device");
  if (device <= kCpuDevice || device >= kMaxDevices) throw Error("device: out of range");
  registerBackend(static_cast<int>(device), be);
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new EnvState());  // one per environment: main thread, each worker
  exportFn(env, exports, "setErrorClass", SetErrorClass);
  exportFn(env, exports, "cpuInfo", CpuInfo);
  exportFn(env, exports, "registerCudaBackend", RegisterCudaBackend);
  registerMemory(env, exports);
  registerOps(env, exports);
  registerExternal(env, exports);
  return exports;
}

}  // namespace kiln::binding

static Napi::Object InitKiln(Napi::Env env, Napi::Object exports) { return kiln::binding::Init(env, exports); }

NODE_API_MODULE(kiln, InitKiln)
