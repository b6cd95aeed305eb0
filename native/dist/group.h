// A process group on the native side: one engine, one ordered communication thread, and the
// Promises of its work. The JS thread copies each call's tensor addresses and sizes into a Work
// (plain data) and queues it; the communication thread runs the works in order (so every rank
// issues its collectives in the same order) and hands each finished one back through a
// thread-safe function, whose callback on the JS thread settles the Promise. The communication
// thread never touches a JS value.
//
// Point-to-point works are posted in order by the same thread and then waited for on a thread of
// their own, so a receive that waits for a peer never holds up a send behind it.
//
// Any failure (an engine error or a timeout) breaks the group: the works after it fail at once
// with the first error, so a dead or hung peer never leaves a rank waiting past its timeout.
#pragma once
#include <napi.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"

namespace kiln::dist {

struct Buf {
  void* ptr = nullptr;
  size_t count = 0;  // elements
  Elem elem = Elem::F32;
  int device = 0;
};

enum class Kind { Connect, AllReduce, Broadcast, AllGather, ReduceScatter, Barrier, Send, Recv };
const char* kindName(Kind k);

struct Work {
  Kind kind = Kind::Barrier;
  Buf a, b;  // a: the data (or the input); b: the output of allGather / reduceScatter
  RedOp op = RedOp::Sum;
  int peer = 0;  // root (broadcast), destination (send) or source (recv), as a group rank
  uint32_t tag = 0;
  std::string error;                 // written by the thread that ran it
  napi_deferred deferred = nullptr;  // JS thread only
  double started = 0;                // CLOCK_MONOTONIC milliseconds (process.hrtime's clock)
};

class Group {
 public:
  // makeEngine runs on the communication thread as the first work (the rendezvous blocks).
  using MakeEngine = std::function<std::unique_ptr<Engine>()>;
  // device: the engine works on CUDA memory (NCCL) rather than host memory.
  Group(Napi::Env env, int id, std::string label, Ms timeout, bool device, MakeEngine makeEngine);

  // JS thread: queues a work and returns its Promise. A detached work has none: the caller
  // waits for it with waitAll (which reports its error), and it is freed when done.
  Napi::Value submit(Napi::Env env, std::unique_ptr<Work> w, bool detached = false);
  // JS thread: blocks until every queued work has finished (or `timeout`); throws the group's
  // error when it is broken. Their Promises still settle afterwards, from the event loop.
  void waitAll(Ms timeout);
  // JS thread: lets the queued works finish (up to `timeout`), stops the threads and releases
  // the engine. The object deletes itself once its last Promise has been settled.
  void destroy(Ms timeout);

  // JS thread: [start, end, start, end, ...] (CLOCK_MONOTONIC ms) of the detached works finished
  // since the last call, so DDP can tell how much of its all-reduce time overlapped backward.
  std::vector<double> takeWorkTimes();

  int id() const { return id_; }
  bool deviceMemory() const { return device_; }
  const std::string& label() const { return label_; }

 private:
  void loop();
  void run(std::unique_ptr<Work> w);
  void finish(std::unique_ptr<Work> w);  // any thread
  void fail(Work& w, const std::string& what);
  void reapWaiters(bool all);
  static void onJsThread(Napi::Env env, Napi::Function, Group* g, void*);

  int id_;
  std::string label_;  // "gloo group 0 (rank 1 of 2)", for messages
  Ms timeout_;
  bool device_;
  MakeEngine makeEngine_;
  std::unique_ptr<Engine> engine_;

  std::mutex mu_;
  std::condition_variable cv_;     // the queue, and finished counts for waitAll
  std::deque<std::unique_ptr<Work>> queue_;
  std::vector<std::unique_ptr<Work>> done_;  // finished, not yet handed to the JS thread
  std::vector<double> times_;                // detached works' run intervals, until taken
  uint64_t submitted_ = 0, finished_ = 0;
  std::string broken_;
  bool stop_ = false, exited_ = false;

  struct Waiter {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> over;
  };
  std::list<Waiter> waiters_;  // communication thread (and destroy, after it has exited)

  int pending_ = 0;  // JS thread: Promises not yet settled
  bool released_ = false;
  Napi::TypedThreadSafeFunction<Group, void, &Group::onJsThread> tsfn_;
  std::thread thread_;
};

}  // namespace kiln::dist
