// The one interface both backends implement (CPU in native/cpu, CUDA in native/cuda).
//
// Memory: every backend caches released blocks (block_cache.h), so a training step's steady
// state does no system allocation; emptyCache() returns the cache to the system. Ops: one method
// per entry of ops.def, taking that op's argument struct (op_args.h); the list, the field
// meanings and the conventions are documented there. Bad arguments throw kiln::Error (status.h);
// the binding validates first, so a throw here is a second line of defence. A backend that lacks
// an op throws kiln::Error("<backend>: <op> is not implemented").
#pragma once
#include <cstddef>
#include <cstdint>

#include "dtype.h"
#include "op_args.h"
#include "status.h"

namespace kiln {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // ---- memory ----
  // A block of at least `bytes` (a cached one when one fits); throws kiln::Error when out of memory.
  virtual void* alloc(size_t bytes) = 0;
  // Gives back a block from alloc(bytes), with the same byte count (it goes to the cache).
  virtual void release(void* p, size_t bytes) = 0;
  virtual void emptyCache() = 0;
  virtual int64_t cachedBytes() = 0;
  virtual int64_t systemBytes() = 0;  // held from the system: live plus cached (block_cache.h)
  virtual void copyFromHost(void* dst, const void* src, size_t bytes) = 0;
  virtual void copyToHost(void* dst, const void* src, size_t bytes) = 0;  // waits for the data
  virtual void copy(void* dst, const void* src, size_t bytes) = 0;        // within this device
  virtual void synchronize() = 0;

  // ---- ops (ops.def) ----
#define KILN_OP(name, fields) virtual void name(const args::name& a) = 0;
#define KILN_COMPOSITE(name, fields)
#include "ops.def"
#include "ops_undef.h"
};

// Backends by device id (dtype.h). The CPU backend is always there; the CUDA addon registers its
// devices through registerBackend when it loads. Both are safe to call from any thread.
Backend* backendFor(int device);
void registerBackend(int device, Backend* backend);

}  // namespace kiln
