// The interface every communication engine implements (Gloo in gloo_engine.cc, MPI and NCCL by
// dlopen in mpi_engine.cc / nccl_engine.cc). One Engine serves one process group. Its methods
// run only on that group's communication thread (group.cc), never on the JS thread; they take
// plain pointers and sizes, block until the operation is done, and throw kiln::Error when it
// fails or exceeds its timeout. Nothing here knows about N-API.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../include/status.h"

namespace kiln::dist {

using Ms = std::chrono::milliseconds;

// Element types; values match DType (include/dtype.h).
enum class Elem : int32_t { F32 = 0, I32 = 1 };
// Reductions; values match src/distributed/collectives.ts.
enum class RedOp : int32_t { Sum = 0, Avg = 1, Max = 2, Min = 3 };

inline size_t elemSize(Elem) { return 4; }

// The key-value store every rank of a job reaches (store.h). Engines rendezvous through it.
class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual void set(const std::string& key, const std::vector<char>& value) = 0;
  // Waits until the key is set; throws kiln::Error after `timeout`.
  virtual std::vector<char> get(const std::string& key, Ms timeout) = 0;
};

struct EngineConfig {
  int rank = 0;           // rank in this group
  int size = 1;           // ranks in this group
  std::vector<int> ranks; // group rank -> global rank
  std::string prefix;     // store key prefix, unique to this group
  Ms timeout{300000};     // default for rendezvous and every operation
  std::string hostname;   // Gloo: the address this rank listens on
  std::string iface;      // Gloo: or the network interface to listen on
  int cudaDevice = -1;    // NCCL: the CUDA device index
};

// One posted point-to-point transfer. wait() blocks until it is done, or throws after timeout.
class P2P {
 public:
  virtual ~P2P() = default;
  virtual void wait(Ms timeout) = 0;
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const char* name() const = 0;
  // In place over `count` elements. Every rank passes the same count, element type and op.
  virtual void allReduce(void* data, size_t count, Elem elem, RedOp op, Ms timeout) = 0;
  virtual void broadcast(void* data, size_t count, Elem elem, int root, Ms timeout) = 0;
  // out holds size * count elements, rank r's input at r * count.
  virtual void allGather(const void* in, void* out, size_t count, Elem elem, Ms timeout) = 0;
  // in holds size * count elements; rank r gets the reduction of every rank's chunk r.
  virtual void reduceScatter(const void* in, void* out, size_t count, Elem elem, RedOp op, Ms timeout) = 0;
  virtual void barrier(Ms timeout) = 0;
  // Post without waiting: the transfer proceeds while the thread goes on to the next operation,
  // so a pipeline's sends and receives can never wait on each other's order.
  virtual std::unique_ptr<P2P> send(const void* data, size_t bytes, int dst, uint32_t tag) = 0;
  virtual std::unique_ptr<P2P> recv(void* data, size_t bytes, int src, uint32_t tag) = 0;
  // True when device pointers (CUDA) are expected instead of host pointers.
  virtual bool deviceMemory() const { return false; }
};

// How kiln_gloo.node hands its engine to kiln_dist.node: an External of this struct, checked by
// its tag and ABI version (both addons are built from this header by the same build).
struct EngineFactory {
  static constexpr uint32_t kAbi = 1;
  uint32_t abi = kAbi;
  const char* name = "";
  Engine* (*create)(const EngineConfig& cfg, KvStore& store) = nullptr;
};

// "kiln-engine-factory" v1
inline constexpr uint64_t kEngineFactoryTag[2] = {0x6b696c6e2d656e67ULL, 0x696e652d66610001ULL};

}  // namespace kiln::dist
