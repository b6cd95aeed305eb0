#!/usr/bin/env bash
# The recorded run of bench/RESULTS.md ("Generative models"), sized for the shared 2-core
# machine (load 20-25 when recorded): the classifier, AE and VAE on the first AE_LIMIT
# training images and the two GANs on the first GAN_LIMIT, Kiln and PyTorch alternating, then the table.
#   npm run build:ts && nice -n 10 bash bench/generative/all.sh > bench/out/generative/all.log 2>&1
set -euo pipefail
cd "$(dirname "$0")/../.."
lscpu | grep 'Model name'; git rev-parse --short HEAD; date -u
node bench/generative/classifier.mjs --epochs "${CLASSIFIER_EPOCHS:-1}" --limit "${CLASSIFIER_LIMIT:-20000}"
PROGRAMS="autoencoder vae" SEEDS="${SEEDS:-0 1 2}" EPOCHS="${AE_EPOCHS:-1}" LIMIT="${AE_LIMIT:-12800}" bash bench/generative/run.sh
PROGRAMS="dcgan wgan-gp" SEEDS="${SEEDS:-0 1 2}" EPOCHS="${GAN_EPOCHS:-5}" LIMIT="${GAN_LIMIT:-640}" bash bench/generative/run.sh
node bench/generative/fid.mjs --json bench/out/generative/fid-dcgan.json bench/out/generative/{kiln,torch}-dcgan-*/samples.safetensors
node bench/generative/fid.mjs --json bench/out/generative/fid-wgan-gp.json bench/out/generative/{kiln,torch}-wgan-gp-*/samples.safetensors
node bench/generative/table.mjs
uptime; date -u
