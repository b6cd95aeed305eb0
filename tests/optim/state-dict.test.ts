// Optimizer stateDict: saving after 3 of the fixture's 5 steps into a new optimizer and going on
// gives PyTorch's uninterrupted trajectory; loadStateDict rejects state that does not fit.
import { describe, expect, it } from 'vitest';
import { type OptimizerFixtures, expectClose, fixture, flat, kiln, makeOptimizer, makeParams, optim, setGrads } from './helpers.js';
import { trackedTensors } from '../helpers/memory.js';

const fx = fixture<OptimizerFixtures>('optimizers.json');

describe('optimizer stateDict round trip', () => {
  for (const name of ['sgd-momentum', 'adam-amsgrad', 'adamw', 'adagrad-options', 'rmsprop-all', 'sgd-groups', 'adam-groups']) {
    it(`${name}: save after 3 steps, load into a new optimizer, continue`, () => {
      const c = fx.cases.find((x) => x.name === name)!;
      const [w, b] = makeParams(fx);
      let opt = makeOptimizer(c, w, b);
      c.steps.forEach(([ew, eb], k) => {
        if (k === 3) {
          const sd = opt.stateDict();
          expect(Object.keys(sd.state).length).toBeGreaterThan(0);
          expect(sd.paramGroups.map((g) => g.params)).toEqual(c.groups ? [[0], [1]] : [[0, 1]]);
          const next = makeOptimizer({ ...c, options: { ...c.options, lr: 123 } }, w, b);
          next.loadStateDict(sd);
          opt.disposeState(); // the new optimizer holds copies
          opt = next;
        }
        setGrads(fx, k, w, b);
        opt.step();
        expectClose(w.toTypedArray(), flat(ew), 1e-5, 1e-7, `${name} step ${k + 1} w`);
        expectClose(b.toTypedArray(), flat(eb), 1e-5, 1e-7, `${name} step ${k + 1} b`);
      });
    });
  }

  it('LBFGS: save after 2 steps, continue in a new optimizer, same trajectory as uninterrupted', () => {
    const rosen = (x: kiln.Tensor) => {
      const a = x.narrow(0, 0, 1), b2 = x.narrow(0, 1, 1);
      return a.rsub(1).square().add(b2.sub(a.square()).square().mul(100)).sum();
    };
    const runTo = (interrupt: number | null): number[] => {
      const x = kiln.tensor([-1.5, 2], { requiresGrad: true });
      let opt = new optim.LBFGS([x], { maxIter: 4, lineSearchFn: 'strongWolfe' });
      for (let k = 0; k < 4; k++) {
        if (k === interrupt) {
          const next = new optim.LBFGS([x], { maxIter: 4, lineSearchFn: 'strongWolfe' });
          next.loadStateDict(opt.stateDict());
          opt = next;
        }
        const o = opt;
        o.step(() => {
          o.zeroGrad();
          const l = rosen(x);
          l.backward();
          return l;
        });
      }
      return [...x.toTypedArray()];
    };
    // The history goes through float32 tensors, so allow float32 rounding of the curvature pairs.
    expectClose(runTo(2), runTo(null), 1e-4, 1e-5, 'x after 4 steps');
  });
});

describe('loadStateDict validation', () => {
  const trained = () => {
    const w = kiln.tensor([[1, 2, 3]], { requiresGrad: true }), b = kiln.tensor([1], { requiresGrad: true });
    const opt = new optim.Adam([w, b]);
    w.grad = kiln.tensor([[0.1, 0.2, 0.3]]);
    b.grad = kiln.tensor([0.5]);
    opt.step();
    return opt;
  };
  it('names the mismatch', () => {
    const sd = trained().stateDict();
    const p = [kiln.zeros([1, 3], { requiresGrad: true }), kiln.zeros([2], { requiresGrad: true })];
    expect(() => new optim.Adam(p).loadStateDict(sd)).toThrow(/stateDict\.state\[1\]\.expAvg: expected shape \[2\]/);
    expect(() => new optim.Adam([p[0]]).loadStateDict(sd)).toThrow(/paramGroups\[0\]\.params: has 2 parameters/);
    expect(() => new optim.Adam([{ params: [p[0]] }, { params: [p[1]] }]).loadStateDict(sd)).toThrow(/has 1 groups, the optimizer has 2/);
    const bad = { ...sd, paramGroups: [{ ...sd.paramGroups[0], betas: [0.9, 1.5] }] };
    expect(() => trained().loadStateDict(bad)).toThrow(/betas\[1\]/);
    expect(() => trained().loadStateDict({ state: { 7: {} }, paramGroups: sd.paramGroups })).toThrow(/index 7/);
  });
  it('a failed load leaves the optimizer as it was', () => {
    const opt = trained();
    const before = (opt.stateDict().state[0].expAvg as kiln.Tensor).toTypedArray();
    const bad = opt.stateDict();
    bad.state[1] = { ...bad.state[1], expAvgSq: kiln.zeros([5]) };
    expect(() => opt.loadStateDict(bad)).toThrow(kiln.KilnError);
    expect(opt.stateDict().state[0].expAvg).toBeInstanceOf(kiln.Tensor);
    expect((opt.stateDict().state[0].expAvg as kiln.Tensor).toTypedArray()).toEqual(before);
  });
});

describe('loadStateDict ownership', () => {
  const adamAfterSteps = (steps: number) => {
    const w = kiln.tensor([[1, -2], [3, 0.5]], { requiresGrad: true });
    const opt = new optim.Adam([w], { lr: 0.1 });
    for (let k = 0; k < steps; k++) {
      w.grad = kiln.tensor([[0.5, -1], [2, k]]);
      opt.step();
    }
    return { w, opt };
  };

  it("loads its own stateDict (the dict holds the optimizer's own tensors)", () => {
    const { opt } = adamAfterSteps(2);
    const before = (opt.stateDict().state[0].expAvgSq as kiln.Tensor).toTypedArray();
    opt.loadStateDict(opt.stateDict());
    const after = opt.stateDict().state[0];
    expect((after.expAvgSq as kiln.Tensor).toTypedArray()).toEqual(before);
    expect(after.step).toBe(2);
  });

  it('leaves no tensor behind: repeated loads keep the live tensor count flat', () => {
    const { opt } = adamAfterSteps(1);
    opt.loadStateDict(opt.stateDict());
    const live = trackedTensors();
    for (let i = 0; i < 20; i++) opt.loadStateDict(opt.stateDict());
    expect(trackedTensors()).toBe(live);
  });
});
