// Our declarations of the part of OpenMPI's C API that Kiln uses, so kiln_dist.node compiles
// without MPI's headers and opens libmpi.so.40 with dlopen only when a group asks for MPI.
// OpenMPI's ABI: handles are pointers to its structs and the predefined objects (MPI_COMM_WORLD,
// MPI_FLOAT, MPI_SUM, ...) are the addresses of exported globals (mpi.h: OMPI_PREDEFINED_GLOBAL).
// mpi_api_check.cc static_asserts every declaration here against the real mpi.h.
#pragma once
#include <cstddef>

// OpenMPI's handle types are pointers to these (opaque) structs, at global scope as in mpi.h.
struct ompi_communicator_t;
struct ompi_datatype_t;
struct ompi_op_t;
struct ompi_request_t;
struct ompi_group_t;
struct ompi_errhandler_t;
struct ompi_status_public_t;  // MPI_Status: Kiln passes MPI_STATUS_IGNORE (null) only

namespace kiln::dist::mpi {

using Comm = ompi_communicator_t*;
using Datatype = ompi_datatype_t*;
using Op = ompi_op_t*;
using Request = ompi_request_t*;
using Group = ompi_group_t*;
using Errhandler = ompi_errhandler_t*;

using Status = ompi_status_public_t;

constexpr int SUCCESS = 0;
constexpr int THREAD_MULTIPLE = 3;
constexpr int MAX_ERROR_STRING = 256;
inline void* const IN_PLACE = reinterpret_cast<void*>(1);

struct Api {
  int (*Init_thread)(int*, char***, int, int*);
  int (*Initialized)(int*);
  int (*Finalized)(int*);
  int (*Finalize)();
  int (*Abort)(Comm, int);
  int (*Get_library_version)(char*, int*);
  int (*Error_string)(int, char*, int*);
  int (*Comm_rank)(Comm, int*);
  int (*Comm_size)(Comm, int*);
  int (*Comm_dup)(Comm, Comm*);
  int (*Comm_group)(Comm, Group*);
  int (*Group_incl)(Group, int, const int[], Group*);
  int (*Group_free)(Group*);
  int (*Comm_create_group)(Comm, Group, int, Comm*);
  int (*Comm_free)(Comm*);
  int (*Comm_set_errhandler)(Comm, Errhandler);
  int (*Iallreduce)(const void*, void*, int, Datatype, Op, Comm, Request*);
  int (*Ibcast)(void*, int, Datatype, int, Comm, Request*);
  int (*Iallgather)(const void*, int, Datatype, void*, int, Datatype, Comm, Request*);
  int (*Ireduce_scatter_block)(const void*, void*, int, Datatype, Op, Comm, Request*);
  int (*Ibarrier)(Comm, Request*);
  int (*Isend)(const void*, int, Datatype, int, int, Comm, Request*);
  int (*Irecv)(void*, int, Datatype, int, int, Comm, Request*);
  int (*Test)(Request*, int*, Status*);
  // predefined objects: the addresses of OpenMPI's globals
  Comm commWorld;
  Datatype floatType, intType;
  Op opSum, opMax, opMin;
  Errhandler errorsReturn;
};

// The function and object names dlsym looks up, in the order of Api's fields.
#define KILN_MPI_FUNCTIONS(X)                                                                        \
  X(Init_thread) X(Initialized) X(Finalized) X(Finalize) X(Abort) X(Get_library_version) X(Error_string) \
  X(Comm_rank) X(Comm_size) X(Comm_dup) X(Comm_group) X(Group_incl) X(Group_free) X(Comm_create_group)   \
  X(Comm_free) X(Comm_set_errhandler) X(Iallreduce) X(Ibcast) X(Iallgather) X(Ireduce_scatter_block)     \
  X(Ibarrier) X(Isend) X(Irecv) X(Test)
#define KILN_MPI_OBJECTS(X)                                                                    \
  X(commWorld, Comm, ompi_mpi_comm_world) X(floatType, Datatype, ompi_mpi_float)               \
  X(intType, Datatype, ompi_mpi_int) X(opSum, Op, ompi_mpi_op_sum) X(opMax, Op, ompi_mpi_op_max) \
  X(opMin, Op, ompi_mpi_op_min) X(errorsReturn, Errhandler, ompi_mpi_errors_return)

}  // namespace kiln::dist::mpi
