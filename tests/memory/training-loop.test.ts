// 10,000 steps of a small MLP (matmul + add, relu, MSE loss, backward, manual SGD under noGrad)
// leave kiln.memory() exactly flat, synchronously and across await. (RSS: see backstop.test.ts.)
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

function makeModel() {
  kiln.manualSeed(1);
  return kiln.scope(() => ({
    w1: kiln.randn([4, 16]).mul(0.3).requiresGrad_(),
    b1: kiln.zeros([16], { requiresGrad: true }),
    w2: kiln.randn([16, 1]).mul(0.3).requiresGrad_(),
    b2: kiln.zeros([1], { requiresGrad: true }),
  }));
}

/** Frees the model, its grads and the data, so no test leaves garbage for the GC to free later. */
function release(m: Model, data: { x: kiln.Tensor; y: kiln.Tensor }): void {
  for (const p of Object.values(m)) {
    p.grad?.dispose();
    p.dispose();
  }
  data.x.dispose();
  data.y.dispose();
}
type Model = ReturnType<typeof makeModel>;

function step(m: Model, x: kiln.Tensor, y: kiln.Tensor, lr: number): number {
  const h = x.matmul(m.w1).add(m.b1).relu();
  const pred = h.matmul(m.w2).add(m.b2);
  const loss = pred.sub(y).square().mean();
  loss.backward();
  kiln.noGrad(() => {
    for (const p of Object.values(m)) {
      p.sub_(p.grad!, lr);
      p.grad!.zero_();
    }
  });
  return loss.item();
}

const snapshot = () => {
  const m = kiln.memory();
  return { tensors: m.tensors, bytes: m.bytes, allocations: m.allocations };
};

function dataset() {
  kiln.manualSeed(2);
  return kiln.scope(() => {
    const x = kiln.randn([32, 4]);
    return { x, y: x.sum(1, true).sin() };
  });
}

describe('memory stays flat over a training loop', () => {
  it('10,000 synchronous steps: tensors and bytes equal after step 100 and after step 10,000', () => {
    const model = makeModel();
    const { x, y } = dataset();
    let at100 = snapshot();
    let first = 0;
    let last = 0;
    for (let i = 1; i <= 10_000; i++) {
      last = kiln.scope(() => step(model, x, y, 0.05));
      if (i === 1) first = last;
      if (i === 100) at100 = snapshot();
    }
    const end = snapshot();
    expect(end).toEqual(at100);
    // the loop did train (so the test exercised real gradients)
    expect(last).toBeLessThan(first * 0.5);
    release(model, { x, y });
  });

  it('2,000 steps inside async scopes with awaits stay flat too', async () => {
    const model = makeModel();
    const { x, y } = dataset();
    let at100 = snapshot();
    for (let i = 1; i <= 2_000; i++) {
      await kiln.scope(async () => {
        await null;
        const l = step(model, x, y, 0.05);
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
        return l;
      });
      if (i === 100) at100 = snapshot();
    }
    expect(snapshot()).toEqual(at100);
    release(model, { x, y });
  });

  it('a forgotten scope is what the test catches: without it, tensors grow', () => {
    const model = makeModel();
    const { x, y } = dataset();
    kiln.scope(() => {
      const before = snapshot();
      for (let i = 0; i < 10; i++) step(model, x, y, 0.01);
      expect(snapshot().tensors).toBeGreaterThan(before.tensors + 100);
    });
    release(model, { x, y });
  });
});
