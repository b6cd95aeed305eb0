// LBFGS on the 2-D Rosenbrock function against PyTorch 1.13, with and without the strong-Wolfe
// line search. Kiln's direction math is float64 on the host while PyTorch's float32 run does it
// in float32, so the two differ by float32 rounding that the line search amplifies: each step is
// checked against whichever of PyTorch's float32 and float64 runs it is nearer, at 1e-4 (plain)
// and 2e-3 relative plus 1e-3 absolute (strong Wolfe, whose float32 and float64 references differ
// by 1e-3 at step 4 and 8e-3 at step 5, where x[0] is near 0).
import { describe, expect, it } from 'vitest';
import { type OptimizerFixtures, expectClose, fixture, kiln, optim } from './helpers.js';

const fx = fixture<OptimizerFixtures>('optimizers.json');

function rosenbrock(x: kiln.Tensor): kiln.Tensor {
  const a = x.narrow(0, 0, 1), b = x.narrow(0, 1, 1);
  return a.rsub(1).square().add(b.sub(a.square()).square().mul(100)).sum();
}

function nearer(actual: number[], a: number[], b: number[]): number[] {
  const d = (r: number[]) => Math.max(...r.map((v, i) => Math.abs(v - actual[i])));
  return d(a) <= d(b) ? a : b;
}

describe('LBFGS matches PyTorch on Rosenbrock', () => {
  for (const c of fx.lbfgs) {
    it(c.name, () => {
      const x = kiln.tensor(c.x0, { requiresGrad: true });
      const opt = new optim.LBFGS([x], c.options);
      const closure = () => {
        opt.zeroGrad();
        const loss = rosenbrock(x);
        loss.backward();
        return loss;
      };
      const [rtol, atol] = c.options.lineSearchFn ? [2e-3, 1e-3] : [1e-4, 1e-6];
      c.float32.forEach((e32, k) => {
        const first = opt.step(closure) as kiln.Tensor;
        expect(first).toBeInstanceOf(kiln.Tensor);
        const got = [...x.toTypedArray()];
        const ref = nearer(got, e32.x, c.float64[k].x);
        expectClose(got, ref, rtol, atol, `${c.name} step ${k + 1} x`);
        const lossRef = ref === e32.x ? e32.loss : c.float64[k].loss;
        expectClose([rosenbrock(x).item()], [lossRef], rtol, atol, `${c.name} step ${k + 1} loss`);
      });
    });
  }

  it('stops at once when the gradient is already below toleranceGrad', () => {
    const x = kiln.tensor([1, 1], { requiresGrad: true });
    const opt = new optim.LBFGS([x]);
    let evals = 0;
    opt.step(() => {
      evals++;
      opt.zeroGrad();
      const loss = rosenbrock(x);
      loss.backward();
      return loss;
    });
    expect(evals).toBe(1);
    expect([...x.toTypedArray()]).toEqual([1, 1]);
  });

  it('minimises a quadratic exactly in a few iterations (strong Wolfe)', () => {
    // f(x) = 0.5 x'Ax - b'x with A = diag(1, 4, 9): minimum at x = b / diag(A).
    const A = kiln.tensor([1, 4, 9]), bv = kiln.tensor([1, -2, 3]);
    const x = kiln.tensor([0, 0, 0], { requiresGrad: true });
    const opt = new optim.LBFGS([x], { lineSearchFn: 'strongWolfe', maxIter: 50 });
    opt.step(() => {
      opt.zeroGrad();
      const loss = x.square().mul(A).mul(0.5).sum().sub(x.mul(bv).sum());
      loss.backward();
      return loss;
    });
    expectClose(x.toTypedArray(), [1, -0.5, 1 / 3], 1e-4, 1e-5, 'argmin');
  });
});
