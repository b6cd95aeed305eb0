// storageView: the raw address of a storage range for a sibling addon (native/dist), as a
// type-tagged External (include/storage_view.h). No copy: a collective reads and writes the
// tensor's own memory. The caller keeps the storage alive while the address is in use.
#include <string>

#include "../include/storage_view.h"
#include "args.h"

namespace kiln::binding {
namespace {

// storageView(handle, offset, numel) -> External<StorageView>
Napi::Value StorageViewExport(const Napi::CallbackInfo& info) {
  Storage& s = storageArg(info, 0, "handle");
  int64_t off = sizeArg(info, 1, "offset");
  int64_t n = sizeArg(info, 2, "numel");
  if (off > s.numel || n > s.numel - off) {
    throw Error("range [" + std::to_string(off) + ", " + std::to_string(off + n) + ") is outside its storage of " +
                std::to_string(s.numel) + " elements");
  }
  // the communication engines reduce float32, float64 and int32 only
  if (s.dtype == DType::BF16) throw Error("handle: bfloat16 tensors cannot be communicated yet (cast with float())");
  size_t elem = dtypeSize(s.dtype);
  auto* view = new StorageView{static_cast<char*>(s.ptr) + off * static_cast<int64_t>(elem),
                               static_cast<size_t>(n) * elem, n, s.device, s.dtype};
  auto ext = Napi::External<StorageView>::New(info.Env(), view, [](Napi::Env, StorageView* v) { delete v; });
  ext.TypeTag(&kStorageViewTag);
  return ext;
}

}  // namespace

void registerExternal(Napi::Env env, Napi::Object exports) { exportFn(env, exports, "storageView", StorageViewExport); }

}  // namespace kiln::binding
