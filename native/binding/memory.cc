// Exports for native memory: allocation, host copies, fills and layout copies. Every
// allocation is counted per device and reported to V8 so garbage-collection pressure is real.
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "args.h"

namespace kiln::binding {
namespace {

struct DeviceCounters {
  int64_t bytes = 0, count = 0, peakBytes = 0;
};
DeviceCounters gCounters[kMaxDevices];

// Storages live in a slot table; JS holds a plain number, slot + generation * 2^24, so making
// a tensor creates no V8 object with a finalizer (the JS side frees through dispose/scope and a
// FinalizationRegistry). A freed slot's generation moves on, so a stale handle is detected.
constexpr double kSlotSpan = 16777216.0;  // 2^24
struct Slot {
  Storage storage;
  uint32_t gen = 0;
  bool used = false;
};
std::vector<Slot> gSlots;
std::vector<uint32_t> gFreeSlots;

// CPU buffers are cached by size class after release, so the steady-state training step does no
// system allocation. Cached bytes are reported apart from live bytes; emptyCache() frees them.
struct CpuPool {
  std::unordered_map<size_t, std::vector<void*>> free;
  int64_t cachedBytes = 0, cachedCount = 0;
};
CpuPool gPool;
constexpr int64_t kPoolLimit = int64_t(1) << 30;  // never cache more than 1 GiB

// Size classes: multiples of 64 bytes up to 4 KiB, then 8 steps per power of two.
size_t sizeClass(size_t bytes) {
  if (bytes <= 4096) return bytes <= 64 ? 64 : (bytes + 63) & ~size_t(63);
  int hb = 63 - __builtin_clzll(bytes);
  size_t step = size_t(1) << (hb - 3);
  return (bytes + step - 1) & ~(step - 1);
}

void* poolAlloc(Napi::Env env, Backend* be, size_t cls) {
  auto it = gPool.free.find(cls);
  if (it != gPool.free.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    gPool.cachedBytes -= static_cast<int64_t>(cls);
    gPool.cachedCount -= 1;
    return p;
  }
  void* p = be->alloc(cls);
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, static_cast<int64_t>(cls), &adjusted);
  return p;
}

void poolRelease(Napi::Env env, Backend* be, void* p, size_t cls) {
  if (gPool.cachedBytes + static_cast<int64_t>(cls) <= kPoolLimit) {
    gPool.free[cls].push_back(p);
    gPool.cachedBytes += static_cast<int64_t>(cls);
    gPool.cachedCount += 1;
    return;
  }
  be->release(p);
  int64_t adjusted = 0;
  napi_adjust_external_memory(env, -static_cast<int64_t>(cls), &adjusted);
}

void releaseStorage(Napi::Env env, Storage* s) {
  if (s->released) return;
  s->released = true;
  if (s->ptr != nullptr) {
    if (Backend* be = backendFor(s->device)) {
      if (s->device == kCpuDevice) {
        poolRelease(env, be, s->ptr, sizeClass(s->bytes == 0 ? 4 : s->bytes));
      } else {
        be->release(s->ptr);
        int64_t adjusted = 0;
        napi_adjust_external_memory(env, -static_cast<int64_t>(s->bytes), &adjusted);
      }
    }
  }
  s->ptr = nullptr;
  gCounters[s->device].bytes -= static_cast<int64_t>(s->bytes);
  gCounters[s->device].count -= 1;
}

// alloc(device, dtype, numel) -> handle (a number)
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t device = intArg(info, 0, "device");
  int64_t dtype = intArg(info, 1, "dtype");
  int64_t numel = intArg(info, 2, "numel");
  if (dtype != 0 && dtype != 1) throwKilnError(env, "dtype: expected 0 (float32) or 1 (int32)");
  if (numel < 0) throwKilnError(env, "numel: expected a non-negative element count");
  Backend* be = backendFor(static_cast<int>(device));
  if (be == nullptr) throwKilnError(env, "device: no backend is registered for device " + std::to_string(device));
  Storage s;
  s.device = static_cast<int>(device);
  s.dtype = static_cast<DType>(dtype);
  s.numel = numel;
  s.bytes = static_cast<size_t>(numel) * dtypeSize(s.dtype);
  if (s.device == kCpuDevice) {
    s.ptr = poolAlloc(env, be, sizeClass(s.bytes == 0 ? 4 : s.bytes));
  } else {
    s.ptr = be->alloc(s.bytes == 0 ? 4 : s.bytes);
    int64_t adjusted = 0;
    napi_adjust_external_memory(env, static_cast<int64_t>(s.bytes), &adjusted);
  }
  uint32_t slot;
  if (!gFreeSlots.empty()) {
    slot = gFreeSlots.back();
    gFreeSlots.pop_back();
  } else {
    if (gSlots.size() >= static_cast<size_t>(kSlotSpan)) throwKilnError(env, "too many live tensor storages");
    slot = static_cast<uint32_t>(gSlots.size());
    gSlots.emplace_back();
  }
  Slot& sl = gSlots[slot];
  sl.storage = s;
  sl.used = true;
  auto& c = gCounters[s.device];
  c.bytes += static_cast<int64_t>(s.bytes);
  c.count += 1;
  if (c.bytes > c.peakBytes) c.peakBytes = c.bytes;
  return Napi::Number::New(env, static_cast<double>(slot) + static_cast<double>(sl.gen) * kSlotSpan);
}

// release(handle): frees now; a stale handle (already released) is ignored.
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!v.IsNumber()) throwKilnError(info.Env(), "handle: expected a tensor storage handle");
  Storage* s = lookupStorage(v.As<Napi::Number>().DoubleValue());
  if (s == nullptr) return info.Env().Undefined();
  releaseStorage(info.Env(), s);
  double d = v.As<Napi::Number>().DoubleValue();
  uint32_t slot = static_cast<uint32_t>(std::fmod(d, kSlotSpan));
  Slot& sl = gSlots[slot];
  sl.used = false;
  sl.gen = (sl.gen + 1) & ((1u << 28) - 1);
  gFreeSlots.push_back(slot);
  return info.Env().Undefined();
}

// emptyCache(): frees the cached CPU buffers (live tensors are untouched).
Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  Backend* be = backendFor(kCpuDevice);
  for (auto& [cls, list] : gPool.free) {
    for (void* p : list) {
      be->release(p);
      int64_t adjusted = 0;
      napi_adjust_external_memory(info.Env(), -static_cast<int64_t>(cls), &adjusted);
    }
  }
  gPool.free.clear();
  gPool.cachedBytes = 0;
  gPool.cachedCount = 0;
  return info.Env().Undefined();
}

// Typed-array argument: data pointer and element count (4-byte elements).
void* typedArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t* count) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray()) throwKilnError(info.Env(), std::string(name) + ": expected a Float32Array or Int32Array");
  auto ta = v.As<Napi::TypedArray>();
  auto type = ta.TypedArrayType();
  if (type != napi_float32_array && type != napi_int32_array && type != napi_uint32_array) {
    throwKilnError(info.Env(), std::string(name) + ": expected a Float32Array or Int32Array");
  }
  *count = static_cast<int64_t>(ta.ElementLength());
  return static_cast<char*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
}

// write(handle, offset, typedArray): host -> storage
Napi::Value Write(const Napi::CallbackInfo& info) {
  int64_t count = 0;
  void* host = typedArrayArg(info, 2, "data", &count);
  Buf dst = bufArg(info, 0, "dst", count);
  backendOf(info.Env(), {&dst}).copyFromHost(dst.base, host, static_cast<size_t>(count) * 4);
  return info.Env().Undefined();
}

// read(handle, offset, typedArray): storage -> host (waits for pending device work)
Napi::Value Read(const Napi::CallbackInfo& info) {
  int64_t count = 0;
  void* host = typedArrayArg(info, 2, "out", &count);
  Buf src = bufArg(info, 0, "src", count);
  backendOf(info.Env(), {&src}).copyToHost(host, src.base, static_cast<size_t>(count) * 4);
  return info.Env().Undefined();
}

// copy(dst, dstOff, src, srcOff, numel): between any two devices.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 4, "numel");
  Buf dst = bufArg(info, 0, "dst", n);
  Buf src = bufArg(info, 2, "src", n);
  size_t bytes = static_cast<size_t>(n) * 4;
  if (bytes == 0) return info.Env().Undefined();
  int dd = dst.storage->device, sd = src.storage->device;
  if (dd == sd) {
    backendFor(dd)->copy(dst.base, src.base, bytes);
  } else if (sd == kCpuDevice) {
    backendFor(dd)->copyFromHost(dst.base, src.base, bytes);
  } else if (dd == kCpuDevice) {
    backendFor(sd)->copyToHost(dst.base, src.base, bytes);
  } else {
    std::vector<char> staging(bytes);
    backendFor(sd)->copyToHost(staging.data(), src.base, bytes);
    backendFor(dd)->copyFromHost(dst.base, staging.data(), bytes);
  }
  return info.Env().Undefined();
}

// fill(handle, offset, numel, value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 2, "numel");
  Buf dst = bufArg(info, 0, "dst", n);
  double value = numberArg(info, 3, "value");
  backendOf(info.Env(), {&dst}).fill(dst.base, dst.storage->dtype, n, value);
  return info.Env().Undefined();
}

// cast(dst, dstOff, src, srcOff, numel)
Napi::Value Cast(const Napi::CallbackInfo& info) {
  int64_t n = intArg(info, 4, "numel");
  Buf dst = bufArg(info, 0, "dst", n);
  Buf src = bufArg(info, 2, "src", n);
  backendOf(info.Env(), {&dst, &src}).cast(dst.base, dst.storage->dtype, src.base, src.storage->dtype, n);
  return info.Env().Undefined();
}

// Elements a strided view reaches past its offset, plus one (0 for an empty view).
int64_t stridedExtent(int ndim, const int64_t* shape, const int64_t* strides) {
  int64_t last = 0;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) return 0;
    last += (shape[d] - 1) * strides[d];
  }
  return last + 1;
}

// stridedCopy(dst, dstOff, src, srcOff, shape, srcStrides): dst contiguous
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  int64_t shape[kMaxDims], strides[kMaxDims];
  int nd = dimsArg(info, 4, "shape", shape);
  int ns = dimsArg(info, 5, "strides", strides);
  if (nd != ns) throwKilnError(info.Env(), "strides: expected one stride per dim");
  int64_t numel = 1;
  for (int d = 0; d < nd; ++d) numel *= shape[d];
  for (int d = 0; d < nd; ++d) {
    if (strides[d] < 0) throwKilnError(info.Env(), "strides: negative strides are not supported");
  }
  Buf dst = bufArg(info, 0, "dst", numel);
  Buf src = bufArg(info, 2, "src", stridedExtent(nd, shape, strides));
  if (dst.storage->dtype != src.storage->dtype) throwKilnError(info.Env(), "src: dtype differs from dst");
  backendOf(info.Env(), {&dst, &src}).stridedCopy(dst.base, src.base, dst.storage->dtype, nd, shape, strides);
  return info.Env().Undefined();
}

// memoryStats() -> [{device, bytes, count, peakBytes}] for devices with any allocation
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto out = Napi::Array::New(env);
  uint32_t k = 0;
  for (int d = 0; d < kMaxDevices; ++d) {
    const auto& c = gCounters[d];
    if (d != kCpuDevice && c.peakBytes == 0) continue;
    auto o = Napi::Object::New(env);
    o.Set("device", d);
    o.Set("bytes", static_cast<double>(c.bytes));
    o.Set("count", static_cast<double>(c.count));
    o.Set("peakBytes", static_cast<double>(c.peakBytes));
    o.Set("cachedBytes", d == kCpuDevice ? static_cast<double>(gPool.cachedBytes) : 0.0);
    out.Set(k++, o);
  }
  return out;
}

// resetPeak(): every device's peak becomes its current live bytes.
Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  for (auto& c : gCounters) c.peakBytes = c.bytes;
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  int64_t device = intArg(info, 0, "device");
  Backend* be = backendFor(static_cast<int>(device));
  if (be == nullptr) throwKilnError(info.Env(), "device: no backend is registered for device " + std::to_string(device));
  be->synchronize();
  return info.Env().Undefined();
}

}  // namespace

Storage* lookupStorage(double handle) {
  if (!(handle >= 0) || handle != std::floor(handle) || handle >= 9007199254740992.0) return nullptr;
  uint32_t slot = static_cast<uint32_t>(std::fmod(handle, kSlotSpan));
  double gen = std::floor(handle / kSlotSpan);
  if (slot >= gSlots.size()) return nullptr;
  Slot& sl = gSlots[slot];
  if (!sl.used || static_cast<double>(sl.gen) != gen) return nullptr;
  return &sl.storage;
}

void registerMemory(Napi::Env env, Napi::Object exports) {
  exportFn(env, exports, "alloc", Alloc);
  exportFn(env, exports, "release", Release);
  exportFn(env, exports, "write", Write);
  exportFn(env, exports, "read", Read);
  exportFn(env, exports, "copy", Copy);
  exportFn(env, exports, "fill", Fill);
  exportFn(env, exports, "cast", Cast);
  exportFn(env, exports, "stridedCopy", StridedCopy);
  exportFn(env, exports, "memoryStats", MemoryStats);
  exportFn(env, exports, "emptyCache", EmptyCache);
  exportFn(env, exports, "resetPeak", ResetPeak);
  exportFn(env, exports, "synchronize", Synchronize);
}

}  // namespace kiln::binding
