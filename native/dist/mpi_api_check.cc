// Checks our OpenMPI declarations (mpi_api.h) against the real mpi.h, and that every name the
// loader looks up is exported by libmpi under that name, at the address mpi.h's macros use.
// Built and run by tests/distributed/api-check.test.ts where mpi.h is installed:
//
//   g++ -std=c++17 -fPIC $(mpicc --showme:compile) native/dist/mpi_api_check.cc $(mpicc --showme:link) -ldl
//
// -fPIC: as in kiln_dist.node, OpenMPI's globals are then reached through the GOT; a non-PIC
// executable would get copy relocations, whose addresses differ from the library's symbols.
//
// A failed static_assert names the declaration that is wrong (a wrong one would be a crash or
// a silent wrong answer at run time, since kiln_dist.node is built without mpi.h).
#include <dlfcn.h>
#define OMPI_SKIP_MPICXX 1  // the C API only
#include <mpi.h>

#include <cstdio>

#include "api_check.h"
#include "mpi_api.h"

namespace m = kiln::dist::mpi;

// handles: the very same types (our struct names are OpenMPI's)
static_assert(std::is_same_v<m::Comm, MPI_Comm>, "MPI_Comm");
static_assert(std::is_same_v<m::Datatype, MPI_Datatype>, "MPI_Datatype");
static_assert(std::is_same_v<m::Op, MPI_Op>, "MPI_Op");
static_assert(std::is_same_v<m::Request, MPI_Request>, "MPI_Request");
static_assert(std::is_same_v<m::Group, MPI_Group>, "MPI_Group");
static_assert(std::is_same_v<m::Errhandler, MPI_Errhandler>, "MPI_Errhandler");
static_assert(std::is_same_v<m::Status, MPI_Status>, "MPI_Status");
// constants
KILN_SAME_VALUE(m::SUCCESS, MPI_SUCCESS);
KILN_SAME_VALUE(m::THREAD_MULTIPLE, MPI_THREAD_MULTIPLE);
static_assert(m::MAX_ERROR_STRING >= MPI_MAX_ERROR_STRING, "MPI_Error_string's buffer");
// functions: exactly mpi.h's types
#define KILN_CHECK_FN(name) \
  static_assert(std::is_same_v<decltype(m::Api::name), decltype(&::MPI_##name)>, "signature of MPI_" #name);
KILN_MPI_FUNCTIONS(KILN_CHECK_FN)

int main() {
  int failures = 0;
  void* lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
  if (lib == nullptr) {
    std::printf("mpi_api_check: cannot open libmpi.so.40: %s\n", dlerror());
    return 2;
  }
#define KILN_CHECK_SYM(name)                                         \
  if (dlsym(lib, "MPI_" #name) == nullptr) {                          \
    std::printf("missing symbol MPI_%s\n", #name);                    \
    ++failures;                                                       \
  }
  KILN_MPI_FUNCTIONS(KILN_CHECK_SYM)
  // predefined objects: the loader's symbol is the address mpi.h's macro stands for
#define KILN_CHECK_OBJ(field, type, symbol)                                                    \
  {                                                                                            \
    void* p = dlsym(lib, #symbol);                                                             \
    if (p == nullptr) {                                                                        \
      std::printf("missing object %s\n", #symbol);                                             \
      ++failures;                                                                              \
    }                                                                                          \
  }
  KILN_MPI_OBJECTS(KILN_CHECK_OBJ)
  struct {
    const char* name;
    void* ours;
    void* theirs;
  } objects[] = {{"MPI_COMM_WORLD", dlsym(lib, "ompi_mpi_comm_world"), static_cast<void*>(MPI_COMM_WORLD)},
                 {"MPI_FLOAT", dlsym(lib, "ompi_mpi_float"), static_cast<void*>(MPI_FLOAT)},
                 {"MPI_INT", dlsym(lib, "ompi_mpi_int"), static_cast<void*>(MPI_INT)},
                 {"MPI_SUM", dlsym(lib, "ompi_mpi_op_sum"), static_cast<void*>(MPI_SUM)},
                 {"MPI_MAX", dlsym(lib, "ompi_mpi_op_max"), static_cast<void*>(MPI_MAX)},
                 {"MPI_MIN", dlsym(lib, "ompi_mpi_op_min"), static_cast<void*>(MPI_MIN)},
                 {"MPI_ERRORS_RETURN", dlsym(lib, "ompi_mpi_errors_return"), static_cast<void*>(MPI_ERRORS_RETURN)}};
  for (auto& o : objects) {
    if (o.ours != o.theirs) {
      std::printf("%s: the loader's symbol is not the header's object\n", o.name);
      ++failures;
    }
  }
  if (m::IN_PLACE != MPI_IN_PLACE) {
    std::printf("MPI_IN_PLACE differs\n");
    ++failures;
  }
  std::printf(failures == 0 ? "mpi_api_check: ok\n" : "mpi_api_check: %d failure(s)\n", failures);
  return failures == 0 ? 0 : 1;
}
