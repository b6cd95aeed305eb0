// Optimizer state is created lazily inside the user's scope but must outlive it; parameters and
// state are updated in place, so 1000 steps leave the live tensor count flat.
import { describe, expect, it } from 'vitest';
import { kiln, optim } from './helpers.js';
import { trackedTensors } from '../helpers/memory.js';

type Make = (ps: kiln.Tensor[]) => optim.Optimizer<any>;
const makers: [string, Make][] = [
  ['SGD momentum nesterov', (ps) => new optim.SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-4 })],
  ['Adam amsgrad', (ps) => new optim.Adam(ps, { amsgrad: true, weightDecay: 0.01 })],
  ['AdamW', (ps) => new optim.AdamW(ps)],
  ['Adagrad', (ps) => new optim.Adagrad(ps, { weightDecay: 0.1 })],
  ['RMSprop centered momentum', (ps) => new optim.RMSprop(ps, { centered: true, momentum: 0.9, weightDecay: 0.1, maximize: true })],
];

describe('optimizer memory', () => {
  for (const [name, make] of makers) {
    it(`${name}: 1000 steps, each in kiln.scope, keep the tensor count (live + collected) flat`, () => {
      kiln.manualSeed(0);
      const w = kiln.randn([8, 4], { requiresGrad: true }), b = kiln.zeros([4], { requiresGrad: true });
      const x = kiln.randn([16, 8]), y = kiln.randn([16, 4]);
      const opt = make([w, b]);
      const step = () => kiln.scope(() => {
        opt.zeroGrad();
        const loss = x.matmul(w).add(b).sub(y).square().mean();
        loss.backward();
        opt.step();
        return loss.item();
      });
      const first = step();
      const wStorage = w.storage;
      const base = trackedTensors();
      let last = first;
      for (let i = 0; i < 1000; i++) last = step();
      expect(trackedTensors()).toBe(base);
      expect(w.storage).toBe(wStorage); // updated in place
      for (const s of opt.state.values()) for (const v of Object.values(s)) if (v instanceof kiln.Tensor) expect(v.isDisposed).toBe(false);
      if (name.startsWith('RMSprop')) expect(last).toBeGreaterThan(first); // maximize climbs
      else expect(last).toBeLessThan(first);
    });
  }

  it('LBFGS: repeated steps in kiln.scope keep the tensor count (live + collected) flat', () => {
    const x = kiln.tensor([-1.5, 2], { requiresGrad: true });
    const opt = new optim.LBFGS([x], { lineSearchFn: 'strongWolfe', maxIter: 3 });
    const closure = () => {
      opt.zeroGrad();
      const a = x.narrow(0, 0, 1), c = x.narrow(0, 1, 1);
      const loss = a.rsub(1).square().add(c.sub(a.square()).square().mul(100)).sum();
      loss.backward();
      return loss;
    };
    kiln.scope(() => { opt.step(closure); });
    const base = trackedTensors();
    for (let i = 0; i < 50; i++) kiln.scope(() => { opt.step(closure); });
    expect(trackedTensors()).toBe(base);
  });

  it('zeroGrad frees the gradients', () => {
    const w = kiln.ones([3], { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.1 });
    w.sum().backward();
    const g = w.grad!;
    opt.zeroGrad();
    expect(w.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
  });
});
