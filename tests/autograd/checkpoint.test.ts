// Gradient checkpointing: the same gradients as without it (bit for bit on CPU, dropout included),
// and at least half the peak activation memory on a deep MLP.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const { nn } = kiln;
const vals = (t: Tensor | null) => Array.from(t!.toTypedArray());

function mlp(depth: number, width: number, dropout = 0): kiln.nn.Sequential {
  const layers: kiln.nn.Module[] = [];
  for (let i = 0; i < depth; i++) {
    layers.push(new nn.Linear(width, width), new nn.Tanh());
    if (dropout > 0) layers.push(new nn.Dropout(dropout));
  }
  return new nn.Sequential(...layers);
}

/** Loss, parameter gradients, input gradient and the RNG state after one forward and backward. */
function step(model: kiln.nn.Sequential, x: Tensor, forward: (m: kiln.nn.Sequential, x: Tensor) => Tensor, seed: number) {
  return kiln.scope(() => {
    model.zeroGrad();
    x.grad = null;
    kiln.manualSeed(seed);
    const loss = forward(model, x).square().mean();
    const rng = kiln.getRngState();
    loss.backward();
    return { loss: loss.item(), grads: model.parameters().map((p) => vals(p.grad)), dx: vals(x.grad), rng };
  });
}

describe('checkpoint', () => {
  it('checkpointSequential: loss and every gradient equal bit for bit to the plain run, with dropout', () => {
    kiln.manualSeed(11);
    const model = mlp(4, 8, 0.3);
    const x = kiln.randn([6, 8], { requiresGrad: true });
    const plain = step(model, x, (m, t) => m.forward(t), 5);
    for (const segments of [2, 3, 4]) {
      const ck = step(model, x, (m, t) => kiln.utils.checkpointSequential(m, segments, t), 5);
      expect(ck.loss).toBe(plain.loss);
      expect(ck.grads).toEqual(plain.grads);
      expect(ck.dx).toEqual(plain.dx);
      // the recomputation restored the random state it found: later draws are unchanged
      expect(ck.rng).toEqual(plain.rng);
      expect(kiln.getRngState()).toEqual(plain.rng);
    }
    // the dropout masks were really random (a different seed changes the gradients)
    expect(step(model, x, (m, t) => m.forward(t), 6).grads).not.toEqual(plain.grads);
  });

  it('checkpoint(fn, ...args): several tensor and plain arguments, several outputs, a closed-over tensor of the outer graph', () => {
    kiln.manualSeed(12);
    const w = kiln.randn([3, 3], { requiresGrad: true });
    const a = kiln.randn([2, 3], { requiresGrad: true });
    const b = kiln.randn([2, 3], { requiresGrad: true });
    const run = (useCk: boolean) => kiln.scope(() => {
      for (const t of [w, a, b]) t.grad = null;
      const outer = b.exp(); // a non-leaf of the outer graph, used inside fn by closure
      const fn = (p: Tensor, k: number, q: Tensor) => {
        const h = p.matmul(w).tanh().mul(k);
        return [h.add(outer), h.mul(q).sin()];
      };
      const [u, v] = useCk ? kiln.utils.checkpoint(fn, a, 2, a.mul(3)) : fn(a, 2, a.mul(3));
      u.mul(v).sum().add(u.square().sum()).backward();
      return [w, a, b].map((t) => vals(t.grad));
    });
    expect(run(true)).toEqual(run(false));
  });

  it('autograd.grad reaches a parameter used only inside the checkpoint; createGraph works through it', () => {
    kiln.manualSeed(13);
    const lin = new nn.Linear(3, 3);
    const x = kiln.randn([4, 3], { requiresGrad: true });
    const f = (t: Tensor) => lin.forward(t).tanh();
    const hv = (useCk: boolean) => kiln.scope(() => {
      const y = (useCk ? kiln.utils.checkpoint(f, x) : f(x)).square().sum();
      const [gw, gx] = kiln.autograd.grad(y, [lin.weight, x], { createGraph: true }) as Tensor[];
      // second order with respect to the parameter and to the checkpoint's own input
      const [hw, hx] = kiln.autograd.grad(gw.sum().add(gx.square().sum()), [lin.weight, x]) as Tensor[];
      return [vals(gw), vals(gx), vals(hw), vals(hx)];
    });
    const [a, b] = [hv(true), hv(false)];
    expect(a[0]).toEqual(b[0]);
    expect(a[1]).toEqual(b[1]);
    // second order: the same terms, summed in another order
    for (const k of [2, 3]) {
      expect(Math.max(...b[k].map(Math.abs))).toBeGreaterThan(1e-3);
      a[k].forEach((v, i) => expect(Math.abs(v - b[k][i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b[k][i]))));
    }
    expect(lin.weight.grad).toBeNull(); // grad() does not touch .grad
  });

  it('an input modified in place before backward makes backward throw; under noGrad fn is just called', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const c = kiln.tensor([3, 4]);
    const y = kiln.utils.checkpoint((t: Tensor, k: Tensor) => t.mul(k), x, c);
    c.add_(1);
    expect(() => y.sum().backward()).toThrow(/checkpoint was modified in place/);
    const z = kiln.noGrad(() => kiln.utils.checkpoint((t: Tensor) => t.mul(2), x));
    expect(z.requiresGrad).toBe(false);
    expect(() => kiln.utils.checkpointSequential(mlp(1, 2), 0, x)).toThrow(/segments/);
    expect(() => kiln.utils.checkpoint(null as any, x)).toThrow(/fn: expected a function/);
  });

  it('a deep MLP: checkpointSequential cuts the peak activation memory by at least half, at the same gradients', () => {
    kiln.manualSeed(14);
    const model = mlp(16, 64);
    const x = kiln.randn([1024, 64]);
    const paramBytes = model.parameters().reduce((s, p) => s + 4 * p.numel, 0);
    const measure = (forward: (m: kiln.nn.Sequential, t: Tensor) => Tensor) => {
      model.zeroGrad();
      const before = kiln.memory().bytes;
      kiln.resetPeak();
      const grads = kiln.scope(() => {
        forward(model, x).square().mean().backward();
        return model.parameters().map((p) => vals(p.grad));
      });
      // what the step needed beyond what existed before it and the parameter gradients it leaves
      return { peak: kiln.memory().peakBytes - before - paramBytes, grads };
    };
    const plain = measure((m, t) => m.forward(t));
    const ck = measure((m, t) => kiln.utils.checkpointSequential(m, 4, t));
    expect(ck.grads).toEqual(plain.grads);
    if (process.env.KILN_PRINT) console.log(`peak activation bytes: plain ${plain.peak}, checkpointed ${ck.peak}`);
    expect(ck.peak).toBeLessThanOrEqual(0.5 * plain.peak);
    // the plain figure is the activations: 32 tensors of 1024 x 64 floats at least
    expect(plain.peak).toBeGreaterThanOrEqual(32 * 1024 * 64 * 4);
  });
});
