# Sourced by tests/gpu/run.sh and bench/gpu/run.sh on the GPU machine: node from .device/node.xz
# (NODE) and cuBLAS from the nvidia wheel (NV, CUBLAS_LIB, CUBLAS_INC, LD_LIBRARY_PATH,
# KILN_CUBLAS_PATH), with Kiln's runtime dependencies unpacked from .device. Expects log() and
# the repository root as the working directory.
# 1. node
if [ -s .device/node.xz ]; then
  xz -dc .device/node.xz > /tmp/node && chmod +x /tmp/node && NODE=/tmp/node
elif command -v node > /dev/null; then
  NODE=$(command -v node)
else
  echo "no node: bring it as .device/node.xz (xz -T2 -9 -c \"\$(command -v node)\" > .device/node.xz)"; return 4
fi
log "node $($NODE --version)"
# dist/ imports Kiln's runtime dependencies (pngjs, protobufjs, ml-matrix): brought packed, as
# tar -cJf .device/node_modules.tar.xz $(npm ls --omit=dev --all --parseable | grep node_modules)
# with relative paths (node-addon-api left out: a build-time header)
if [ ! -d node_modules/pngjs ] && [ -s .device/node_modules.tar.xz ]; then
  tar -xJf .device/node_modules.tar.xz && log "runtime dependencies unpacked into node_modules"
fi

# 2. cuBLAS from the wheel
NV=$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])' 2> /dev/null || true)
CUBLAS_LIB=""; CUBLAS_INC=""
for sub in cu13 cublas; do
  if [ -n "$NV" ] && ls "$NV/$sub/lib"/libcublasLt.so.* > /dev/null 2>&1; then
    CUBLAS_LIB="$NV/$sub/lib"; CUBLAS_INC="$NV/$sub/include"; break
  fi
done
if [ -z "$CUBLAS_LIB" ]; then
  log "cuBLAS wheel not found (nvidia package at '${NV:-none}'); the addon will search on its own"
else
  log "cuBLAS: $CUBLAS_LIB ($(ls "$CUBLAS_LIB" | grep -E '^libcublas' | tr '\n' ' '))"
  export LD_LIBRARY_PATH="$CUBLAS_LIB:${LD_LIBRARY_PATH:-}"
  export KILN_CUBLAS_PATH="$CUBLAS_LIB"
fi
