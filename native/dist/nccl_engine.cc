// The NCCL engine: libnccl.so.2 (the nvidia-nccl wheel) and the CUDA driver opened with dlopen
// (declarations in nccl_api.h). Rank 0 makes the unique id and shares it through the rendezvous
// store. Operations run on a stream of the group's own, on the device's primary context (the one
// the CUDA addon's runtime uses), and are polled against a deadline together with NCCL's
// asynchronous error; a timeout aborts the communicator. The JS side synchronises the tensors'
// device before queueing the work, so the data is ready when NCCL's stream reads it.
//
// Point-to-point transfers go on one stream in the order posted: NCCL matches them in order, so
// both sides must post them in the same order (Kiln's pipeline schedules do).
//
// Compiled everywhere; run only on a GPU machine (tests/gpu/check-nccl.mjs).
#include <dlfcn.h>
#include <glob.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "engines.h"
#include "nccl_api.h"

namespace kiln::dist {
namespace {

using Clock = std::chrono::steady_clock;

const char* kNcclPackage =
    "install NCCL (pip install nvidia-nccl-cu12, or nvidia-nccl-cu13 for CUDA 13), or set KILN_NCCL_LIBRARY to its libnccl.so.2";

struct Loaded {
  nccl::Api nccl{};
  cu::Api cu{};
  std::string path, error;
  int version = 0;
  bool ok = false;
};

std::vector<std::string> candidates() {
  std::vector<std::string> out;
  if (const char* p = std::getenv("KILN_NCCL_LIBRARY")) return {p};  // when set, the only place tried
  out.emplace_back("libnccl.so.2");
  const char* patterns[] = {"/usr/local/lib/python3*/dist-packages/nvidia/nccl/lib/libnccl.so.2",
                            "/usr/local/lib/python3*/site-packages/nvidia/nccl/lib/libnccl.so.2",
                            "/usr/lib/python3/dist-packages/nvidia/nccl/lib/libnccl.so.2"};
  for (const char* pat : patterns) {
    glob_t g{};
    if (glob(pat, GLOB_NOSORT, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    globfree(&g);
  }
  return out;
}

Loaded& loaded() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] {
    void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (cuda == nullptr) {
      l.error = std::string("the CUDA driver is not available (") + dlerror() + "): NCCL needs an NVIDIA GPU and its driver";
      return;
    }
    std::string missing;
    auto sym = [&](void* lib, const char* name) {
      void* p = dlsym(lib, name);
      if (p == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(name);
      return p;
    };
#define KILN_CU_FN(field, symbol) l.cu.field = reinterpret_cast<decltype(l.cu.field)>(sym(cuda, #symbol));
    KILN_CU_FUNCTIONS(KILN_CU_FN)
#undef KILN_CU_FN
    void* lib = nullptr;
    std::string tried;
    for (const auto& c : candidates()) {
      lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib != nullptr) {
        l.path = c;
        break;
      }
      tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
    }
    if (lib == nullptr) {
      l.error = "NCCL is not available (" + tried + "): " + kNcclPackage;
      return;
    }
#define KILN_NCCL_FN(name) l.nccl.name = reinterpret_cast<decltype(l.nccl.name)>(sym(lib, "nccl" #name));
    KILN_NCCL_FUNCTIONS(KILN_NCCL_FN)
#undef KILN_NCCL_FN
    if (!missing.empty()) {
      l.error = "missing symbols in " + l.path + " or libcuda.so.1: " + missing;
      return;
    }
    l.nccl.GetVersion(&l.version);
    l.ok = true;
  });
  return l;
}

const Loaded& lib() {
  const Loaded& l = loaded();
  if (!l.ok) throw Error(l.error);
  return l;
}

void checkCu(cu::Result r, const char* what) {
  if (r == cu::SUCCESS) return;
  const char* s = nullptr;
  lib().cu.GetErrorString(r, &s);
  throw Error(std::string(what) + ": " + (s ? s : "CUDA driver error " + std::to_string(r)));
}

void checkNccl(nccl::Result r, const char* what) {
  if (r != nccl::Success) throw Error(std::string(what) + ": " + lib().nccl.GetErrorString(r));
}

nccl::DataType type(Elem e) { return e == Elem::F32 ? nccl::Float32 : nccl::Int32; }
nccl::RedOp redOp(RedOp op) {
  switch (op) {
    case RedOp::Avg: return nccl::Avg;  // NCCL >= 2.10
    case RedOp::Max: return nccl::Max;
    case RedOp::Min: return nccl::Min;
    default: return nccl::Sum;
  }
}

class NcclEngine;

class NcclP2P : public P2P {
 public:
  NcclP2P(NcclEngine* e, cu::Event ev) : engine_(e), event_(ev) {}
  ~NcclP2P() override;
  void wait(Ms timeout) override;

 private:
  NcclEngine* engine_;
  cu::Event event_;
};

class NcclEngine : public Engine {
 public:
  NcclEngine(const EngineConfig& cfg, KvStore& store) : timeout_(cfg.timeout) {
    const Loaded& l = lib();
    if (cfg.cudaDevice < 0) throw Error("nccl: the group has no CUDA device (tensors on 'cuda:N' pick it)");
    checkCu(l.cu.Init(0), "cuInit");
    checkCu(l.cu.DeviceGet(&device_, cfg.cudaDevice), "cuDeviceGet");
    checkCu(l.cu.DevicePrimaryCtxRetain(&ctx_, device_), "cuDevicePrimaryCtxRetain");
    bind();
    checkCu(l.cu.StreamCreate(&stream_, cu::STREAM_NON_BLOCKING), "cuStreamCreate");
    checkCu(l.cu.StreamCreate(&p2pStream_, cu::STREAM_NON_BLOCKING), "cuStreamCreate");
    checkCu(l.cu.MemAlloc(&scratch_, 4), "cuMemAlloc");  // barrier's one element
    nccl::UniqueId id{};
    const std::string key = cfg.prefix + "nccl-unique-id";
    if (cfg.rank == 0) {
      checkNccl(l.nccl.GetUniqueId(&id), "ncclGetUniqueId");
      store.set(key, std::vector<char>(id.internal, id.internal + nccl::UNIQUE_ID_BYTES));
    } else {
      auto v = store.get(key, cfg.timeout);
      if (v.size() != nccl::UNIQUE_ID_BYTES) throw Error("nccl: malformed unique id in the store");
      std::memcpy(id.internal, v.data(), v.size());
    }
    checkNccl(l.nccl.CommInitRank(&comm_, cfg.size, id, cfg.rank), "ncclCommInitRank");
  }
  ~NcclEngine() override {
    const Loaded& l = loaded();
    bind();
    if (comm_ != nullptr) (aborted_ ? l.nccl.CommAbort : l.nccl.CommDestroy)(comm_);
    if (scratch_ != 0) l.cu.MemFree(scratch_);
    if (stream_ != nullptr) l.cu.StreamDestroy(stream_);
    if (p2pStream_ != nullptr) l.cu.StreamDestroy(p2pStream_);
    if (ctx_ != nullptr) l.cu.DevicePrimaryCtxRelease(device_);
  }
  const char* name() const override { return "nccl"; }
  bool deviceMemory() const override { return true; }

  void allReduce(void* data, size_t count, Elem elem, RedOp op, Ms timeout) override {
    bind();
    checkNccl(lib().nccl.AllReduce(data, data, count, type(elem), redOp(op), comm_, stream_), "ncclAllReduce");
    waitStream(stream_, timeout, "ncclAllReduce");
  }
  void broadcast(void* data, size_t count, Elem elem, int root, Ms timeout) override {
    bind();
    checkNccl(lib().nccl.Broadcast(data, data, count, type(elem), root, comm_, stream_), "ncclBroadcast");
    waitStream(stream_, timeout, "ncclBroadcast");
  }
  void allGather(const void* in, void* out, size_t count, Elem elem, Ms timeout) override {
    bind();
    checkNccl(lib().nccl.AllGather(in, out, count, type(elem), comm_, stream_), "ncclAllGather");
    waitStream(stream_, timeout, "ncclAllGather");
  }
  void reduceScatter(const void* in, void* out, size_t count, Elem elem, RedOp op, Ms timeout) override {
    bind();
    checkNccl(lib().nccl.ReduceScatter(in, out, count, type(elem), redOp(op), comm_, stream_), "ncclReduceScatter");
    waitStream(stream_, timeout, "ncclReduceScatter");
  }
  void barrier(Ms timeout) override {  // NCCL has none: a one-element all-reduce
    bind();
    checkNccl(lib().nccl.AllReduce(reinterpret_cast<void*>(scratch_), reinterpret_cast<void*>(scratch_), 1, nccl::Int32,
                                   nccl::Sum, comm_, stream_),
              "ncclAllReduce (barrier)");
    waitStream(stream_, timeout, "barrier");
  }
  std::unique_ptr<P2P> send(const void* data, size_t bytes, int dst, uint32_t) override {
    bind();
    checkNccl(lib().nccl.Send(data, bytes / 4, nccl::Int32, dst, comm_, p2pStream_), "ncclSend");
    return std::make_unique<NcclP2P>(this, record());
  }
  std::unique_ptr<P2P> recv(void* data, size_t bytes, int src, uint32_t) override {
    bind();
    checkNccl(lib().nccl.Recv(data, bytes / 4, nccl::Int32, src, comm_, p2pStream_), "ncclRecv");
    return std::make_unique<NcclP2P>(this, record());
  }

  // The calling thread works on this device's primary context.
  void bind() {
    if (ctx_ != nullptr) loaded().cu.CtxSetCurrent(ctx_);
  }
  // Polls `done` (a stream or event query) and NCCL's asynchronous error until the deadline.
  template <typename Query>
  void poll(Query done, Ms timeout, const char* what) {
    const Loaded& l = lib();
    auto deadline = Clock::now() + timeout;
    for (;;) {
      cu::Result r = done();
      if (r == cu::SUCCESS) return;
      if (r != cu::ERROR_NOT_READY) checkCu(r, what);
      nccl::Result async = nccl::Success;
      l.nccl.CommGetAsyncError(comm_, &async);
      if (async != nccl::Success && async != nccl::InProgress) {
        aborted_ = true;
        checkNccl(async, what);
      }
      if (Clock::now() >= deadline) {
        aborted_ = true;
        throw Error(std::string(what) + ": timed out after " + std::to_string(timeout.count()) + " ms");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
  void waitStream(cu::Stream s, Ms timeout, const char* what) {
    poll([&] { return lib().cu.StreamQuery(s); }, timeout, what);
  }

 private:
  cu::Event record() {
    cu::Event ev = nullptr;
    checkCu(lib().cu.EventCreate(&ev, cu::EVENT_DISABLE_TIMING), "cuEventCreate");
    checkCu(lib().cu.EventRecord(ev, p2pStream_), "cuEventRecord");
    return ev;
  }

  Ms timeout_;
  cu::Device device_ = 0;
  cu::Context ctx_ = nullptr;
  cu::Stream stream_ = nullptr, p2pStream_ = nullptr;
  cu::DevicePtr scratch_ = 0;
  nccl::Comm comm_ = nullptr;
  bool aborted_ = false;
};

NcclP2P::~NcclP2P() {
  engine_->bind();
  loaded().cu.EventDestroy(event_);
}
void NcclP2P::wait(Ms timeout) {
  engine_->bind();
  engine_->poll([&] { return lib().cu.EventQuery(event_); }, timeout, "NCCL send/recv");
}

}  // namespace

LibraryStatus ncclProbe() {
  const Loaded& l = loaded();
  LibraryStatus s;
  s.ok = l.ok;
  s.reason = l.error;
  s.library = l.path;
  s.version = l.version;
  return s;
}

std::unique_ptr<Engine> createNcclEngine(const EngineConfig& cfg, KvStore& store) {
  return std::make_unique<NcclEngine>(cfg, store);
}

}  // namespace kiln::dist
