// The CUDA addon's exports (build-cuda/Release/kiln_cuda.node). It does no math: it reports
// whether CUDA can be used and why not, and hands each device's kiln::Backend to the core addon
// (core.registerCudaBackend(addon.backend(i), 1 + i)).
//
//   init() -> {ok, reason, deviceCount, devices: [{name, totalMemory, computeCapability}],
//              cublas: string | null, searched: string[], driverVersion, runtimeVersion}
//   backend(index) -> External wrapping a kiln::Backend* (throws unless init().ok)
//   setMatmulPrecision('highest' | 'high' | 'medium'), getMatmulPrecision()
//   findCublas() -> {ok, path, reason, searched}: the cuBLAS search alone (works without a GPU)
#include <cuda_runtime_api.h>
#include <napi.h>

#include <mutex>
#include <string>
#include <vector>

#include "context.h"
#include "cublas_loader.h"
#include "cuda_backend.h"

namespace kiln::cuda {
namespace {

struct DeviceInfo {
  std::string name;
  double totalMemory = 0;
  int major = 0, minor = 0;
};

struct InitResult {
  bool ok = false;
  std::string reason;
  int deviceCount = 0;
  std::vector<DeviceInfo> devices;
  std::string cublas;  // empty: not found / not searched
  std::vector<std::string> searched;
  int driverVersion = 0, runtimeVersion = 0;
};

std::string versionString(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string errText(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

InitResult runInit() {
  InitResult r;
  cudaDriverGetVersion(&r.driverVersion);  // 0 when no driver is installed
  cudaRuntimeGetVersion(&r.runtimeVersion);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (e == cudaErrorInsufficientDriver && r.driverVersion == 0) {
      r.reason = "no CUDA driver found (" + errText(e) + "; libcuda.so.1 could not be loaded)";
    } else if (e == cudaErrorInsufficientDriver) {
      r.reason = "the CUDA driver is too old (" + errText(e) + "; driver supports CUDA " +
                 versionString(r.driverVersion) + ", this build needs " + versionString(r.runtimeVersion) + ")";
    } else if (e == cudaErrorNoDevice) {
      r.reason = "no CUDA device found (" + errText(e) + ")";
    } else {
      r.reason = "CUDA is not usable (" + errText(e) + ")";
    }
    return r;
  }
  if (count == 0) {
    r.reason = "no CUDA device found (cudaGetDeviceCount returned 0)";
    return r;
  }
  r.deviceCount = count;
  bool anySupported = false;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    DeviceInfo d;
    if (cudaGetDeviceProperties(&p, i) == cudaSuccess) {
      d.name = p.name;
      d.totalMemory = static_cast<double>(p.totalGlobalMem);
      d.major = p.major;
      d.minor = p.minor;
      if (p.major >= 9) anySupported = true;
    } else {
      cudaGetLastError();
      d.name = "unknown";
    }
    r.devices.push_back(d);
  }
  if (!anySupported) {
    r.reason = "no CUDA device with compute capability 9.0 or newer (this build carries sm_90 code and "
               "compute_90 PTX only)";
    return r;
  }
  const CublasLib& L = cublasLib();
  r.searched = L.searched;
  if (!L.ok) {
    r.reason = L.reason;
    return r;
  }
  r.cublas = L.description();
  r.ok = true;
  r.reason = "CUDA " + versionString(r.runtimeVersion) + " runtime, driver " + versionString(r.driverVersion) +
             ", " + std::to_string(count) + " device(s), " + r.cublas;
  return r;
}

const InitResult& initResult() {
  static std::once_flag once;
  static InitResult* r = nullptr;
  std::call_once(once, [] { r = new InitResult(runInit()); });
  return *r;
}

Napi::Array strings(Napi::Env env, const std::vector<std::string>& v) {
  auto a = Napi::Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), v[i]);
  return a;
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const InitResult& r = initResult();
  auto o = Napi::Object::New(env);
  o.Set("ok", r.ok);
  o.Set("reason", r.reason);
  o.Set("deviceCount", r.deviceCount);
  auto devs = Napi::Array::New(env, r.devices.size());
  for (size_t i = 0; i < r.devices.size(); ++i) {
    auto d = Napi::Object::New(env);
    d.Set("name", r.devices[i].name);
    d.Set("totalMemory", r.devices[i].totalMemory);
    d.Set("computeCapability", std::to_string(r.devices[i].major) + "." + std::to_string(r.devices[i].minor));
    devs.Set(static_cast<uint32_t>(i), d);
  }
  o.Set("devices", devs);
  o.Set("cublas", r.cublas.empty() ? env.Null() : Napi::String::New(env, r.cublas));
  o.Set("searched", strings(env, r.searched));
  o.Set("driverVersion", r.driverVersion);
  o.Set("runtimeVersion", r.runtimeVersion);
  return o;
}

Napi::Value BackendExport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const InitResult& r = initResult();
  if (!r.ok) throw Napi::Error::New(env, "cuda: not available: " + r.reason);
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "index: expected a CUDA device index");
  int index = info[0].As<Napi::Number>().Int32Value();
  if (index < 0 || index >= r.deviceCount || index >= kMaxDevices - 1) {
    throw Napi::RangeError::New(env, "index: no CUDA device " + std::to_string(index));
  }
  if (r.devices[index].major < 9) {
    throw Napi::Error::New(env, "cuda: device " + std::to_string(index) + " (" + r.devices[index].name +
                                    ") has compute capability below 9.0; this build runs on sm_90 and newer");
  }
  try {
    Backend* be = backendForDevice(index);
    return Napi::External<Backend>::New(env, be);  // no finalizer: the backend lives for the process
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Value SetMatmulPrecision(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string p = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (p == "highest") gMatmulPrecision = static_cast<int>(MatmulPrecision::Highest);
  else if (p == "high" || p == "medium") gMatmulPrecision = static_cast<int>(MatmulPrecision::High);
  else throw Napi::TypeError::New(env, "precision: expected 'highest', 'high' or 'medium'");
  return env.Undefined();
}

Napi::Value GetMatmulPrecision(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), gMatmulPrecision == static_cast<int>(MatmulPrecision::Highest) ? "highest" : "high");
}

Napi::Value FindCublas(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CublasLib L = probeCublas();
  auto o = Napi::Object::New(env);
  o.Set("ok", L.ok);
  o.Set("path", L.ok ? Napi::String::New(env, L.description()) : env.Null());
  o.Set("reason", L.reason);
  o.Set("searched", strings(env, L.searched));
  return o;
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("backend", Napi::Function::New(env, BackendExport, "backend"));
  exports.Set("setMatmulPrecision", Napi::Function::New(env, SetMatmulPrecision, "setMatmulPrecision"));
  exports.Set("getMatmulPrecision", Napi::Function::New(env, GetMatmulPrecision, "getMatmulPrecision"));
  exports.Set("findCublas", Napi::Function::New(env, FindCublas, "findCublas"));
  return exports;
}

}  // namespace
}  // namespace kiln::cuda

// NODE_API_MODULE pastes its second argument into an identifier: it must be unqualified.
static Napi::Object KilnCudaInit(Napi::Env env, Napi::Object exports) {
  return kiln::cuda::Register(env, exports);
}
NODE_API_MODULE(kiln_cuda, KilnCudaInit)
