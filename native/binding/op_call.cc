#include "op_call.h"

#include <cstring>

namespace kiln::binding {

namespace {
// floor((size + 2p - d(k-1) - 1) / s) + 1, or 0 when no window fits: the most output positions
// a window geometry has (PyTorch's formula, without ceil mode).
int64_t windows(int64_t size, int k, int s, int p, int d) {
  int64_t span = checkedAdd(checkedMul(int64_t(d), int64_t(k) - 1), 1);
  int64_t padded = checkedAdd(size, checkedMul(2, p));
  return padded < span ? 0 : (padded - span) / s + 1;
}
}  // namespace

// dims [N, C, H, W], window [kH, kW, sH, sW, pH, pW] (+ [dH, dW]), out [OH, OW]. The output may
// not have more positions than the geometry allows: kernels rely on every window starting inside
// the padded image.
void OpCall::conv(ConvGeom& g, const char* name) {
  if (!at(kScalars, 3)) return;
  Dims d = dimsArg(info_, arg_ - 3, "dims"), w = dimsArg(info_, arg_ - 2, "window"), o = dimsArg(info_, arg_ - 1, "outSize");
  if (d.n != 4) throw Error(std::string(name) + ": dims: expected [N, C, H, W]");
  if (w.n != 6 && w.n != 8) throw Error(std::string(name) + ": window: expected [kH, kW, sH, sW, pH, pW(, dH, dW)]");
  if (o.n != 2) throw Error(std::string(name) + ": outSize: expected [OH, OW]");
  for (int i = 0; i < w.n; ++i) {
    bool padding = i == 4 || i == 5;
    if (w.v[i] > (int64_t(1) << 20) || (!padding && w.v[i] == 0)) {
      throw Error(std::string(name) + ": window: sizes, strides and dilations must be in [1, 2^20], padding in [0, 2^20]");
    }
  }
  g = ConvGeom{d.v[0], d.v[1], d.v[2], d.v[3],
               int(w.v[0]), int(w.v[1]), int(w.v[2]), int(w.v[3]), int(w.v[4]), int(w.v[5]),
               w.n == 8 ? int(w.v[6]) : 1, w.n == 8 ? int(w.v[7]) : 1,
               o.v[0], o.v[1]};
  if (g.OH > windows(g.H, g.kH, g.sH, g.pH, g.dH) || g.OW > windows(g.W, g.kW, g.sW, g.pW, g.dW)) {
    throw Error(std::string(name) + ": outSize: [" + std::to_string(g.OH) + ", " + std::to_string(g.OW) +
                "] is more than the window geometry gives for a " + std::to_string(g.H) + "x" + std::to_string(g.W) +
                " input");
  }
}

void* OpCall::buffer(const char* name, int64_t extent, bool optional, bool out, int want, DType* type) {
  Napi::Value h = info_[arg_ - 2];
  if (optional && (h.IsNull() || h.IsUndefined())) return nullptr;
  if (env_ == nullptr) env_ = &envState(info_.Env());
  Storage& s = storageArg(*env_, info_, arg_ - 2, name);
  int64_t off = intArg(info_, arg_ - 1, name);
  if (off < 0 || off > s.numel || extent > s.numel - off) {
    throw Error(std::string(name) + ": range [" + std::to_string(off) + ", " + std::to_string(off + extent) +
                ") is outside its storage of " + std::to_string(s.numel) + " elements");
  }
  if (s.dtype == DType::BF16 && !bf16Ok_) {
    // (the export's name is put in front of the message)
    throw Error(std::string(name) + ": bfloat16 tensors are not supported by this kernel (the TypeScript op should widen them to float32)");
  }
  if (want >= 0 && int(s.dtype) != want) {
    throw Error(std::string(name) + ": expected a " + dtypeName(static_cast<DType>(want)) + " tensor, got " +
                dtypeName(s.dtype));
  }
  if (type != nullptr) *type = s.dtype;
  void* p = static_cast<char*>(s.ptr) + off * static_cast<int64_t>(dtypeSize(s.dtype));
  if (nBufs_ == kMaxBuffers) throw Error("too many buffers");
  bufs_[nBufs_++] = {name, &s, off, extent, out, p};
  return p;
}

const OpCall::BufferSeen* OpCall::find(const char* name) const {
  for (int i = 0; i < nBufs_; ++i)
    if (std::strcmp(bufs_[i].name, name) == 0) return &bufs_[i];
  return nullptr;
}

// Read on the host for CPU buffers; device backends check in their kernels (CUDA: the device
// error word, raised at the next sync).
void OpCall::checkIndices(const char* name, int64_t bound, bool hasExcept, int64_t except) {
  const BufferSeen* b = find(name);
  if (b == nullptr || b->storage->device != kCpuDevice) return;
  const int32_t* idx = static_cast<const int32_t*>(b->ptr);
  for (int64_t i = 0; i < b->extent; ++i) {
    int64_t v = idx[i];
    if (hasExcept && v == except) continue;
    if (v < 0 || v >= bound) {
      throw Error(std::string(name) + ": index " + std::to_string(v) + " is out of range [0, " + std::to_string(bound) + ")");
    }
  }
}

Backend& OpCall::finish() {
  int device = -1;
  for (int i = 0; i < nBufs_; ++i) {
    const BufferSeen& b = bufs_[i];
    if (device < 0) device = b.storage->device;
    else if (device != b.storage->device) throw Error("all tensors of an op must be on the same device");
    if (!b.out || b.extent == 0) continue;
    for (int j = 0; j < nBufs_; ++j) {
      const BufferSeen& o = bufs_[j];
      if (j == i || o.storage != b.storage || o.extent == 0) continue;
      if (b.offset >= o.offset + o.extent || o.offset >= b.offset + b.extent) continue;
      bool declared = false;
      for (int k = 0; k < nAliases_; ++k) {
        const AliasSeen& a = aliases_[k];
        declared |= a.layoutOk && std::strcmp(a.out, b.name) == 0 && std::strcmp(a.in, o.name) == 0;
      }
      if (!(declared && !o.out && b.offset == o.offset && b.extent == o.extent)) {
        throw Error(std::string(b.name) + ": shares memory with " + o.name +
                    " (an output may not overlap another argument; copy one of them first)");
      }
    }
  }
  Backend* be = backendFor(device < 0 ? kCpuDevice : device);
  if (be == nullptr) throw Error("no backend is registered for device " + std::to_string(device));
  return *be;
}

}  // namespace kiln::binding
