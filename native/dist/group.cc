#include "group.h"

#include <cstring>

#include "util.h"
#include "reduce.h"

namespace kiln::dist {

const char* kindName(Kind k) {
  switch (k) {
    case Kind::Connect: return "rendezvous";
    case Kind::AllReduce: return "allReduce";
    case Kind::Broadcast: return "broadcast";
    case Kind::AllGather: return "allGather";
    case Kind::ReduceScatter: return "reduceScatter";
    case Kind::Barrier: return "barrier";
    case Kind::Send: return "send";
    case Kind::Recv: return "recv";
  }
  return "?";
}

namespace {

double monotonicMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Engines' messages name sockets and files; say what usually happened, then theirs.
std::string explain(const std::string& msg, Ms timeout) {
  auto has = [&](const char* s) { return msg.find(s) != std::string::npos; };
  if (has("imed out") || has("imeout")) {
    return "timed out after " + std::to_string(timeout.count()) + " ms (a peer rank may have hung or died): " + msg;
  }
  if (has("losed by peer") || has("reset by peer") || has("Broken pipe") || has("Connection refused") || has("EOF")) {
    return "a peer rank closed its connection (did it exit?): " + msg;
  }
  return msg;
}

}  // namespace

Group::Group(Napi::Env env, int id, std::string label, Ms timeout, bool device, MakeEngine makeEngine)
    : id_(id), label_(std::move(label)), timeout_(timeout), device_(device), makeEngine_(std::move(makeEngine)) {
  tsfn_ = Napi::TypedThreadSafeFunction<Group, void, &Group::onJsThread>::New(
      env, "kiln.distributed", 0, 1, this, [](Napi::Env, void*, Group* g) { delete g; });
  tsfn_.Unref(env);  // only pending work keeps the process alive
  thread_ = std::thread([this] { loop(); });
}

Napi::Value Group::submit(Napi::Env env, std::unique_ptr<Work> w, bool detached) {
  if (released_ || stop_) throw Error(label_ + " has been destroyed");
  napi_value promise = nullptr;
  if (!detached) {
    // a raw deferred: it is settled later from onJsThread, long after this scope
    if (napi_create_promise(env, &w->deferred, &promise) != napi_ok) throw Error("cannot create a Promise");
    if (pending_++ == 0) tsfn_.Ref(env);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(w));
    ++submitted_;
  }
  cv_.notify_all();
  return detached ? env.Undefined() : Napi::Value(env, promise);
}

void Group::loop() {
  for (;;) {
    std::unique_ptr<Work> w;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) break;
      w = std::move(queue_.front());
      queue_.pop_front();
    }
    run(std::move(w));
    reapWaiters(false);
  }
  reapWaiters(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    exited_ = true;
  }
  cv_.notify_all();
}

void Group::fail(Work& w, const std::string& what) {
  w.error = label_ + ": " + kindName(w.kind) + " failed: " + explain(what, timeout_);
  std::lock_guard<std::mutex> lock(mu_);
  if (broken_.empty()) broken_ = w.error;
}

void Group::run(std::unique_ptr<Work> w) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!broken_.empty()) {
      w->error = label_ + ": " + kindName(w->kind) + " not run: the group failed earlier: " + broken_;
    }
  }
  if (!w->error.empty()) return finish(std::move(w));
  w->started = monotonicMs();
  try {
    Engine* e = engine_.get();
    if (w->kind != Kind::Connect && e == nullptr) throw Error("the group is not connected");
    switch (w->kind) {
      case Kind::Connect: {
        auto made = makeEngine_();
        std::lock_guard<std::mutex> lock(mu_);
        engine_ = std::move(made);
        break;
      }
      case Kind::AllReduce:
        if (w->a.count > 0) e->allReduce(w->a.ptr, w->a.count, w->a.elem, w->op, timeout_);
        break;
      case Kind::Broadcast:
        if (w->a.count > 0) e->broadcast(w->a.ptr, w->a.count, w->a.elem, w->peer, timeout_);
        break;
      case Kind::AllGather:
        if (w->a.count > 0) e->allGather(w->a.ptr, w->b.ptr, w->a.count, w->a.elem, timeout_);
        break;
      case Kind::ReduceScatter:
        if (w->b.count > 0) e->reduceScatter(w->a.ptr, w->b.ptr, w->b.count, w->a.elem, w->op, timeout_);
        break;
      case Kind::Barrier:
        e->barrier(timeout_);
        break;
      case Kind::Send:
      case Kind::Recv: {
        if (w->a.count == 0) break;
        size_t bytes = w->a.count * elemSize(w->a.elem);
        std::shared_ptr<P2P> op = w->kind == Kind::Send ? e->send(w->a.ptr, bytes, w->peer, w->tag)
                                                        : e->recv(w->a.ptr, bytes, w->peer, w->tag);
        // wait on a thread of its own: the next works are posted meanwhile
        auto over = std::make_shared<std::atomic<bool>>(false);
        Work* raw = w.release();
        waiters_.push_back({std::thread([this, raw, op, over] {
                              std::unique_ptr<Work> owned(raw);
                              try {
                                op->wait(timeout_);
                              } catch (const std::exception& ex) {
                                fail(*owned, ex.what());
                              }
                              finish(std::move(owned));
                              over->store(true);
                            }),
                            over});
        return;
      }
    }
  } catch (const std::exception& ex) {
    fail(*w, ex.what());
  }
  finish(std::move(w));
}

void Group::reapWaiters(bool all) {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (all || it->over->load()) {
      it->thread.join();
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
}

void Group::finish(std::unique_ptr<Work> w) {
  bool settle = w->deferred != nullptr;
  double ended = monotonicMs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!settle && w->started > 0) {
      if (times_.size() >= 8192) times_.erase(times_.begin(), times_.begin() + 4096);  // nobody reads them
      times_.push_back(w->started);
      times_.push_back(ended);
    }
    if (settle) done_.push_back(std::move(w));
    ++finished_;
  }
  cv_.notify_all();
  if (settle) tsfn_.NonBlockingCall();
}

void Group::onJsThread(Napi::Env env, Napi::Function, Group* g, void*) {
  if (env == nullptr) return;  // the environment is going away
  std::vector<std::unique_ptr<Work>> ready;
  {
    std::lock_guard<std::mutex> lock(g->mu_);
    ready.swap(g->done_);
  }
  for (auto& w : ready) {
    if (w->error.empty()) {
      napi_resolve_deferred(env, w->deferred, env.Undefined());
    } else {
      napi_reject_deferred(env, w->deferred, kilnError(env, w->error).Value());
    }
    if (--g->pending_ == 0 && !g->released_) g->tsfn_.Unref(env);
  }
}

std::vector<double> Group::takeWorkTimes() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<double> out;
  out.swap(times_);
  return out;
}

void Group::waitAll(Ms timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  bool ok = cv_.wait_for(lock, timeout, [&] { return finished_ == submitted_; });
  if (!ok) {
    throw Error(label_ + ": waited " + std::to_string(timeout.count()) + " ms for " +
                std::to_string(submitted_ - finished_) + " unfinished collective(s)");
  }
  if (!broken_.empty()) throw Error(broken_);
}

void Group::destroy(Ms timeout) {
  if (released_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  bool exited;
  {
    std::unique_lock<std::mutex> lock(mu_);
    exited = cv_.wait_for(lock, timeout, [&] { return exited_; });
  }
  released_ = true;
  if (!exited) {
    // A work outlived its own timeout (an engine that ignores it): leave the thread and this
    // object be, rather than free what it is using. Never expected; the process can still exit.
    thread_.detach();
    return;
  }
  thread_.join();
  engine_.reset();
  // settle what is left from the event loop, then the finalizer deletes this group
  tsfn_.Release();
}

}  // namespace kiln::dist
