// Device memory a native op needs only for the duration of one call (the recurrences' running
// gradients), released on every exit path.
#pragma once
#include <cstddef>

#include "../include/backend.h"

namespace kiln::binding {

class Scratch {
 public:
  Scratch(Backend& be, size_t floats) : be_(be), p_(static_cast<float*>(be.alloc(floats * sizeof(float)))) {}
  ~Scratch() { be_.release(p_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  float* get() const { return p_; }

 private:
  Backend& be_;
  float* p_;
};

}  // namespace kiln::binding
