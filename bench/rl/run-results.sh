#!/bin/sh
# Every result run of bench/RESULTS.md (RL section): each config for seeds 0-4, one at a time,
# niced, one Kiln thread (the networks are small; a second thread only waits on a shared machine).
# Appends to bench/rl/out/results.jsonl; bench/rl/summarize.mjs prints the table.
#   npm run build:ts && sh bench/rl/run-results.sh [config ...]
cd "$(dirname "$0")/../.."
CONFIGS=${*:-"dqn-cartpole ppo-cartpole a2c-cartpole reinforce-cartpole ppo-pendulum dqn-mountaincar dqn-acrobot"}
for c in $CONFIGS; do
  for seed in 0 1 2 3 4; do
    KILN_NUM_THREADS=1 nice -n 10 node bench/rl/train.mjs "$c" "$seed" || echo "{\"config\":\"$c\",\"seed\":$seed,\"failed\":true}" >> bench/rl/out/results.jsonl
  done
done
