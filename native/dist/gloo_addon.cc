// kiln_gloo.node: the Gloo engine's addon. It is linked to libgloo.so.0 (Debian libgloo0), so
// loading it fails where Gloo is not installed, and nothing else depends on it. It exports one
// thing: the engine factory, as a type-tagged External that kiln_dist.node's newGroup takes.
#include <napi.h>

#include <gloo/config.h>

#include "engine.h"

namespace kiln::dist {
const EngineFactory* glooFactory();  // gloo_engine.cc
}

namespace {

Napi::Value EngineFactoryExport(const Napi::CallbackInfo& info) {
  auto ext = Napi::External<kiln::dist::EngineFactory>::New(
      info.Env(), const_cast<kiln::dist::EngineFactory*>(kiln::dist::glooFactory()));
  ext.TypeTag(reinterpret_cast<const napi_type_tag*>(kiln::dist::kEngineFactoryTag));
  return ext;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("engineFactory", Napi::Function::New(env, EngineFactoryExport, "engineFactory"));
  exports.Set("version", Napi::String::New(env, std::to_string(GLOO_VERSION_MAJOR) + "." +
                                                    std::to_string(GLOO_VERSION_MINOR) + "." +
                                                    std::to_string(GLOO_VERSION_PATCH)));
  return exports;
}

}  // namespace

NODE_API_MODULE(kiln_gloo, Init)
