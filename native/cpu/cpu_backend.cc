// The CPU backend: host memory (64-byte aligned, cached by size class) and the kernel table
// chosen in isa.cc.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "../include/backend.h"
#include "../include/block_cache.h"
#include "isa.h"

namespace kiln {
namespace {

// Size classes: multiples of 64 bytes up to 4 KiB, then 8 steps per power of two (at most 12.5%
// slack), so a cached block fits many nearby sizes.
size_t sizeClass(size_t bytes) {
  if (bytes <= 4096) return bytes <= 64 ? 64 : (bytes + 63) & ~size_t(63);
  int hb = 63 - __builtin_clzll(bytes);
  size_t step = size_t(1) << (hb - 3);
  return (bytes + step - 1) & ~(step - 1);
}

// Larger than the machine's memory: refused at once (Linux would promise it, then kill the
// process when the pages are touched).
size_t physicalBytes() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(size) : SIZE_MAX;
}

void* hostAlloc(size_t bytes, void*) {
  static const size_t limit = physicalBytes();
  if (bytes > limit) return nullptr;
  return std::aligned_alloc(64, bytes);
}
void hostFree(void* p, void*) { std::free(p); }

constexpr int64_t kCacheLimit = int64_t(1) << 30;  // never cache more than 1 GiB

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const cpu::KernelTable& k)
      : k_(k), cache_({sizeClass, hostAlloc, hostFree, nullptr, kCacheLimit}) {}

  const char* name() const override { return "cpu"; }

  void* alloc(size_t bytes) override {
    void* p = cache_.alloc(bytes);
    if (p == nullptr) throw Error("cpu: out of memory allocating " + std::to_string(bytes) + " bytes");
    return p;
  }
  void release(void* p, size_t bytes) override { cache_.release(p, bytes); }
  void emptyCache() override { cache_.emptyCache(); }
  int64_t cachedBytes() override { return cache_.cachedBytes(); }
  int64_t systemBytes() override { return cache_.systemBytes(); }
  void copyFromHost(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copyToHost(void* dst, const void* src, size_t bytes) override { std::memcpy(dst, src, bytes); }
  void copy(void* dst, const void* src, size_t bytes) override { std::memmove(dst, src, bytes); }
  void synchronize() override {}

#define KILN_OP(name, fields) \
  void name(const args::name& a) override { k_.name(a); }
#define KILN_COMPOSITE(name, fields)
#include "../include/ops.def"
#include "../include/ops_undef.h"

 private:
  const cpu::KernelTable& k_;
  BlockCache cache_;
};

}  // namespace

Backend* cpuBackend() {
  static CpuBackend* be = new CpuBackend(*cpu::isaChoice().table);
  return be;
}

}  // namespace kiln
