#!/usr/bin/env bash
# Kiln beside PyTorch on the GPU machine, alternating rounds (bench/gpu/bench.mjs, then
# bench/gpu/torch_bench.py, ROUNDS times), then the table (bench/gpu/summarize.mjs).
#
#   ROUNDS=2 bash bench/gpu/run.sh       results in $OUT/bench (or /tmp/kiln-gpu-out/bench)
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/kiln-gpu-out}/bench
mkdir -p "$OUT"
log() { echo "== $*"; }
. tests/gpu/env.sh || exit 4
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'
for r in $(seq 1 "${ROUNDS:-2}"); do
  log "round $r: Kiln"
  timeout 200 "$NODE" bench/gpu/bench.mjs "$OUT/kiln-$r.json" || log "Kiln round $r exit $?"
  log "round $r: PyTorch"
  timeout 200 python3 bench/gpu/torch_bench.py "$OUT/torch-$r.json" || log "PyTorch round $r exit $?"
done
"$NODE" bench/gpu/summarize.mjs "$OUT"
