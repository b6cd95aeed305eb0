"""Which BLAS the PyTorch peer runs on, read from the process itself (shared by the torch peers).

blas_info() -> {"library", "kind", "corename", "config", "threads", "torchThreads"}: the BLAS
libraries mapped into this process after a small torch.mm; for OpenBLAS, the kernel it chose
(openblas_get_corename) and its thread count. The kernel is whatever OPENBLAS_CORETYPE or
OpenBLAS's own detection gave; bench/peer-blas.mjs decides which to ask for.

Run as a script it prints that object as JSON after a 64x64 torch.mm (the probe bench/run.mjs
uses: a kernel the processor cannot run dies here, with its signal, before any workload).
"""
import ctypes
import json

import torch


def _mapped_libraries():
    seen = []
    with open('/proc/self/maps') as f:
        for line in f:
            path = line.split()[-1]
            name = path.rsplit('/', 1)[-1]
            if path.startswith('/') and ('blas' in name or 'mkl' in name) and path not in seen:
                seen.append(path)
    return seen


def blas_info():
    a = torch.ones(64, 64)
    torch.mm(a, a)  # loads the BLAS and runs its kernel once
    libs = _mapped_libraries()
    info = {"library": None, "kind": "unknown", "corename": None, "config": None, "threads": None,
            "torchThreads": torch.get_num_threads(), "libraries": libs}
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            corename = lib.openblas_get_corename
        except (OSError, AttributeError):
            continue
        corename.restype = ctypes.c_char_p
        config = lib.openblas_get_config
        config.restype = ctypes.c_char_p
        info.update(library=path, kind="OpenBLAS", corename=corename().decode(),
                    config=config().decode(), threads=lib.openblas_get_num_threads())
        return info
    if any('mkl' in p.rsplit('/', 1)[-1] for p in libs):
        info.update(kind="MKL", library=next(p for p in libs if 'mkl' in p))
    elif libs:
        # Debian's torch links libblas.so.3: the reference BLAS unless OpenBLAS provides it
        info.update(kind="reference BLAS (install libopenblas0-pthread for OpenBLAS)", library=libs[0])
    return info


if __name__ == '__main__':
    print(json.dumps({"torch": torch.__version__, **blas_info()}))
