#!/usr/bin/env bash
# Kiln beside PyTorch on the four generative programs: for each program and seed, the Kiln run and
# the PyTorch run (bench/generative/torch_generative.py: same architecture, init scheme, batch
# order, steps) one after the other, then with FID=1 the Frechet distances of all samples
# (fid.mjs); table.mjs prints the side-by-side table. Logs and outputs go to bench/out/generative/
# (or $OUT; the FID classifier stays in bench/out/generative/).
# With SIDE_BY_SIDE=1 the two runs of a seed go at once, each on one core with one thread (taskset;
# KILN_NUM_THREADS=1, OMP/OPENBLAS_NUM_THREADS=1), the cores swapped from seed to seed: a
# per-core comparison, both sides under the same conditions at the same time.
#
#   npm run build:ts && node bench/generative/classifier.mjs   # once: the FID classifier
#   PROGRAMS="dcgan" SEEDS="0 1 2" EPOCHS=5 LIMIT=640 FID=1 nice -n 10 bash bench/generative/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-bench/out/generative}
PROGRAMS=${PROGRAMS:-"autoencoder vae dcgan wgan-gp"}
SEEDS=${SEEDS:-"0 1 2"}
mkdir -p "$OUT"
# the peer's OpenBLAS kernel matches Kiln's instruction set on this processor (bench/peer-blas.mjs)
CORETYPE=$(node bench/peer-blas.mjs --coretype)
extra=()
[ -n "${EPOCHS:-}" ] && extra+=(--epochs "$EPOCHS")
[ -n "${LIMIT:-}" ] && extra+=(--limit "$LIMIT")
# one side's run of $program and $seed; the arguments go before the program (environment, taskset)
run_kiln() { "$@" node "examples/$program.mjs" --seed "$seed" --out "$OUT/kiln-$program-$seed" "${extra[@]}"; }
run_torch() {
  env -u OPENBLAS_CORETYPE ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} "$@" /usr/bin/python3 bench/generative/torch_generative.py \
    "$program" --seed "$seed" --out "$OUT/torch-$program-$seed" "${extra[@]}"
}
for program in $PROGRAMS; do
  core=0
  for seed in $SEEDS; do
    echo "== $program seed $seed ($(uptime | sed 's/.*load/load/'))"
    if [ "${SIDE_BY_SIDE:-0}" = 1 ]; then
      run_kiln env KILN_NUM_THREADS=1 taskset -c "$core" > "$OUT/kiln-$program-$seed.log" 2>&1 &
      kiln_pid=$!
      run_torch OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 taskset -c $((1 - core)) > "$OUT/torch-$program-$seed.log" 2>&1 &
      torch_pid=$!
      status=0
      wait "$kiln_pid" || status=$?
      wait "$torch_pid" || status=$?
      tail -n 3 "$OUT/kiln-$program-$seed.log" "$OUT/torch-$program-$seed.log"
      [ "$status" = 0 ]
      core=$((1 - core))
    else
      run_kiln 2>&1 | tail -n 3
      run_torch 2>&1 | tail -n 3
    fi
  done
  if [ "${FID:-0}" = 1 ] && { [ "$program" = dcgan ] || [ "$program" = wgan-gp ]; }; then
    node bench/generative/fid.mjs --json "$OUT/fid-$program.json" "$OUT"/{kiln,torch}-"$program"-*/samples.safetensors
  fi
done
