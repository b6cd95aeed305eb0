// The engines kiln_dist.node opens itself with dlopen (MPI, NCCL): their entry points. Gloo's
// comes from kiln_gloo.node as an EngineFactory (engine.h).
#pragma once
#include <memory>
#include <string>

#include "engine.h"

namespace kiln::dist {

struct LibraryStatus {
  bool ok = false;
  std::string reason;   // why not, naming the package that provides the library
  std::string library;  // the path or soname that was opened
  int version = 0;
};

// ---- MPI (OpenMPI's libmpi.so.40; mpi_engine.cc) ----
struct MpiWorld {
  int rank = 0, size = 1;
  std::string library;
};
LibraryStatus mpiProbe();
// MPI_Init_thread(MPI_THREAD_MULTIPLE) on a thread kept for MPI's lifetime (MPI wants its
// initialising thread to finalise it); every group then calls MPI from its own thread.
MpiWorld mpiInit(Ms timeout);
void mpiFinalize(bool abort);
std::unique_ptr<Engine> createMpiEngine(const EngineConfig& cfg);

// ---- NCCL (libnccl.so.2 from the nvidia-nccl wheel, with the CUDA driver; nccl_engine.cc) ----
LibraryStatus ncclProbe();
std::unique_ptr<Engine> createNcclEngine(const EngineConfig& cfg, KvStore& store);

}  // namespace kiln::dist
