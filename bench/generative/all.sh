#!/usr/bin/env bash
# The recorded run of bench/RESULTS.md ("Generative models"), sized for a quiet 2-core machine
# (about 75 minutes): the FID classifier (3 epochs on all 60000 training images), AE and VAE
# (5 epochs on all 60000) and the two GANs (5 epochs on the first 20000), 3 seeds each (the AE 10), Kiln and
# PyTorch alternating, then the Frechet distances and the table. The sizes are variables.
#   npm run build:ts && nice -n 10 bash bench/generative/all.sh > bench/out/generative/all.log 2>&1
set -euo pipefail
cd "$(dirname "$0")/../.."
lscpu | grep 'Model name'; git rev-parse --short HEAD; date -u
node bench/generative/classifier.mjs --epochs "${CLASSIFIER_EPOCHS:-3}" --limit "${CLASSIFIER_LIMIT:-60000}"
# the AE over 10 seeds: its seed-to-seed spread (about 3%) is wider than the 2% target
PROGRAMS="autoencoder" SEEDS="${AE_SEEDS:-0 1 2 3 4 5 6 7 8 9}" EPOCHS="${AE_EPOCHS:-5}" LIMIT="${AE_LIMIT:-60000}" bash bench/generative/run.sh
PROGRAMS="vae" SEEDS="${SEEDS:-0 1 2}" EPOCHS="${AE_EPOCHS:-5}" LIMIT="${AE_LIMIT:-60000}" bash bench/generative/run.sh
PROGRAMS="dcgan wgan-gp" SEEDS="${SEEDS:-0 1 2}" EPOCHS="${GAN_EPOCHS:-5}" LIMIT="${GAN_LIMIT:-20000}" bash bench/generative/run.sh
node bench/generative/fid.mjs --json bench/out/generative/fid-dcgan.json bench/out/generative/{kiln,torch}-dcgan-*/samples.safetensors
node bench/generative/fid.mjs --json bench/out/generative/fid-wgan-gp.json bench/out/generative/{kiln,torch}-wgan-gp-*/samples.safetensors
node bench/generative/table.mjs
uptime; date -u
