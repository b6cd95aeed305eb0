// kiln_dist.node: the communication addon's exports (registration and argument conversion only).
// Process groups and their collectives (group.cc), the rendezvous store (store.cc), MPI and NCCL
// opened with dlopen (mpi_*.cc, nccl_*.cc). Gloo lives in kiln_gloo.node, which links libgloo
// and hands its engine over as an External (engine.h: EngineFactory); this addon links no
// communication library, so it loads everywhere.
#include <napi.h>

#include "engines.h"
#include "group.h"
#include "store.h"
#include "util.h"

namespace kiln::dist {
namespace {

Ms msArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  int64_t ms = intArg(info, i, name);
  if (ms <= 0) throw Error(std::string(name) + ": expected a positive number of milliseconds");
  return Ms(ms);
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw Error("ctor: expected a class");
  distEnv(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

// ---- rendezvous store ----

// storeServe(port) -> [id, port]: rank 0's server, on a thread of its own.
Napi::Value StoreServe(const Napi::CallbackInfo& info) {
  int64_t port = intArg(info, 0, "port");
  if (port < 0 || port > 65535) throw Error("port: expected 0..65535");
  auto& st = distEnv(info.Env());
  int id = st.nextStore++;
  auto server = std::make_unique<StoreServer>(static_cast<int>(port));
  int bound = server->port();
  st.servers[id] = std::move(server);
  auto out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, id);
  out.Set(1u, bound);
  return out;
}

Napi::Value StoreStop(const Napi::CallbackInfo& info) {
  distEnv(info.Env()).servers.erase(static_cast<int>(intArg(info, 0, "server")));
  return info.Env().Undefined();
}

// One store request on a libuv worker thread, over a connection of its own (a GET that waits
// never holds up another request).
class StoreRequest : public Napi::AsyncWorker {
 public:
  enum Op { Set, Get, Add, Check };
  StoreRequest(Napi::Env env, Op op, std::string host, int port, std::string key, std::vector<char> value,
               int64_t delta, Ms timeout)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), op_(op), host_(std::move(host)),
        port_(port), key_(std::move(key)), value_(std::move(value)), delta_(delta), timeout_(timeout) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      StoreClient c(host_, port_, timeout_);
      switch (op_) {
        case Set: c.set(key_, value_); break;
        case Get: value_ = c.get(key_, timeout_); break;
        case Add: delta_ = c.add(key_, delta_); break;
        case Check: delta_ = c.check(key_) ? 1 : 0; break;
      }
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    switch (op_) {
      case Set: deferred_.Resolve(env.Undefined()); break;
      case Get: {
        auto buf = Napi::Uint8Array::New(env, value_.size());
        std::copy(value_.begin(), value_.end(), reinterpret_cast<char*>(buf.Data()));
        deferred_.Resolve(buf);
        break;
      }
      case Add: deferred_.Resolve(Napi::Number::New(env, static_cast<double>(delta_))); break;
      case Check: deferred_.Resolve(Napi::Boolean::New(env, delta_ != 0)); break;
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(kilnError(Env(), e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Op op_;
  std::string host_;
  int port_;
  std::string key_;
  std::vector<char> value_;
  int64_t delta_;
  Ms timeout_;
};

// storeRequest(op, host, port, key, value: Uint8Array | null, delta, timeoutMs) -> Promise
Napi::Value StoreRequestExport(const Napi::CallbackInfo& info) {
  int64_t op = intArg(info, 0, "op");
  if (op < 0 || op > 3) throw Error("op: expected 0..3");
  std::string host = stringArg(info, 1, "host");
  int64_t port = intArg(info, 2, "port");
  if (port <= 0 || port > 65535) throw Error("port: expected 1..65535");
  std::string key = stringArg(info, 3, "key");
  std::vector<char> value;
  if (info[4].IsTypedArray()) {
    auto a = info[4].As<Napi::Uint8Array>();
    const char* p = reinterpret_cast<const char*>(a.Data());
    value.assign(p, p + a.ByteLength());
  } else if (op == StoreRequest::Set) {
    throw Error("value: expected a Uint8Array");
  }
  auto* w = new StoreRequest(info.Env(), static_cast<StoreRequest::Op>(op), host, static_cast<int>(port), key,
                             std::move(value), intArg(info, 5, "delta"), msArg(info, 6, "timeoutMs"));
  auto p = w->promise();
  w->Queue();
  return p;
}

// ---- process groups ----

std::vector<int> ranksArg(const Napi::CallbackInfo& info, const Napi::Object& o) {
  Napi::Value v = o.Get("ranks");
  if (!v.IsArray()) throw Error("ranks: expected an array of global ranks");
  auto a = v.As<Napi::Array>();
  std::vector<int> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) throw Error("ranks: expected integers");
    out.push_back(e.As<Napi::Number>().Int32Value());
  }
  return out;
}

// newGroup({engine, factory?, rank, size, ranks, prefix, timeoutMs, storeHost, storePort,
//           hostname, iface, cudaDevice, label}) -> [id, Promise (connected)]
Napi::Value NewGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Error("options: expected an object");
  auto o = info[0].As<Napi::Object>();
  auto str = [&](const char* k) { return o.Get(k).IsString() ? o.Get(k).As<Napi::String>().Utf8Value() : std::string(); };
  auto num = [&](const char* k) {
    if (!o.Get(k).IsNumber()) throw Error(std::string(k) + ": expected a number");
    return o.Get(k).As<Napi::Number>().Int64Value();
  };
  EngineConfig cfg;
  cfg.rank = static_cast<int>(num("rank"));
  cfg.size = static_cast<int>(num("size"));
  cfg.ranks = ranksArg(info, o);
  cfg.prefix = str("prefix");
  cfg.timeout = Ms(num("timeoutMs"));
  cfg.hostname = str("hostname");
  cfg.iface = str("iface");
  cfg.cudaDevice = o.Get("cudaDevice").IsNumber() ? static_cast<int>(num("cudaDevice")) : -1;
  if (cfg.size < 1 || cfg.rank < 0 || cfg.rank >= cfg.size || static_cast<int>(cfg.ranks.size()) != cfg.size) {
    throw Error("rank/size/ranks: inconsistent (rank " + std::to_string(cfg.rank) + " of " + std::to_string(cfg.size) + ")");
  }
  if (cfg.timeout.count() <= 0) throw Error("timeoutMs: expected a positive number");
  std::string engine = str("engine");
  std::string storeHost = str("storeHost");
  int storePort = o.Get("storePort").IsNumber() ? static_cast<int>(num("storePort")) : 0;

  Group::MakeEngine make;
  bool device = false;
  if (engine == "gloo") {
    Napi::Value f = o.Get("factory");
    if (!f.IsExternal() || !f.As<Napi::External<EngineFactory>>().CheckTypeTag(
                               reinterpret_cast<const napi_type_tag*>(kEngineFactoryTag))) {
      throw Error("factory: expected the Gloo addon's engine factory");
    }
    const EngineFactory* factory = f.As<Napi::External<EngineFactory>>().Data();
    if (factory->abi != EngineFactory::kAbi) throw Error("factory: the Gloo addon was built from another version");
    make = [factory, cfg, storeHost, storePort] {
      StoreClient store(storeHost, storePort, cfg.timeout);
      return std::unique_ptr<Engine>(factory->create(cfg, store));
    };
  } else if (engine == "mpi") {
    make = [cfg] { return createMpiEngine(cfg); };
  } else if (engine == "nccl") {
    device = true;
    make = [cfg, storeHost, storePort] {
      StoreClient store(storeHost, storePort, cfg.timeout);
      return createNcclEngine(cfg, store);
    };
  } else {
    throw Error("engine: expected 'gloo', 'mpi' or 'nccl', got '" + engine + "'");
  }
  auto& st = distEnv(env);
  int id = st.nextGroup++;
  std::string label = str("label");
  auto* g = new Group(env, id, label.empty() ? engine + " group " + std::to_string(id) : label, cfg.timeout, device,
                      std::move(make));
  st.groups[id] = g;
  auto w = std::make_unique<Work>();
  w->kind = Kind::Connect;
  auto out = Napi::Array::New(env, 2);
  out.Set(0u, id);
  out.Set(1u, g->submit(env, std::move(w)));
  return out;
}

Buf bufOf(const Group& g, const StorageView& v, const char* name) {
  if ((v.device != 0) != g.deviceMemory()) {
    throw Error(std::string(name) + (g.deviceMemory() ? ": expected a CUDA tensor (this is an NCCL group)"
                                                      : ": expected a CPU tensor (Gloo and MPI groups work on host memory)"));
  }
  return Buf{v.ptr, static_cast<size_t>(v.numel), static_cast<Elem>(v.dtype), v.device};
}

RedOp opArg(const Napi::CallbackInfo& info, size_t i, Elem elem) {
  int64_t op = intArg(info, i, "op");
  if (op < 0 || op > 3) throw Error("op: expected 0 (sum), 1 (avg), 2 (max) or 3 (min)");
  if (op == static_cast<int>(RedOp::Avg) && elem != Elem::F32) throw Error("op: avg needs a float32 tensor");
  return static_cast<RedOp>(op);
}

int peerArg(const Napi::CallbackInfo& info, size_t i, const char* name, const Group&) {
  int64_t p = intArg(info, i, name);
  if (p < 0) throw Error(std::string(name) + ": expected a rank of the group");
  return static_cast<int>(p);
}

// A trailing `true` submits detached: no Promise; the caller waits with waitAll (DDP, which
// blocks until its all-reduces are done, so a synchronous training loop holds nothing over).
bool detachedArg(const Napi::CallbackInfo& info, size_t i) { return info[i].IsBoolean() && info[i].As<Napi::Boolean>().Value(); }

// allReduce(group, view, op, detached?) -> Promise | undefined
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Group& g = groupArg(info, 0);
  auto w = std::make_unique<Work>();
  w->kind = Kind::AllReduce;
  w->a = bufOf(g, viewArg(info, 1, "tensor"), "tensor");
  w->op = opArg(info, 2, w->a.elem);
  return g.submit(info.Env(), std::move(w), detachedArg(info, 3));
}

// broadcast(group, view, root, detached?) -> Promise | undefined
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Group& g = groupArg(info, 0);
  auto w = std::make_unique<Work>();
  w->kind = Kind::Broadcast;
  w->a = bufOf(g, viewArg(info, 1, "tensor"), "tensor");
  w->peer = peerArg(info, 2, "src", g);
  return g.submit(info.Env(), std::move(w), detachedArg(info, 3));
}

// allGather(group, input, output, size) -> Promise; output holds size x input
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Group& g = groupArg(info, 0);
  auto w = std::make_unique<Work>();
  w->kind = Kind::AllGather;
  w->a = bufOf(g, viewArg(info, 1, "input"), "input");
  w->b = bufOf(g, viewArg(info, 2, "output"), "output");
  int64_t size = intArg(info, 3, "size");
  if (w->a.elem != w->b.elem) throw Error("output: expected the input's dtype");
  if (size < 1 || w->b.count != w->a.count * static_cast<size_t>(size)) throw Error("output: expected size x the input's elements");
  return g.submit(info.Env(), std::move(w));
}

// reduceScatter(group, input, output, op, size) -> Promise; input holds size x output
Napi::Value ReduceScatter(const Napi::CallbackInfo& info) {
  Group& g = groupArg(info, 0);
  auto w = std::make_unique<Work>();
  w->kind = Kind::ReduceScatter;
  w->a = bufOf(g, viewArg(info, 1, "input"), "input");
  w->b = bufOf(g, viewArg(info, 2, "output"), "output");
  w->op = opArg(info, 3, w->a.elem);
  int64_t size = intArg(info, 4, "size");
  if (w->a.elem != w->b.elem) throw Error("output: expected the input's dtype");
  if (size < 1 || w->a.count != w->b.count * static_cast<size_t>(size)) throw Error("input: expected size x the output's elements");
  return g.submit(info.Env(), std::move(w));
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Group& g = groupArg(info, 0);
  auto w = std::make_unique<Work>();
  w->kind = Kind::Barrier;
  return g.submit(info.Env(), std::move(w));
}

// send(group, view, dst, tag) / recv(group, view, src, tag) -> Promise
Napi::Value P2PExport(const Napi::CallbackInfo& info, Kind kind) {
  Group& g = groupArg(info, 0);
  auto w = std::make_unique<Work>();
  w->kind = kind;
  w->a = bufOf(g, viewArg(info, 1, "tensor"), "tensor");
  w->peer = peerArg(info, 2, kind == Kind::Send ? "dst" : "src", g);
  int64_t tag = intArg(info, 3, "tag");
  if (tag < 0 || tag > 0x7fffffff) throw Error("tag: expected an integer in [0, 2^31)");
  w->tag = static_cast<uint32_t>(tag);
  return g.submit(info.Env(), std::move(w));
}
Napi::Value Send(const Napi::CallbackInfo& info) { return P2PExport(info, Kind::Send); }
Napi::Value Recv(const Napi::CallbackInfo& info) { return P2PExport(info, Kind::Recv); }

// waitAll(group, timeoutMs): blocks the JS thread until the group's queued work is done.
Napi::Value WaitAll(const Napi::CallbackInfo& info) {
  groupArg(info, 0).waitAll(msArg(info, 1, "timeoutMs"));
  return info.Env().Undefined();
}

// takeWorkTimes(group) -> Float64Array [start, end, ...] of detached works (CLOCK_MONOTONIC ms)
Napi::Value TakeWorkTimes(const Napi::CallbackInfo& info) {
  auto times = groupArg(info, 0).takeWorkTimes();
  auto out = Napi::Float64Array::New(info.Env(), times.size());
  std::copy(times.begin(), times.end(), out.Data());
  return out;
}

// destroyGroup(group, timeoutMs)
Napi::Value DestroyGroup(const Napi::CallbackInfo& info) {
  Group& g = groupArg(info, 0);
  Ms timeout = msArg(info, 1, "timeoutMs");
  distEnv(info.Env()).groups.erase(g.id());
  g.destroy(timeout);
  return info.Env().Undefined();
}

// ---- MPI and NCCL ----

// mpiInit(timeoutMs) -> Promise<{rank, size, library}>: MPI_Init_thread on MPI's own thread.
class MpiInitWorker : public Napi::AsyncWorker {
 public:
  MpiInitWorker(Napi::Env env, Ms timeout) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), timeout_(timeout) {}
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      world_ = mpiInit(timeout_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    auto o = Napi::Object::New(Env());
    o.Set("rank", world_.rank);
    o.Set("size", world_.size);
    o.Set("library", world_.library);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(kilnError(Env(), e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Ms timeout_;
  MpiWorld world_;
};

Napi::Value MpiInit(const Napi::CallbackInfo& info) {
  auto* w = new MpiInitWorker(info.Env(), msArg(info, 0, "timeoutMs"));
  auto p = w->promise();
  w->Queue();
  return p;
}

// mpiFinalize(abort): MPI_Finalize (or MPI_Abort after a failure) on MPI's thread; waits.
Napi::Value MpiFinalize(const Napi::CallbackInfo& info) {
  mpiFinalize(info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// mpiProbe() -> {ok, reason, library}: whether libmpi can be opened (without initialising it)
Napi::Value MpiProbe(const Napi::CallbackInfo& info) {
  auto s = mpiProbe();
  auto o = Napi::Object::New(info.Env());
  o.Set("ok", s.ok);
  o.Set("reason", s.reason);
  o.Set("library", s.library);
  return o;
}

// ncclProbe() -> {ok, reason, library, version}
Napi::Value NcclProbe(const Napi::CallbackInfo& info) {
  auto s = ncclProbe();
  auto o = Napi::Object::New(info.Env());
  o.Set("ok", s.ok);
  o.Set("reason", s.reason);
  o.Set("library", s.library);
  o.Set("version", s.version);
  return o;
}

void cleanup(void* data) {
  // The environment is ending (a worker thread, or the main one at exit): stop every group.
  auto* st = static_cast<DistEnv*>(data);
  auto groups = st->groups;
  st->groups.clear();
  for (auto& [id, g] : groups) g->destroy(Ms(2000));
  st->servers.clear();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* st = new DistEnv();
  env.SetInstanceData(st);
  napi_add_env_cleanup_hook(env, cleanup, st);
  exportFn(env, exports, "setErrorClass", SetErrorClass);
  exportFn(env, exports, "storeServe", StoreServe);
  exportFn(env, exports, "storeStop", StoreStop);
  exportFn(env, exports, "storeRequest", StoreRequestExport);
  exportFn(env, exports, "newGroup", NewGroup);
  exportFn(env, exports, "allReduce", AllReduce);
  exportFn(env, exports, "broadcast", Broadcast);
  exportFn(env, exports, "allGather", AllGather);
  exportFn(env, exports, "reduceScatter", ReduceScatter);
  exportFn(env, exports, "barrier", Barrier);
  exportFn(env, exports, "send", Send);
  exportFn(env, exports, "recv", Recv);
  exportFn(env, exports, "waitAll", WaitAll);
  exportFn(env, exports, "destroyGroup", DestroyGroup);
  exportFn(env, exports, "takeWorkTimes", TakeWorkTimes);
  exportFn(env, exports, "mpiProbe", MpiProbe);
  exportFn(env, exports, "mpiInit", MpiInit);
  exportFn(env, exports, "mpiFinalize", MpiFinalize);
  exportFn(env, exports, "ncclProbe", NcclProbe);
  return exports;
}

}  // namespace kiln::dist

static Napi::Object InitDist(Napi::Env env, Napi::Object exports) { return kiln::dist::Init(env, exports); }

NODE_API_MODULE(kiln_dist, InitDist)
