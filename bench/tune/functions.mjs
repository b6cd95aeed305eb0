// The standard test functions of the regret benchmark, with their domains and known minima.
// The Python peer (optuna_regret.py) defines the same functions; functions.json checks them equal.

const branin = ([x, y]) => {
  const b = 5.1 / (4 * Math.PI ** 2), c = 5 / Math.PI, t = 1 / (8 * Math.PI);
  return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * Math.cos(x) + 10;
};

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]];
const H_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]].map((r) => r.map((v) => v * 1e-4));
const hartmann6 = (x) => {
  let s = 0;
  for (let i = 0; i < 4; i++) {
    let e = 0;
    for (let j = 0; j < 6; j++) e += H_A[i][j] * (x[j] - H_P[i][j]) ** 2;
    s += H_ALPHA[i] * Math.exp(-e);
  }
  return -s;
};

const rosenbrock = (x) => {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) s += 100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2;
  return s;
};

/** name -> { f, bounds [[lo, hi] per dimension], optimum, nTrials } */
export const FUNCTIONS = {
  branin: { f: branin, bounds: [[-5, 10], [0, 15]], optimum: 0.397887357729738, nTrials: 30 },
  hartmann6: { f: hartmann6, bounds: Array(6).fill([0, 1]), optimum: -3.32236801141551, nTrials: 60 },
  rosenbrock4: { f: rosenbrock, bounds: Array(4).fill([-5, 10]), optimum: 0, nTrials: 60 },
};
