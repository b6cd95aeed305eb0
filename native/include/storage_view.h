// A storage range as the core addon hands it to a sibling addon (the communication engines in
// native/dist): the core owns storages in a per-environment slot table that another addon cannot
// see, so `storageView(handle, offset, numel)` returns a type-tagged napi External carrying this
// struct. The tag proves the External came from the core (JS cannot forge one); the receiver
// copies the fields at once, on the main thread, and never keeps the External.
//
// The pointer stays valid only while the storage lives: the JS caller keeps the storage retained
// (Storage.retain) until the work that uses the pointer has finished.
#pragma once
#include <js_native_api_types.h>

#include <cstddef>
#include <cstdint>

#include "dtype.h"

namespace kiln {

struct StorageView {
  void* ptr = nullptr;  // first element of the range (host memory on the CPU, device memory on CUDA)
  size_t bytes = 0;
  int64_t numel = 0;
  int32_t device = 0;   // dtype.h: 0 is the CPU, 1 + n is CUDA device n
  DType dtype = DType::F32;
};

// "kiln-storage-view" v1; change it if the struct changes.
inline constexpr napi_type_tag kStorageViewTag = {0x6b696c6e2d73746fULL, 0x726167652d760001ULL};

}  // namespace kiln
