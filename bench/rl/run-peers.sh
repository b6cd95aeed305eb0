#!/bin/sh
# The PyTorch peer of the DQN result runs (bench/rl/torch_rl.py, the zoo's hyperparameters and
# Gymnasium's dynamics in plain Python): seeds 0-4 of each env, one at a time, niced, one thread,
# each trained and then evaluated greedily over 100 episodes. Appends to
# bench/rl/out/torch-dqn-<env>[-timeout-done].jsonl; bench/rl/summarize.mjs prints the table.
#   sh bench/rl/run-peers.sh [env ...]        env: mountaincar acrobot cartpole mountaincar-timeout-done
cd "$(dirname "$0")/../.."
mkdir -p bench/rl/out
for e in ${*:-"mountaincar acrobot"}; do
  case $e in
    mountaincar*) steps=120000 ;;
    acrobot) steps=100000 ;;
    cartpole) steps=50000 ;;
    *) echo "unknown env $e" >&2; exit 1 ;;
  esac
  flag=""; [ "${e%-timeout-done}" != "$e" ] && flag="--timeout-terminal"
  for seed in ${SEEDS:-0 1 2 3 4}; do
    TORCH_THREADS=1 nice -n 10 /usr/bin/python3 bench/rl/torch_rl.py dqn "$steps" "$seed" --eval "--env=${e%-timeout-done}" $flag >> "bench/rl/out/torch-dqn-$e.jsonl" ||
      echo "{\"env\":\"$e\",\"seed\":$seed,\"failed\":true}" >> "bench/rl/out/torch-dqn-$e.jsonl"
  done
done
