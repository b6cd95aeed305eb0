#!/usr/bin/env bash
# Kiln beside PyTorch on the four generative programs: for each program and seed, the Kiln run and
# the PyTorch run (bench/generative/torch_generative.py: same architecture, init scheme, batch
# order, steps) one after the other, then with FID=1 the Frechet distances of all samples
# (fid.mjs); table.mjs prints the side-by-side table. Logs and outputs go to bench/out/generative/.
#
#   npm run build:ts && node bench/generative/classifier.mjs   # once: the FID classifier
#   PROGRAMS="dcgan" SEEDS="0 1 2" EPOCHS=5 LIMIT=640 FID=1 nice -n 10 bash bench/generative/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=bench/out/generative
PROGRAMS=${PROGRAMS:-"autoencoder vae dcgan wgan-gp"}
SEEDS=${SEEDS:-"0 1 2"}
mkdir -p "$OUT"
# the peer's OpenBLAS kernel matches Kiln's instruction set on this processor (bench/peer-blas.mjs)
CORETYPE=$(node bench/peer-blas.mjs --coretype)
extra=()
[ -n "${EPOCHS:-}" ] && extra+=(--epochs "$EPOCHS")
[ -n "${LIMIT:-}" ] && extra+=(--limit "$LIMIT")
for program in $PROGRAMS; do
  for seed in $SEEDS; do
    echo "== $program seed $seed ($(uptime | sed 's/.*load/load/'))"
    node "examples/$program.mjs" --seed "$seed" --out "$OUT/kiln-$program-$seed" "${extra[@]}" 2>&1 | tail -n 3
    env -u OPENBLAS_CORETYPE ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} /usr/bin/python3 bench/generative/torch_generative.py "$program" \
      --seed "$seed" --out "$OUT/torch-$program-$seed" "${extra[@]}" 2>&1 | tail -n 3
  done
  if [ "${FID:-0}" = 1 ] && { [ "$program" = dcgan ] || [ "$program" = wgan-gp ]; }; then
    node bench/generative/fid.mjs --json "$OUT/fid-$program.json" "$OUT"/{kiln,torch}-"$program"-*/samples.safetensors
  fi
done
