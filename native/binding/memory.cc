// Exports for native memory: allocation, host copies, copies between devices, and the counters.
// Every allocation is counted per device in its environment's state and reported to V8, so
// garbage-collection pressure is real. The backends cache released blocks (block_cache.h).
#include <cmath>
#include <vector>

#include "args.h"
#include "extent.h"

namespace kiln::binding {
namespace {

// V8 is told what the backend holds from the system (live plus cached blocks), when it changes:
// real growth makes GC pressure (a leak of unreferenced tensors gets collected), while a step
// served from the cache tells V8 nothing (reporting every tensor's bytes made it run major GCs).
void reportToV8(Napi::Env env, EnvState& st, int device, Backend& be) {
  int64_t now = be.systemBytes(), delta = now - st.reportedToV8[device];
  if (delta == 0) return;
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, delta, &adjusted);
  st.reportedToV8[device] = now;
}

Backend& backendArg(const Napi::CallbackInfo& info, size_t i) {
  int64_t device = intArg(info, i, "device");
  Backend* be = device >= 0 && device < kMaxDevices ? backendFor(static_cast<int>(device)) : nullptr;
  if (be == nullptr) throw Error("device: no backend is registered for device " + std::to_string(device));
  return *be;
}

// alloc(device, dtype, numel) -> handle (a number)
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvState& st = envState(env);
  Backend& be = backendArg(info, 0);
  int64_t dtype = intArg(info, 1, "dtype");
  if (!isDType(dtype)) throw Error("dtype: expected 0 (float32), 1 (int32), 2 (float64) or 3 (bfloat16)");
  // bfloat16 has CPU kernels only: refusing its storage elsewhere keeps it from every CUDA kernel
  if (static_cast<DType>(dtype) == DType::BF16 && intArg(info, 0, "device") != kCpuDevice) {
    throw Error("dtype: bfloat16 tensors are CPU-only for now (cast with float() before moving to CUDA)");
  }
  Storage s;
  s.device = static_cast<int>(intArg(info, 0, "device"));
  s.dtype = static_cast<DType>(dtype);
  s.numel = sizeArg(info, 2, "numel");
  s.bytes = static_cast<size_t>(checkedMul(s.numel, static_cast<int64_t>(dtypeSize(s.dtype))));
  if (st.slots.size() >= static_cast<size_t>(EnvState::kSlotSpan) && st.freeSlots.empty()) {
    throw Error("too many live tensor storages");
  }
  s.ptr = be.alloc(s.allocated());
  reportToV8(env, st, s.device, be);
  uint32_t slot;
  if (!st.freeSlots.empty()) {
    slot = st.freeSlots.back();
    st.freeSlots.pop_back();
  } else {
    slot = static_cast<uint32_t>(st.slots.size());
    st.slots.emplace_back();
  }
  EnvState::Slot& sl = st.slots[slot];
  sl.storage = s;
  sl.used = true;
  DeviceCounters& c = st.counters[s.device];
  c.bytes += static_cast<int64_t>(s.bytes);
  c.count += 1;
  if (c.bytes > c.peakBytes) c.peakBytes = c.bytes;
  return Napi::Number::New(env, static_cast<double>(slot) + static_cast<double>(sl.gen) * EnvState::kSlotSpan);
}

// release(handle): frees now; a stale handle (already released) is ignored.
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvState& st = envState(env);
  double handle;
  if (napi_get_value_double(env, info[0], &handle) != napi_ok) throw Error("handle: expected a tensor storage handle");
  Storage* s = st.lookup(handle);
  if (s == nullptr) return env.Undefined();
  if (Backend* be = backendFor(s->device)) {
    be->release(s->ptr, s->allocated());
    reportToV8(env, st, s->device, *be);
  }
  st.counters[s->device].bytes -= static_cast<int64_t>(s->bytes);
  st.counters[s->device].count -= 1;
  uint32_t slot;
  uint64_t gen;
  EnvState::splitHandle(handle, &slot, &gen);  // lookup() succeeded: a valid handle
  EnvState::Slot& sl = st.slots[slot];
  sl.storage = Storage{};
  sl.used = false;
  sl.gen = (sl.gen + 1) & ((1u << 28) - 1);
  st.freeSlots.push_back(slot);
  return env.Undefined();
}

// Typed-array argument: data pointer and element count. Its element type must fit the
// storage's dtype: Float64Array for float64, Uint16Array (the raw bits) for bfloat16, a 4-byte
// array (Float32Array, Int32Array, Uint32Array) for float32 and int32.
void* typedArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* count, DType dtype) {
  Napi::Value v = info[i];
  const char* want = dtype == DType::F64    ? "a Float64Array (the tensor is float64)"
                     : dtype == DType::BF16 ? "a Uint16Array of bfloat16 bits (the tensor is bfloat16)"
                                            : "a Float32Array or Int32Array";
  if (!v.IsTypedArray()) throw Error(std::string(name) + ": expected " + want);
  auto ta = v.As<Napi::TypedArray>();
  auto type = ta.TypedArrayType();
  bool ok = dtype == DType::F64    ? type == napi_float64_array
            : dtype == DType::BF16 ? type == napi_uint16_array
                                   : type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array;
  if (!ok) throw Error(std::string(name) + ": expected " + want);
  *count = static_cast<int64_t>(ta.ElementLength());
  return static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
}

// A storage range [offset, offset + count) at info[i], info[i + 1].
char* rangeArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t count, Storage** out) {
  Storage& s = storageArg(info, i, name);
  int64_t off = sizeArg(info, i + 1, name);
  if (off > s.numel || count > s.numel - off) {
    throw Error(std::string(name) + ": range [" + std::to_string(off) + ", " + std::to_string(off + count) +
                ") is outside its storage of " + std::to_string(s.numel) + " elements");
  }
  *out = &s;
  return static_cast<char*>(s.ptr) + off * static_cast<int64_t>(dtypeSize(s.dtype));
}

// write(handle, offset, typedArray): host -> storage
Napi::Value Write(const Napi::CallbackInfo& info) {
  int64_t count = 0;
  void* host = typedArrayArg(info, 2, "data", &count, storageArg(info, 0, "dst").dtype);
  Storage* s;
  char* dst = rangeArg(info, 0, "dst", count, &s);
  backendFor(s->device)->copyFromHost(dst, host, static_cast<size_t>(count) * dtypeSize(s->dtype));
  return info.Env().Undefined();
}

// read(handle, offset, typedArray): storage -> host (waits for pending device work)
Napi::Value Read(const Napi::CallbackInfo& info) {
  int64_t count = 0;
  void* host = typedArrayArg(info, 2, "out", &count, storageArg(info, 0, "src").dtype);
  Storage* s;
  const char* src = rangeArg(info, 0, "src", count, &s);
  backendFor(s->device)->copyToHost(host, src, static_cast<size_t>(count) * dtypeSize(s->dtype));
  return info.Env().Undefined();
}

// copy(dst, dstOff, src, srcOff, numel): between any two devices (overlap allowed on one), of
// one dtype.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  int64_t n = sizeArg(info, 4, "numel");
  Storage *ds, *ss;
  char* dst = rangeArg(info, 0, "dst", n, &ds);
  const char* src = rangeArg(info, 2, "src", n, &ss);
  if (ds->dtype != ss->dtype) {
    throw Error(std::string("src: expected the dtype of dst (") + dtypeName(ds->dtype) + "), got " + dtypeName(ss->dtype));
  }
  size_t bytes = static_cast<size_t>(n) * dtypeSize(ds->dtype);
  if (bytes == 0) return info.Env().Undefined();
  int dd = ds->device, sd = ss->device;
  if (dd == sd) {
    backendFor(dd)->copy(dst, src, bytes);
  } else if (sd == kCpuDevice) {
    backendFor(dd)->copyFromHost(dst, src, bytes);
  } else if (dd == kCpuDevice) {
    backendFor(sd)->copyToHost(dst, src, bytes);
  } else {
    std::vector<char> staging(bytes);
    backendFor(sd)->copyToHost(staging.data(), src, bytes);
    backendFor(dd)->copyFromHost(dst, staging.data(), bytes);
  }
  return info.Env().Undefined();
}

// memoryStats() -> [{device, bytes, count, peakBytes, cachedBytes}] for the CPU and every device
// this environment has used. bytes/count/peakBytes are this environment's live storages;
// cachedBytes is the device's cache, shared by every thread of the process.
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EnvState& st = envState(env);
  auto out = Napi::Array::New(env);
  uint32_t k = 0;
  for (int d = 0; d < kMaxDevices; ++d) {
    const DeviceCounters& c = st.counters[d];
    if (d != kCpuDevice && c.peakBytes == 0) continue;
    Backend* be = backendFor(d);
    auto o = Napi::Object::New(env);
    o.Set("device", d);
    o.Set("bytes", static_cast<double>(c.bytes));
    o.Set("count", static_cast<double>(c.count));
    o.Set("peakBytes", static_cast<double>(c.peakBytes));
    o.Set("cachedBytes", be != nullptr ? static_cast<double>(be->cachedBytes()) : 0.0);
    out.Set(k++, o);
  }
  return out;
}

// emptyCache(): every backend returns its cached blocks to the system (live tensors untouched).
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  EnvState& st = envState(info.Env());
  for (int d = 0; d < kMaxDevices; ++d) {
    if (Backend* be = backendFor(d)) {
      be->emptyCache();
      reportToV8(info.Env(), st, d, *be);
    }
  }
  return info.Env().Undefined();
}

// resetPeak(): every device's peak becomes its current live bytes.
Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  for (DeviceCounters& c : envState(info.Env()).counters) c.peakBytes = c.bytes;
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  backendArg(info, 0).synchronize();
  return info.Env().Undefined();
}

}  // namespace

void registerMemory(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "alloc", Alloc);
  exportFn(env, exports, "release", Release);
  exportFn(env, exports, "write", Write);
  exportFn(env, exports, "read", Read);
  exportFn(env, exports, "copy", Copy);
  exportFn(env, exports, "memoryStats", MemoryStats);
  exportFn(env, exports, "emptyCache", EmptyCache);
  exportFn(env, exports, "resetPeak", ResetPeak);
  exportFn(env, exports, "synchronize", Synchronize);
}

}  // namespace kiln::binding
