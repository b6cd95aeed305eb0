// The exports of every op of ops.def: each reads its fields from the JS arguments in ops.def's
// order (OpCall: four passes over the field list), checks them and calls the backend (or the
// composite algorithm) of its buffers' device. No math here. Also opSpecs(), the field list of
// every op as data (the binding fuzz test and the TypeScript declaration check read it).
#include "../composite/composite.h"
#include "op_call.h"

namespace kiln::binding {
namespace {

#define ENUM(T, x) c.enumField(a.x, #x);
#define SIZE(x) c.size(a.x, #x);
#define I32(x) c.i32(a.x, #x);
#define U64(x) c.u64(a.x, #x);
#define F32(x) c.f32(a.x, #x);
#define F64(x) c.f64(a.x, #x);
#define BOOL(x) c.boolean(a.x, #x);
#define DIMS(x) c.dims(a.x, #x);
#define CONV(x) c.conv(a.x, #x);
#define IN(T, x, extent) c.in(a.x, #x, [&]() -> int64_t { return (extent); }, false);
#define OUT(T, x, extent) c.out(a.x, #x, [&]() -> int64_t { return (extent); }, false);
#define OPT_IN(T, x, extent) c.in(a.x, #x, [&]() -> int64_t { return (extent); }, true);
#define OPT_OUT(T, x, extent) c.out(a.x, #x, [&]() -> int64_t { return (extent); }, true);
#define IN_ANY(x, extent) c.inAny(a.x, a.x##Type, #x, [&]() -> int64_t { return (extent); });
#define OUT_ANY(x, extent) c.outAny(a.x, a.x##Type, #x, [&]() -> int64_t { return (extent); });
#define OPT_IN_ANY(x, extent) c.inAny(a.x, a.x##Type, #x, [&]() -> int64_t { return (extent); }, true);
#define INDEX(x, count, bound) \
  c.index(a.x, #x, [&]() -> int64_t { return (count); }, [&]() -> int64_t { return (bound); }, false, [] { return 0; });
#define INDEX_OR(x, count, bound, except)                                                                   \
  c.index(a.x, #x, [&]() -> int64_t { return (count); }, [&]() -> int64_t { return (bound); }, true, \
          [&]() -> int64_t { return (except); });
#define ALIAS(out, in, layoutOk) c.alias(#out, #in, [&]() -> bool { return (layoutOk); });
#define CHECK(cond, message) c.check([&]() -> bool { return (cond); }, message);

// Reads the fields (four passes), then runs `call` on the buffers' backend.
#define KILN_EXPORT(name, fields, call)                   \
  Napi::Value op_##name(const Napi::CallbackInfo& info) { \
    args::name a{};                                       \
    OpCall c(info, #name);                                \
    for (int pass = 0; pass < kPasses; ++pass) {          \
      c.begin(pass);                                      \
      fields                                              \
    }                                                     \
    call;                                                 \
    return info.Env().Undefined();                        \
  }
#define KILN_OP(name, fields) KILN_EXPORT(name, fields, c.finish().name(a))
#define KILN_COMPOSITE(name, fields) KILN_EXPORT(name, fields, composite::name(c.finish(), a))
#include "../include/ops.def"
#include "../include/ops_undef.h"
#undef KILN_EXPORT

// ---- opSpecs() -> [{name, composite, fields: [{kind, name, type, values}]}] ----
// kind: the field macro's name; type: the element type of a typed buffer; values: an enum's
// number of codes.
struct FieldSpec {
  const char* kind;
  const char* name;
  const char* type;
  int values;
};

void addField(Napi::Env env, Napi::Array& fields, const FieldSpec& f) {
  auto o = Napi::Object::New(env);
  o.Set("kind", f.kind);
  o.Set("name", f.name);
  if (f.type != nullptr) o.Set("type", f.type);
  if (f.values > 0) o.Set("values", f.values);
  fields.Set(fields.Length(), o);
}

Napi::Value OpSpecs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto ops = Napi::Array::New(env);
#define ENUM(T, x) addField(env, fields, {"ENUM", #x, #T, static_cast<int>(T::Count)});
#define SIZE(x) addField(env, fields, {"SIZE", #x, nullptr, 0});
#define I32(x) addField(env, fields, {"I32", #x, nullptr, 0});
#define U64(x) addField(env, fields, {"U64", #x, nullptr, 0});
#define F32(x) addField(env, fields, {"F32", #x, nullptr, 0});
#define F64(x) addField(env, fields, {"F64", #x, nullptr, 0});
#define BOOL(x) addField(env, fields, {"BOOL", #x, nullptr, 0});
#define DIMS(x) addField(env, fields, {"DIMS", #x, nullptr, 0});
#define CONV(x) addField(env, fields, {"CONV", #x, nullptr, 0});
#define IN(T, x, extent) addField(env, fields, {"IN", #x, #T, 0});
#define OUT(T, x, extent) addField(env, fields, {"OUT", #x, #T, 0});
#define OPT_IN(T, x, extent) addField(env, fields, {"OPT_IN", #x, #T, 0});
#define OPT_OUT(T, x, extent) addField(env, fields, {"OPT_OUT", #x, #T, 0});
#define IN_ANY(x, extent) addField(env, fields, {"IN_ANY", #x, nullptr, 0});
#define OUT_ANY(x, extent) addField(env, fields, {"OUT_ANY", #x, nullptr, 0});
#define OPT_IN_ANY(x, extent) addField(env, fields, {"OPT_IN_ANY", #x, nullptr, 0});
#define INDEX(x, count, bound) addField(env, fields, {"INDEX", #x, "int32_t", 0});
#define INDEX_OR(x, count, bound, except) addField(env, fields, {"INDEX_OR", #x, "int32_t", 0});
#define ALIAS(out, in, layoutOk)
#define CHECK(cond, message)
#define KILN_SPEC(name, list, isComposite) \
  {                                        \
    auto fields = Napi::Array::New(env);   \
    list                                   \
    auto o = Napi::Object::New(env);       \
    o.Set("name", #name);                  \
    o.Set("composite", isComposite);       \
    o.Set("fields", fields);               \
    ops.Set(ops.Length(), o);              \
  }
#define KILN_OP(name, list) KILN_SPEC(name, list, false)
#define KILN_COMPOSITE(name, list) KILN_SPEC(name, list, true)
#include "../include/ops.def"
#include "../include/ops_undef.h"
#undef KILN_SPEC
  return ops;
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
#define KILN_OP(name, fields) exportFn(env, exports, #name, op_##name);
#define KILN_COMPOSITE(name, fields) exportFn(env, exports, #name, op_##name);
#include "../include/ops.def"
#include "../include/ops_undef.h"
  exportFn(env, exports, "opSpecs", OpSpecs);
}

}  // namespace kiln::binding
