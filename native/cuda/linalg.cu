// The linear-algebra ops of ops.def have no CUDA kernels: kiln.linalg (src/linalg/raw.ts) copies
// a CUDA tensor to the host, runs the CPU kernel and copies the results back. A direct call with
// device buffers is refused here, naming that path.
#include "launch.cuh"

namespace kiln::cuda {
namespace {

[[noreturn]] void onTheCpu(const char* op) {
  throw Error(std::string("cuda: ") + op +
              " is not implemented on CUDA (kiln.linalg runs it on the CPU: it copies the matrices to the host and back)");
}

}  // namespace

void cholesky(DeviceContext&, const args::cholesky&) { onTheCpu("cholesky"); }
void solveTriangular(DeviceContext&, const args::solveTriangular&) { onTheCpu("solveTriangular"); }
void luFactor(DeviceContext&, const args::luFactor&) { onTheCpu("luFactor"); }
void luSolve(DeviceContext&, const args::luSolve&) { onTheCpu("luSolve"); }
void eigh(DeviceContext&, const args::eigh&) { onTheCpu("eigh"); }
void qr(DeviceContext&, const args::qr&) { onTheCpu("qr"); }

}  // namespace kiln::cuda
