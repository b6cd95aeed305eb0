"""Optuna side of the regret benchmark (bench/tune/regret.mjs runs it, alternating with Kiln).

Usage: python3 optuna_regret.py FUNCTION SAMPLER SEEDS  ->  JSON on stdout:
  {"regrets": [...], "overheadMs": [...], "cpuMs": [...]}  one entry per seed (0..SEEDS-1): the mean
  wall and CPU time per trial spent outside the objective (sampling and bookkeeping).
"""
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


H_ALPHA = [1.0, 1.2, 3.0, 3.2]
H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
H_P = [[v * 1e-4 for v in r] for r in [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                                       [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]]


def hartmann6(x):
    return -sum(H_ALPHA[i] * math.exp(-sum(H_A[i][j] * (x[j] - H_P[i][j]) ** 2 for j in range(6))) for i in range(4))


def rosenbrock(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


FUNCTIONS = {
    "branin": (branin, [(-5, 10), (0, 15)], 0.397887357729738, 30),
    "hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551, 60),
    "rosenbrock4": (rosenbrock, [(-5, 10)] * 4, 0.0, 60),
}


def main():
    name, sampler_name, seeds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    f, bounds, optimum, n_trials = FUNCTIONS[name]
    regrets, overhead, cpu = [], [], []
    for seed in range(seeds):
        sampler = optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe" else optuna.samplers.RandomSampler(seed=seed)
        study = optuna.create_study(sampler=sampler)
        spent = [0.0]

        def objective(trial):
            x = [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
            t0 = time.perf_counter()
            v = f(x)
            spent[0] += time.perf_counter() - t0
            return v

        t0, c0 = time.perf_counter(), time.process_time()
        study.optimize(objective, n_trials=n_trials)
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
        regrets.append(study.best_value - optimum)
        overhead.append((total - spent[0]) / n_trials * 1000)
        cpu.append((total_cpu - spent[0]) / n_trials * 1000)
    print(json.dumps({"regrets": regrets, "overheadMs": overhead, "cpuMs": cpu}))


if __name__ == "__main__":
    main()
