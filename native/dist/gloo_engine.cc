// The Gloo engine (kiln_gloo.node, linked to Debian's libgloo): a full-mesh TCP context per
// group, connected through Kiln's rendezvous store, and Gloo's own algorithms for allreduce,
// broadcast, allgather and barrier. This Gloo release has no reduce-scatter on unbound buffers,
// so it is a ring here (N-1 steps of one chunk each, over Gloo's send/recv). Point-to-point
// transfers are Gloo unbound buffers: posted at once, waited for later.
#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>
#include <gloo/types.h>

#include <cstring>

#include "engine.h"
#include "reduce.h"

namespace kiln::dist {
namespace {

// Slot prefixes Gloo's collectives do not use (gloo/types.h takes 0x01-0x08).
constexpr uint8_t kP2PSlot = 0x10;
constexpr uint8_t kReduceScatterSlot = 0x11;

// Gloo's store interface over Kiln's, with this group's key prefix.
class StoreAdapter : public gloo::rendezvous::Store {
 public:
  StoreAdapter(KvStore& store, std::string prefix, Ms timeout) : store_(store), prefix_(std::move(prefix)), timeout_(timeout) {}
  void set(const std::string& key, const std::vector<char>& data) override { store_.set(prefix_ + key, data); }
  std::vector<char> get(const std::string& key) override { return store_.get(prefix_ + key, timeout_); }
  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }
  void wait(const std::vector<std::string>& keys, const std::chrono::milliseconds& timeout) override {
    for (const auto& k : keys) store_.get(prefix_ + k, timeout);
  }

 private:
  KvStore& store_;
  std::string prefix_;
  Ms timeout_;
};

gloo::AllreduceOptions::Func reduceFn(Elem elem, RedOp op) {
  using F = void (*)(void*, const void*, const void*, size_t);
  if (elem == Elem::F32) {
    switch (op) {
      case RedOp::Max: return static_cast<F>(&gloo::max<float>);
      case RedOp::Min: return static_cast<F>(&gloo::min<float>);
      default: return static_cast<F>(&gloo::sum<float>);
    }
  }
  switch (op) {
    case RedOp::Max: return static_cast<F>(&gloo::max<int32_t>);
    case RedOp::Min: return static_cast<F>(&gloo::min<int32_t>);
    default: return static_cast<F>(&gloo::sum<int32_t>);
  }
}

class GlooP2P : public P2P {
 public:
  GlooP2P(std::unique_ptr<gloo::transport::UnboundBuffer> buf, bool send) : buf_(std::move(buf)), send_(send) {}
  void wait(Ms timeout) override {
    if (send_) buf_->waitSend(timeout);
    else buf_->waitRecv(timeout);
  }

 private:
  std::unique_ptr<gloo::transport::UnboundBuffer> buf_;
  bool send_;
};

class GlooEngine : public Engine {
 public:
  GlooEngine(const EngineConfig& cfg, KvStore& store) : size_(cfg.size), rank_(cfg.rank) {
    gloo::transport::tcp::attr attr;
    if (!cfg.iface.empty()) attr.iface = cfg.iface;
    else attr.hostname = cfg.hostname.empty() ? "127.0.0.1" : cfg.hostname;
    attr.ai_family = AF_INET;
    auto dev = gloo::transport::tcp::CreateDevice(attr);
    auto ctx = std::make_shared<gloo::rendezvous::Context>(cfg.rank, cfg.size);
    ctx->setTimeout(cfg.timeout);
    StoreAdapter adapter(store, cfg.prefix, cfg.timeout);
    ctx->connectFullMesh(adapter, dev);
    ctx_ = std::move(ctx);
  }
  ~GlooEngine() override {
    if (ctx_) ctx_->closeConnections();
  }
  const char* name() const override { return "gloo"; }

  void allReduce(void* data, size_t count, Elem elem, RedOp op, Ms timeout) override {
    gloo::AllreduceOptions o(ctx_);
    if (elem == Elem::F32) o.setOutput(static_cast<float*>(data), count);
    else o.setOutput(static_cast<int32_t*>(data), count);
    o.setReduceFunction(reduceFn(elem, op));
    o.setTimeout(timeout);
    gloo::allreduce(o);
    if (op == RedOp::Avg) divideBy(data, count, elem, size_);
  }

  void broadcast(void* data, size_t count, Elem elem, int root, Ms timeout) override {
    gloo::BroadcastOptions o(ctx_);
    if (elem == Elem::F32) o.setOutput(static_cast<float*>(data), count);
    else o.setOutput(static_cast<int32_t*>(data), count);
    o.setRoot(root);
    o.setTimeout(timeout);
    gloo::broadcast(o);
  }

  void allGather(const void* in, void* out, size_t count, Elem elem, Ms timeout) override {
    gloo::AllgatherOptions o(ctx_);
    // Gloo reads the input only; its API is not const-qualified
    if (elem == Elem::F32) {
      o.setInput(static_cast<float*>(const_cast<void*>(in)), count);
      o.setOutput(static_cast<float*>(out), count * size_);
    } else {
      o.setInput(static_cast<int32_t*>(const_cast<void*>(in)), count);
      o.setOutput(static_cast<int32_t*>(out), count * size_);
    }
    o.setTimeout(timeout);
    gloo::allgather(o);
  }

  // Ring: at step s rank r sends its partial sum of chunk (r - s - 1) to r + 1 and receives
  // chunk (r - s - 2) from r - 1, adding its own input to it; after N - 1 steps it holds chunk r.
  void reduceScatter(const void* in, void* out, size_t count, Elem elem, RedOp op, Ms timeout) override {
    const size_t bytes = count * elemSize(elem);
    const char* src = static_cast<const char*>(in);
    if (size_ == 1) {
      std::memcpy(out, in, bytes);
      return;
    }
    std::vector<char> scratch(2 * bytes);
    char* bufs[2] = {scratch.data(), scratch.data() + bytes};
    const int next = (rank_ + 1) % size_, prev = (rank_ + size_ - 1) % size_;
    auto chunk = [&](int c) { return src + static_cast<size_t>((c % size_ + size_) % size_) * bytes; };
    const uint32_t opTag = (rsCount_++ & 0xffffff) << 8;
    std::memcpy(bufs[0], chunk(rank_ - 1), bytes);
    auto sendBuf = ctx_->createUnboundBuffer(bufs[0], bytes);
    auto recvBuf = ctx_->createUnboundBuffer(bufs[1], bytes);
    int cur = 0;  // bufs[cur] is sent at this step, bufs[1 - cur] receives
    for (int s = 0; s < size_ - 1; ++s) {
      auto& tx = cur == 0 ? sendBuf : recvBuf;
      auto& rx = cur == 0 ? recvBuf : sendBuf;
      uint64_t slot = gloo::Slot::build(kReduceScatterSlot, opTag | static_cast<uint32_t>(s));
      rx->recv(prev, slot);
      tx->send(next, slot);
      rx->waitRecv(timeout);
      tx->waitSend(timeout);
      char* got = bufs[1 - cur];
      combine(got, chunk(rank_ - s - 2), count, elem, op);
      cur = 1 - cur;
    }
    std::memcpy(out, bufs[cur], bytes);
    if (op == RedOp::Avg) divideBy(out, count, elem, size_);
  }

  void barrier(Ms timeout) override {
    gloo::BarrierOptions o(ctx_);
    o.setTimeout(timeout);
    gloo::barrier(o);
  }

  std::unique_ptr<P2P> send(const void* data, size_t bytes, int dst, uint32_t tag) override {
    auto buf = ctx_->createUnboundBuffer(const_cast<void*>(data), bytes);
    buf->send(dst, gloo::Slot::build(kP2PSlot, tag));
    return std::make_unique<GlooP2P>(std::move(buf), true);
  }

  std::unique_ptr<P2P> recv(void* data, size_t bytes, int src, uint32_t tag) override {
    auto buf = ctx_->createUnboundBuffer(data, bytes);
    buf->recv(src, gloo::Slot::build(kP2PSlot, tag));
    return std::make_unique<GlooP2P>(std::move(buf), false);
  }

 private:
  std::shared_ptr<gloo::rendezvous::Context> ctx_;
  int size_, rank_;
  uint32_t rsCount_ = 0;
};

Engine* createGloo(const EngineConfig& cfg, KvStore& store) { return new GlooEngine(cfg, store); }

}  // namespace

const EngineFactory* glooFactory() {
  static const EngineFactory f{EngineFactory::kAbi, "gloo", &createGloo};
  return &f;
}

}  // namespace kiln::dist
