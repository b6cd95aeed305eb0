#!/usr/bin/env bash
# The GPU check, one prepared run on the GPU machine (see /work/shared/GPU.md). Brings nothing
# from the network: node comes compressed in .device/node.xz, the addons prebuilt in build/ and
# build-cuda/ (built on the CPU machine with the same nvcc 13.0, sm_90 + PTX).
#
#   bash tests/gpu/run.sh            results in $OUT (or /tmp/kiln-gpu-out)
#
# Steps: 1. node; 2. cuBLAS from the nvidia wheel (LD_LIBRARY_PATH + KILN_CUBLAS_PATH);
# 3. compile and run native/cuda/cublas_api_check.cc against the wheel's headers (our hand-written
# declarations must match them: a wrong enum is a silent wrong answer); 4. status; 5. every op on
# CUDA against the CPU (tests/gpu/check-ops.mjs); 6. MLP/CNN/LSTM training steps against the CPU
# (tests/gpu/check-training.mjs); 7. autograd across devices (tests/gpu/check-autograd.mjs);
# 8. NCCL: native/dist/nccl_api_check.cc against the nvidia-nccl wheel's headers, then
# tests/gpu/check-nccl.mjs (needs kiln_dist.node from `npm run build:dist`, carried in
# native/dist/build/Release); 9. float64, kiln.linalg's round trip, GaussianMixture and KMeans
# (tests/gpu/check-mixture.mjs); 10. bfloat16 refused on CUDA (tests/gpu/check-bf16.mjs). Exit status: non-zero if any step failed.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/kiln-gpu-out}
mkdir -p "$OUT"
rc=0
log() { echo "== $*"; }

# 1. node, 2. cuBLAS from the wheel (NODE, NV, CUBLAS_LIB, CUBLAS_INC; shared with bench/gpu/run.sh)
. tests/gpu/env.sh || exit 4
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$OUT/nvidia-smi.txt"

# 3. our cuBLAS declarations against the real headers
CUDA_INC=/usr/local/cuda/include
command -v nvcc > /dev/null && CUDA_INC="$(dirname "$(readlink -f "$(command -v nvcc)")")/../include"
if [ -n "$CUBLAS_INC" ] && [ -f "$CUBLAS_INC/cublasLt.h" ]; then
  log "cublas_api_check (headers: $CUBLAS_INC)"
  if g++ -std=c++17 -I"$CUBLAS_INC" -I"$CUDA_INC" native/cuda/cublas_api_check.cc -ldl -o /tmp/cublas_api_check \
      > "$OUT/cublas_api_check.txt" 2>&1 && /tmp/cublas_api_check "$CUBLAS_LIB" >> "$OUT/cublas_api_check.txt" 2>&1; then
    cat "$OUT/cublas_api_check.txt"
  else
    cat "$OUT/cublas_api_check.txt"; log "cublas_api_check FAILED: fix native/cuda/cublas_api.h before trusting matmul"; rc=3
  fi
else
  log "cublas_api_check skipped: no cublasLt.h beside the wheel's lib ($CUBLAS_INC)"; rc=3
fi

# 4. status (what kiln.backendInfo() reports), 5. every op against the CPU
log "check-ops"
timeout 420 "$NODE" tests/gpu/check-ops.mjs "$OUT" 2>&1 | tee "$OUT/check-ops.txt"
ops=${PIPESTATUS[0]}
[ "$ops" -ne 0 ] && rc=$ops
# 6. full training steps (MLP, CNN, LSTM) on CUDA against the CPU (needs dist/, carried along)
log "check-training"
timeout 300 "$NODE" tests/gpu/check-training.mjs "$OUT" 2>&1 | tee "$OUT/check-training.txt"
train=${PIPESTATUS[0]}
[ "$train" -ne 0 ] && rc=$train
# 7. autograd across devices: to() gradients, module.to() in place, HVP and checkpoint, fit()
log "check-autograd"
timeout 300 "$NODE" tests/gpu/check-autograd.mjs "$OUT" 2>&1 | tee "$OUT/check-autograd.txt"
ag=${PIPESTATUS[0]}
[ "$ag" -ne 0 ] && rc=$ag
# 8. NCCL (kiln_dist.node, carried in native/dist/build/Release): our declarations against the
# wheel's nccl.h and cuda.h, then a world of one rank on the GPU (tests/gpu/check-nccl.mjs)
NCCL_DIR=""
for sub in nccl cu13 cu12; do
  if [ -n "$NV" ] && ls "$NV/$sub/lib"/libnccl.so.* > /dev/null 2>&1; then NCCL_DIR="$NV/$sub"; break; fi
done
nccl=0
if [ -n "$NCCL_DIR" ] && [ -f "$NCCL_DIR/include/nccl.h" ]; then
  log "nccl_api_check (headers: $NCCL_DIR/include)"
  export KILN_NCCL_LIBRARY="$NCCL_DIR/lib/libnccl.so.2"
  if g++ -std=c++17 -I"$NCCL_DIR/include" -I"$CUDA_INC" native/dist/nccl_api_check.cc -ldl -o /tmp/nccl_api_check \
      > "$OUT/nccl_api_check.txt" 2>&1 && /tmp/nccl_api_check "$NCCL_DIR/lib" >> "$OUT/nccl_api_check.txt" 2>&1; then
    cat "$OUT/nccl_api_check.txt"
  else
    cat "$OUT/nccl_api_check.txt"; log "nccl_api_check FAILED: fix native/dist/nccl_api.h before trusting NCCL"; nccl=3
  fi
else
  log "nccl_api_check skipped: no NCCL wheel (pip install nvidia-nccl-cu12) under '${NV:-none}'"; nccl=3
fi
log "check-nccl"
timeout 120 "$NODE" tests/gpu/check-nccl.mjs "$OUT" 2>&1 | tee "$OUT/check-nccl.txt"
ncclrun=${PIPESTATUS[0]}
[ "$ncclrun" -ne 0 ] && nccl=$ncclrun
[ "$nccl" -ne 0 ] && [ "$rc" -eq 0 ] && rc=$nccl
# 9. float64 on CUDA, linalg's CPU round trip, EM and k-means against the CPU
log "check-mixture"
timeout 300 "$NODE" tests/gpu/check-mixture.mjs "$OUT" 2>&1 | tee "$OUT/check-mixture.txt"
mix=${PIPESTATUS[0]}
[ "$mix" -ne 0 ] && rc=$mix
# 10. bfloat16 tensors are CPU-only: every way onto CUDA is a clear KilnError
log "check-bf16"
timeout 120 "$NODE" tests/gpu/check-bf16.mjs "$OUT" 2>&1 | tee "$OUT/check-bf16.txt"
bf=${PIPESTATUS[0]}
[ "$bf" -ne 0 ] && rc=$bf
log "done: cublas_api_check $([ $rc -eq 3 ] && echo FAILED || echo ok), check-ops exit $ops, check-training exit $train, check-autograd exit $ag, nccl exit $nccl, check-mixture exit $mix, check-bf16 exit $bf; results in $OUT"
exit $rc
