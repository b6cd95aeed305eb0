#!/usr/bin/env bash
# Kiln (examples/char-gpt.mjs) and PyTorch 1.13 (bench/peers/torch_gpt.py) training the same GPT
# on Tiny Shakespeare in one run: the same initial weights (written by Kiln, read by the peer),
# the same data order, the same hyperparameters. Results in bench/out/char-gpt-{kiln,torch}.json.
#   bash bench/char-gpt-compare.sh [extra arguments for both, e.g. --steps 600 --block 64]
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
# the peer's OpenBLAS kernel matches Kiln's instruction set on this processor (bench/peer-blas.mjs)
CORETYPE=$(node bench/peer-blas.mjs --coretype)
echo "== $(date -u +%FT%TZ) $(uptime)"
node examples/char-gpt.mjs --save-init bench/out/char-gpt-init.safetensors --json bench/out/char-gpt-kiln.json "$@"
echo "== $(date -u +%FT%TZ) $(uptime)"
env -u OPENBLAS_CORETYPE ${CORETYPE:+OPENBLAS_CORETYPE=$CORETYPE} /usr/bin/python3 bench/peers/torch_gpt.py --init bench/out/char-gpt-init.safetensors \
  --json bench/out/char-gpt-torch.json "$@"
echo "== $(date -u +%FT%TZ) $(uptime)"
