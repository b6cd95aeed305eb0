// The MPI engine: OpenMPI opened with dlopen (declarations in mpi_api.h). MPI is initialised with
// MPI_THREAD_MULTIPLE on a thread kept for MPI's lifetime (the standard wants the initialising
// thread to finalise); each group then has its own communicator and calls MPI from its own
// communication thread. Every operation is MPI's non-blocking form polled with MPI_Test against
// a deadline, so a dead or hung peer becomes an error after the timeout instead of a hang.
#include <dlfcn.h>
#include <sched.h>

#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include "engines.h"
#include "mpi_api.h"
#include "reduce.h"

namespace kiln::dist {
namespace {

using Clock = std::chrono::steady_clock;

const char* kMpiPackage =
    "install OpenMPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi3; to build against it: libopenmpi-dev), "
    "or set KILN_MPI_LIBRARY to its libmpi.so";

struct Loaded {
  mpi::Api api{};
  void* handle = nullptr;
  std::string path, error;
};

Loaded& loaded() {
  static Loaded l;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> names;
    if (const char* p = std::getenv("KILN_MPI_LIBRARY")) {
      names.emplace_back(p);  // when set, the only place tried
    } else {
      names.emplace_back("libmpi.so.40");  // OpenMPI 3.x and 4.x
      names.emplace_back("libmpi.so");
    }
    std::string tried;
    for (const auto& n : names) {
      // RTLD_GLOBAL: OpenMPI's own plugins (dlopened by libmpi) resolve symbols from it
      l.handle = dlopen(n.c_str(), RTLD_NOW | RTLD_GLOBAL);
      if (l.handle != nullptr) {
        l.path = n;
        break;
      }
      tried += (tried.empty() ? "" : "; ") + std::string(dlerror());
    }
    if (l.handle == nullptr) {
      l.error = "MPI is not available (" + tried + "): " + kMpiPackage;
      return;
    }
    std::string missing;
    auto sym = [&](const char* name) {
      void* p = dlsym(l.handle, name);
      if (p == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(name);
      return p;
    };
#define KILN_MPI_FN(name) l.api.name = reinterpret_cast<decltype(l.api.name)>(sym("MPI_" #name));
    KILN_MPI_FUNCTIONS(KILN_MPI_FN)
#undef KILN_MPI_FN
#define KILN_MPI_OBJ(field, type, symbol) l.api.field = reinterpret_cast<mpi::type>(sym(#symbol));
    KILN_MPI_OBJECTS(KILN_MPI_OBJ)
#undef KILN_MPI_OBJ
    if (!missing.empty()) {
      l.error = l.path + " is not an OpenMPI library Kiln can use (missing " + missing +
                "); Kiln supports OpenMPI (libmpi.so.40): " + kMpiPackage;
      dlclose(l.handle);
      l.handle = nullptr;
    }
  });
  return l;
}

const mpi::Api& api() {
  Loaded& l = loaded();
  if (l.handle == nullptr) throw Error(l.error);
  return l.api;
}

std::string mpiError(int code) {
  char buf[mpi::MAX_ERROR_STRING + 1] = {0};
  int len = 0;
  if (api().Error_string(code, buf, &len) != mpi::SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(buf, static_cast<size_t>(len));
}

void check(int rc, const char* what) {
  if (rc != mpi::SUCCESS) throw Error(std::string(what) + ": " + mpiError(rc));
}

int intCount(size_t n, const char* what) {
  if (n > static_cast<size_t>(INT_MAX)) throw Error(std::string(what) + ": MPI counts are ints: at most 2^31 - 1 elements per call");
  return static_cast<int>(n);
}

// Polls a request until done; sleeps a little between tests after the first few hundred
// microseconds, so a waiting rank leaves the cores to the ranks still computing.
void waitRequest(mpi::Request* r, Ms timeout, const char* what) {
  auto start = Clock::now(), deadline = start + timeout;
  int flag = 0;
  for (int i = 0;; ++i) {
    check(api().Test(r, &flag, nullptr), what);
    if (flag) return;
    auto now = Clock::now();
    if (now >= deadline) throw Error(std::string(what) + ": timed out after " + std::to_string(timeout.count()) + " ms");
    if (now - start < std::chrono::microseconds(500)) sched_yield();
    else std::this_thread::sleep_for(std::chrono::microseconds(i < 5000 ? 20 : 200));
  }
}

// The thread that initialised MPI, kept until MPI_Finalize.
struct MpiThread {
  std::mutex mu;
  std::condition_variable cv;
  bool started = false, initDone = false, finalizeAsked = false, abortAsked = false, finalized = false;
  std::string error;
  MpiWorld world;
  std::thread thread;
} gMpi;

void mpiMain() {
  const mpi::Api& a = loaded().api;
  int provided = 0, rank = 0, size = 1;
  std::string err;
  int rc = a.Init_thread(nullptr, nullptr, mpi::THREAD_MULTIPLE, &provided);
  if (rc != mpi::SUCCESS) err = "MPI_Init_thread failed: " + mpiError(rc);
  else if (provided < mpi::THREAD_MULTIPLE) {
    err = "this MPI library was built without MPI_THREAD_MULTIPLE (it provides level " + std::to_string(provided) +
          "); Kiln's groups call MPI from their own threads";
  } else {
    a.Comm_set_errhandler(a.commWorld, a.errorsReturn);  // errors come back as codes, not aborts
    a.Comm_rank(a.commWorld, &rank);
    a.Comm_size(a.commWorld, &size);
  }
  std::unique_lock<std::mutex> lock(gMpi.mu);
  gMpi.error = err;
  gMpi.world = {rank, size, loaded().path};
  gMpi.initDone = true;
  gMpi.cv.notify_all();
  if (!err.empty()) return;
  gMpi.cv.wait(lock, [] { return gMpi.finalizeAsked; });
  if (gMpi.abortAsked) a.Abort(a.commWorld, 1);
  else a.Finalize();
  gMpi.finalized = true;
  gMpi.cv.notify_all();
}

class MpiP2P : public P2P {
 public:
  MpiP2P(mpi::Request r, const char* what) : req_(r), what_(what) {}
  void wait(Ms timeout) override { waitRequest(&req_, timeout, what_); }

 private:
  mpi::Request req_;
  const char* what_;
};

class MpiEngine : public Engine {
 public:
  explicit MpiEngine(const EngineConfig& cfg) : size_(cfg.size) {
    const mpi::Api& a = api();
    {
      std::lock_guard<std::mutex> lock(gMpi.mu);
      if (!gMpi.initDone || !gMpi.error.empty()) throw Error("MPI is not initialised (initProcessGroup({ backend: 'mpi' }) first)");
      if (gMpi.finalizeAsked) throw Error("MPI has been finalised in this process (it cannot start twice)");
    }
    bool whole = cfg.size == gMpi.world.size;
    for (int i = 0; whole && i < cfg.size; ++i) whole = cfg.ranks[i] == i;
    if (whole) {
      check(a.Comm_dup(a.commWorld, &comm_), "MPI_Comm_dup");
    } else {
      // collective over the members only; the tag tells apart groups created at the same time
      mpi::Group world, sub;
      check(a.Comm_group(a.commWorld, &world), "MPI_Comm_group");
      check(a.Group_incl(world, cfg.size, cfg.ranks.data(), &sub), "MPI_Group_incl");
      int tag = static_cast<int>(std::hash<std::string>()(cfg.prefix) % 32768);
      int rc = a.Comm_create_group(a.commWorld, sub, tag, &comm_);
      a.Group_free(&sub);
      a.Group_free(&world);
      check(rc, "MPI_Comm_create_group");
    }
    a.Comm_set_errhandler(comm_, a.errorsReturn);
  }
  ~MpiEngine() override {
    std::lock_guard<std::mutex> lock(gMpi.mu);
    if (!gMpi.finalizeAsked) api().Comm_free(&comm_);
  }
  const char* name() const override { return "mpi"; }

  void allReduce(void* data, size_t count, Elem elem, RedOp op, Ms timeout) override {
    mpi::Request r;
    check(api().Iallreduce(mpi::IN_PLACE, data, intCount(count, "allReduce"), type(elem), mpiOp(op), comm_, &r), "MPI_Iallreduce");
    waitRequest(&r, timeout, "MPI_Iallreduce");
    if (op == RedOp::Avg) divideBy(data, count, elem, size_);
  }
  void broadcast(void* data, size_t count, Elem elem, int root, Ms timeout) override {
    mpi::Request r;
    check(api().Ibcast(data, intCount(count, "broadcast"), type(elem), root, comm_, &r), "MPI_Ibcast");
    waitRequest(&r, timeout, "MPI_Ibcast");
  }
  void allGather(const void* in, void* out, size_t count, Elem elem, Ms timeout) override {
    mpi::Request r;
    int n = intCount(count, "allGather");
    intCount(count * size_, "allGather");
    check(api().Iallgather(in, n, type(elem), out, n, type(elem), comm_, &r), "MPI_Iallgather");
    waitRequest(&r, timeout, "MPI_Iallgather");
  }
  void reduceScatter(const void* in, void* out, size_t count, Elem elem, RedOp op, Ms timeout) override {
    mpi::Request r;
    check(api().Ireduce_scatter_block(in, out, intCount(count, "reduceScatter"), type(elem), mpiOp(op), comm_, &r),
          "MPI_Ireduce_scatter_block");
    waitRequest(&r, timeout, "MPI_Ireduce_scatter_block");
    if (op == RedOp::Avg) divideBy(out, count, elem, size_);
  }
  void barrier(Ms timeout) override {
    mpi::Request r;
    check(api().Ibarrier(comm_, &r), "MPI_Ibarrier");
    waitRequest(&r, timeout, "MPI_Ibarrier");
  }
  std::unique_ptr<P2P> send(const void* data, size_t bytes, int dst, uint32_t tag) override {
    mpi::Request r;
    check(api().Isend(data, intCount(bytes / 4, "send"), api().intType, dst, static_cast<int>(tag), comm_, &r), "MPI_Isend");
    return std::make_unique<MpiP2P>(r, "MPI_Isend");
  }
  std::unique_ptr<P2P> recv(void* data, size_t bytes, int src, uint32_t tag) override {
    mpi::Request r;
    check(api().Irecv(data, intCount(bytes / 4, "recv"), api().intType, src, static_cast<int>(tag), comm_, &r), "MPI_Irecv");
    return std::make_unique<MpiP2P>(r, "MPI_Irecv");
  }

 private:
  static mpi::Datatype type(Elem e) { return e == Elem::F32 ? api().floatType : api().intType; }
  static mpi::Op mpiOp(RedOp op) {
    switch (op) {
      case RedOp::Max: return api().opMax;
      case RedOp::Min: return api().opMin;
      default: return api().opSum;
    }
  }
  mpi::Comm comm_ = nullptr;
  int size_;
};

}  // namespace

LibraryStatus mpiProbe() {
  Loaded& l = loaded();
  LibraryStatus s;
  s.ok = l.handle != nullptr;
  s.reason = l.error;
  s.library = l.path;
  return s;
}

MpiWorld mpiInit(Ms timeout) {
  api();  // throws, naming the package, when MPI is missing
  std::unique_lock<std::mutex> lock(gMpi.mu);
  if (gMpi.finalizeAsked) throw Error("MPI has been finalised in this process (it cannot start twice)");
  if (!gMpi.started) {
    gMpi.started = true;
    gMpi.thread = std::thread(mpiMain);
  }
  if (!gMpi.cv.wait_for(lock, timeout, [] { return gMpi.initDone; })) {
    throw Error("MPI_Init_thread did not return within " + std::to_string(timeout.count()) +
                " ms (started outside mpirun without a working singleton launcher?)");
  }
  if (!gMpi.error.empty()) throw Error(gMpi.error);
  return gMpi.world;
}

void mpiFinalize(bool abort) {
  std::unique_lock<std::mutex> lock(gMpi.mu);
  if (!gMpi.started || !gMpi.initDone || !gMpi.error.empty() || gMpi.finalizeAsked) {
    if (gMpi.thread.joinable() && gMpi.initDone) {
      lock.unlock();
      gMpi.thread.join();
    }
    return;
  }
  gMpi.finalizeAsked = true;
  gMpi.abortAsked = abort;
  gMpi.cv.notify_all();
  // MPI_Finalize waits for the other ranks; bounded so that a dead peer cannot hold the exit
  if (gMpi.cv.wait_for(lock, Ms(30000), [] { return gMpi.finalized; })) {
    lock.unlock();
    gMpi.thread.join();
  } else {
    gMpi.thread.detach();
  }
}

std::unique_ptr<Engine> createMpiEngine(const EngineConfig& cfg) { return std::make_unique<MpiEngine>(cfg); }

}  // namespace kiln::dist
