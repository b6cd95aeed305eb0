// The rendezvous store: a TCP key-value server that rank 0 runs at MASTER_ADDR:MASTER_PORT (on a
// thread of its own, so a busy or blocked JS thread never stalls the other ranks) and a client
// every rank uses. Gloo's full-mesh connect and NCCL's unique id go through it; this Gloo
// release ships no TCP store of its own.
//
// Protocol (little-endian): a frame is a u32 byte count and a body. Request body: u8 op, u32 key
// length, key, then the value (SET) or an i64 (ADD). Reply body: u8 status (0 ok, 1 error),
// then the value (GET), an i64 (ADD) or a u8 (CHECK). A GET is answered once the key is set.
#pragma once
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"

namespace kiln::dist {

class StoreServer {
 public:
  // Listens on every IPv4 interface at `port` (0: a free port, see port()). Throws kiln::Error.
  explicit StoreServer(int port);
  ~StoreServer();  // stops serving and joins the thread
  int port() const { return port_; }

 private:
  struct Conn {
    int fd;
    std::vector<char> in, out;
  };
  void run();
  void handle(Conn& c, const char* body, size_t n);
  void reply(int fd, uint8_t status, const std::vector<char>& payload);
  Conn* find(int fd);

  int listenFd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::vector<Conn> conns_;
  std::map<std::string, std::vector<char>> data_;
  std::map<std::string, std::vector<int>> waiting_;  // GETs not yet answered, by key
  std::thread thread_;
};

class StoreClient : public KvStore {
 public:
  // Connects to host:port, retrying until connectTimeout (rank 0 may start later than the others).
  StoreClient(const std::string& host, int port, Ms connectTimeout);
  ~StoreClient() override;
  void set(const std::string& key, const std::vector<char>& value) override;
  std::vector<char> get(const std::string& key, Ms timeout) override;
  int64_t add(const std::string& key, int64_t delta);
  bool check(const std::string& key);

 private:
  std::vector<char> request(uint8_t op, const std::string& key, const std::vector<char>& payload, Ms timeout);
  void connectTo(Ms timeout);
  std::string where() const;

  std::mutex mu_;
  int fd_ = -1;
  std::string host_;
  int port_;
  Ms defaultTimeout_;
};

}  // namespace kiln::dist
