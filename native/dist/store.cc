#include "store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kiln::dist {
namespace {

enum Op : uint8_t { kSet = 1, kGet = 2, kAdd = 3, kCheck = 4 };
constexpr uint32_t kMaxFrame = 64u << 20;  // keys and values are small: addresses, ids, counters

using Clock = std::chrono::steady_clock;

void put32(std::vector<char>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t get32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
void put64(std::vector<char>& b, int64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}
int64_t get64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return static_cast<int64_t>(v);
}

void setNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK); }

std::string errnoText() { return std::strerror(errno); }

// Milliseconds left before the deadline (0 when passed).
int msLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

}  // namespace

// ---- server ----

StoreServer::StoreServer(int port) {
  listenFd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0) throw Error("store: socket: " + errnoText());
  int one = 1;
  setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(listenFd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listenFd_, 128) != 0) {
    std::string why = errnoText();
    close(listenFd_);
    throw Error("store: cannot listen on port " + std::to_string(port) + ": " + why +
                (errno == EADDRINUSE ? " (MASTER_PORT is taken: another job, or a previous run still exiting)" : ""));
  }
  socklen_t len = sizeof(addr);
  getsockname(listenFd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  setNonBlocking(listenFd_);
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(listenFd_);
    throw Error("store: pipe: " + errnoText());
  }
  thread_ = std::thread([this] { run(); });
}

StoreServer::~StoreServer() {
  char c = 1;
  (void)!write(wake_[1], &c, 1);
  if (thread_.joinable()) thread_.join();
  for (Conn& c : conns_) close(c.fd);
  close(listenFd_);
  close(wake_[0]);
  close(wake_[1]);
}

StoreServer::Conn* StoreServer::find(int fd) {
  for (Conn& c : conns_)
    if (c.fd == fd) return &c;
  return nullptr;
}

void StoreServer::reply(int fd, uint8_t status, const std::vector<char>& payload) {
  Conn* c = find(fd);
  if (c == nullptr) return;  // the client went away while waiting
  put32(c->out, static_cast<uint32_t>(1 + payload.size()));
  c->out.push_back(static_cast<char>(status));
  c->out.insert(c->out.end(), payload.begin(), payload.end());
}

void StoreServer::handle(Conn& c, const char* body, size_t n) {
  if (n < 5 || get32(body + 1) > n - 5) {
    reply(c.fd, 1, {});
    return;
  }
  uint8_t op = static_cast<uint8_t>(body[0]);
  uint32_t klen = get32(body + 1);
  std::string key(body + 5, klen);
  const char* val = body + 5 + klen;
  size_t vlen = n - 5 - klen;
  switch (op) {
    case kSet: {
      data_[key].assign(val, val + vlen);
      reply(c.fd, 0, {});
      auto w = waiting_.find(key);
      if (w != waiting_.end()) {
        for (int fd : w->second) reply(fd, 0, data_[key]);
        waiting_.erase(w);
      }
      break;
    }
    case kGet: {
      auto it = data_.find(key);
      if (it != data_.end()) reply(c.fd, 0, it->second);
      else waiting_[key].push_back(c.fd);
      break;
    }
    case kAdd: {
      if (vlen != 8) return reply(c.fd, 1, {});
      auto& v = data_[key];
      int64_t cur = v.size() == 8 ? get64(v.data()) : 0;
      cur += get64(val);
      v.clear();
      put64(v, cur);
      std::vector<char> out;
      put64(out, cur);
      reply(c.fd, 0, out);
      break;
    }
    case kCheck:
      reply(c.fd, 0, {static_cast<char>(data_.count(key) ? 1 : 0)});
      break;
    default:
      reply(c.fd, 1, {});
  }
}

void StoreServer::run() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listenFd_, POLLIN, 0});
    for (Conn& c : conns_) fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
    if (poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) return;
    if (fds[1].revents & POLLIN) {
      for (;;) {
        int fd = accept4(listenFd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conns_.push_back({fd, {}, {}});
      }
    }
    std::vector<int> closed;
    for (size_t i = 2; i < fds.size(); ++i) {
      int fd = fds[i].fd;
      Conn* c = find(fd);
      if (c == nullptr) continue;
      bool dead = (fds[i].revents & (POLLERR | POLLNVAL)) != 0;
      if (!dead && (fds[i].revents & (POLLIN | POLLHUP))) {
        char buf[65536];
        for (;;) {
          ssize_t r = read(fd, buf, sizeof(buf));
          if (r > 0) {
            c->in.insert(c->in.end(), buf, buf + r);
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EINTR)) dead = true;
          break;
        }
        size_t pos = 0;
        while (!dead && c->in.size() - pos >= 4) {
          uint32_t len = get32(c->in.data() + pos);
          if (len > kMaxFrame) {
            dead = true;
            break;
          }
          if (c->in.size() - pos - 4 < len) break;
          std::vector<char> body(c->in.begin() + pos + 4, c->in.begin() + pos + 4 + len);
          pos += 4 + len;
          handle(*c, body.data(), body.size());
          c = find(fd);  // handle() may grow other connections' buffers, not the vector
        }
        if (c != nullptr) c->in.erase(c->in.begin(), c->in.begin() + pos);
      }
      if (dead) closed.push_back(fd);
    }
    // flush every connection with output (a SET may have answered other connections' GETs)
    for (Conn& c : conns_) {
      while (!c.out.empty()) {
        ssize_t w = write(c.fd, c.out.data(), c.out.size());
        if (w > 0) {
          c.out.erase(c.out.begin(), c.out.begin() + w);
          continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR) closed.push_back(c.fd);
        break;
      }
    }
    for (int fd : closed) {
      for (auto& [key, list] : waiting_) std::erase(list, fd);
      for (size_t k = 0; k < conns_.size(); ++k) {
        if (conns_[k].fd == fd) {
          close(fd);
          conns_.erase(conns_.begin() + k);
          break;
        }
      }
    }
  }
}

// ---- client ----

StoreClient::StoreClient(const std::string& host, int port, Ms connectTimeout)
    : host_(host), port_(port), defaultTimeout_(connectTimeout) {
  std::lock_guard<std::mutex> lock(mu_);
  connectTo(connectTimeout);
}

StoreClient::~StoreClient() {
  if (fd_ >= 0) close(fd_);
}

std::string StoreClient::where() const { return host_ + ":" + std::to_string(port_); }

void StoreClient::connectTo(Ms timeout) {
  auto deadline = Clock::now() + timeout;
  std::string last = "no attempt";
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  for (;;) {
    addrinfo* res = nullptr;
    int gai = getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &res);
    if (gai != 0) {
      last = std::string("cannot resolve ") + host_ + ": " + gai_strerror(gai);
    } else {
      int fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
      setNonBlocking(fd);
      int rc = connect(fd, res->ai_addr, res->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = poll(&p, 1, std::max(1, std::min(msLeft(deadline), 1000))) == 1 ? 0 : -1;
        int err = 0;
        socklen_t len = sizeof(err);
        if (rc == 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (rc != 0 || err != 0) {
          errno = err != 0 ? err : ETIMEDOUT;
          rc = -1;
        }
      }
      freeaddrinfo(res);
      if (rc == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fd_ = fd;
        return;
      }
      last = errnoText();
      close(fd);
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(Ms(std::min(50, std::max(1, msLeft(deadline)))));
  }
  throw Error("the rendezvous store at " + where() + " was not reachable within " + std::to_string(timeout.count()) +
              " ms (" + last + "): is rank 0 running, with the same MASTER_ADDR and MASTER_PORT on every rank?");
}

std::vector<char> StoreClient::request(uint8_t op, const std::string& key, const std::vector<char>& payload, Ms timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  auto deadline = Clock::now() + timeout;
  if (fd_ < 0) connectTo(timeout);
  std::vector<char> frame;
  put32(frame, static_cast<uint32_t>(1 + 4 + key.size() + payload.size()));
  frame.push_back(static_cast<char>(op));
  put32(frame, static_cast<uint32_t>(key.size()));
  frame.insert(frame.end(), key.begin(), key.end());
  frame.insert(frame.end(), payload.begin(), payload.end());
  // A failure leaves the connection out of step with the server: drop it, reconnect next time.
  auto fail = [&](const std::string& why) -> Error {
    close(fd_);
    fd_ = -1;
    return Error("rendezvous store " + where() + ": " + why);
  };
  size_t sent = 0;
  while (sent < frame.size()) {
    ssize_t w = send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (w > 0) {
      sent += static_cast<size_t>(w);
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) throw fail("send failed: " + errnoText() + " (did rank 0 exit?)");
    pollfd p{fd_, POLLOUT, 0};
    if (poll(&p, 1, msLeft(deadline)) == 0) throw fail("timed out sending");
  }
  std::vector<char> in;
  size_t need = 4;
  bool haveLen = false;
  while (in.size() < need) {
    pollfd p{fd_, POLLIN, 0};
    int pr = poll(&p, 1, msLeft(deadline));
    if (pr == 0) {
      throw fail(op == kGet ? "key '" + key + "' was not set within " + std::to_string(timeout.count()) +
                                  " ms (a rank did not reach the same point: did one exit or hang?)"
                            : "timed out waiting for a reply");
    }
    if (pr < 0 && errno != EINTR) throw fail("poll: " + errnoText());
    char buf[65536];
    ssize_t r = recv(fd_, buf, std::min(sizeof(buf), need - in.size()), 0);
    if (r == 0) throw fail("connection closed (rank 0, which serves the store, exited?)");
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      throw fail("recv failed: " + errnoText());
    }
    in.insert(in.end(), buf, buf + r);
    if (!haveLen && in.size() == 4) {
      uint32_t len = get32(in.data());
      if (len == 0 || len > kMaxFrame) throw fail("malformed reply");
      need = 4 + len;
      haveLen = true;
    }
  }
  if (in[4] != 0) throw fail("the server refused the request");
  return std::vector<char>(in.begin() + 5, in.end());
}

void StoreClient::set(const std::string& key, const std::vector<char>& value) { request(kSet, key, value, defaultTimeout_); }

std::vector<char> StoreClient::get(const std::string& key, Ms timeout) { return request(kGet, key, {}, timeout); }

int64_t StoreClient::add(const std::string& key, int64_t delta) {
  std::vector<char> p;
  put64(p, delta);
  auto r = request(kAdd, key, p, defaultTimeout_);
  if (r.size() != 8) throw Error("rendezvous store " + where() + ": malformed reply to add");
  return get64(r.data());
}

bool StoreClient::check(const std::string& key) {
  auto r = request(kCheck, key, {}, defaultTimeout_);
  return r.size() == 1 && r[0] != 0;
}

}  // namespace kiln::dist
