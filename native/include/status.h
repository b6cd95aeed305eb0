// Errors raised by kernels and backends. The binding turns a kiln::Error into a JS KilnError
// with the JS stack attached; nothing in native code aborts the process on bad input.
#pragma once
#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace kiln

#define KILN_CHECK(cond, msg)                         \
  do {                                                \
    if (!(cond)) throw ::kiln::Error(std::string(msg)); \
  } while (0)
