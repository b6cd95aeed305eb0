// The CUDA implementation of kiln::Backend (native/include/backend.h), one per device.
#pragma once
#include "../include/backend.h"

namespace kiln::cuda {

// Creates (once per device; later calls return the same object) the backend of CUDA device
// `device`. The object lives until the process exits: the core addon keeps its pointer.
Backend* backendForDevice(int device);

}  // namespace kiln::cuda
