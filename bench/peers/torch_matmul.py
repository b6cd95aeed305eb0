"""PyTorch CPU peer for bench/matmul.mjs: GFLOP/s of torch.mm (out=, operands as views, so
transposed forms reach BLAS as transposes, not copies). Reads the shape list as JSON from argv[1]
and prints one JSON object. bench/matmul.mjs chooses the OpenBLAS kernel (OPENBLAS_CORETYPE) from
the processor (bench/peer-blas.mjs); the object names the kernel that ran."""
import json
import os
import sys
import time

import torch

sys.dont_write_bytecode = True  # no __pycache__ beside the script
from blas_info import blas_info  # noqa: E402


def median_seconds(fn, min_time=0.4, rounds=7):
    fn()
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-6)
    reps = max(1, int(min_time / rounds / one))
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t0) / reps)
    times.sort()
    return times[len(times) // 2]


def main():
    shapes = json.loads(sys.argv[1])
    threads = int(os.environ.get("KILN_NUM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    results = []
    for s in shapes:
        m, n, k, ta, tb = s["M"], s["N"], s["K"], s["transA"], s["transB"]
        a = torch.rand(k, m).t() if ta else torch.rand(m, k)  # op(A) is m x k either way
        b = torch.rand(n, k).t() if tb else torch.rand(k, n)
        c = torch.empty(m, n)
        sec = median_seconds(lambda: torch.mm(a, b, out=c))
        results.append({"name": s["name"], "seconds": sec, "gflops": 2.0 * m * n * k / sec / 1e9})
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "corename": blas_info()["corename"],
        "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else None,
        "results": results,
    }))


if __name__ == "__main__":
    main()
