// Every optimizer configuration against PyTorch 1.13: 5 steps on fixed parameters and gradients
// (b has no gradient on one step, so it must be skipped), parameters compared after every step.
import { describe, expect, it } from 'vitest';
import { type OptimizerFixtures, expectClose, fixture, flat, makeOptimizer, makeParams, setGrads } from './helpers.js';

const fx = fixture<OptimizerFixtures>('optimizers.json');

describe('optimizers match PyTorch trajectories', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const [w, b] = makeParams(fx);
      const opt = makeOptimizer(c, w, b);
      c.steps.forEach(([ew, eb], k) => {
        setGrads(fx, k, w, b);
        opt.step();
        // float32 state and arithmetic on both sides; 1e-5 relative leaves room for op order.
        expectClose(w.toTypedArray(), flat(ew), 1e-5, 1e-7, `${c.name} step ${k + 1} w`);
        expectClose(b.toTypedArray(), flat(eb), 1e-5, 1e-7, `${c.name} step ${k + 1} b`);
      });
      expect(w.toTypedArray()).not.toEqual(Float32Array.from(flat(fx.params0[0])));
    });
  }
});
