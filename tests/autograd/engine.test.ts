// The autograd engine's contract: accumulation, noGrad, detach, graph lifetime, retainGrad,
// shared inputs, deep graphs, and the errors for misuse.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

const vals = (t: kiln.Tensor | null) => Array.from(t!.toTypedArray());

describe('gradient accumulation', () => {
  it('two backward calls add into .grad', () => {
    const x = kiln.tensor([1, 2, 3], { requiresGrad: true });
    x.square().sum().backward();
    expect(vals(x.grad)).toEqual([2, 4, 6]);
    x.mul(3).sum().backward();
    expect(vals(x.grad)).toEqual([5, 7, 9]);
  });

  it('.grad does not alias another tensor: an identity-gradient leaf gets its own storage', () => {
    const a = kiln.tensor([1, 2], { requiresGrad: true });
    const b = kiln.tensor([3, 4], { requiresGrad: true });
    a.add(b).sum().backward();
    expect(a.grad!.storage).not.toBe(b.grad!.storage);
    a.sum().backward();
    expect(vals(a.grad)).toEqual([2, 2]);
    expect(vals(b.grad)).toEqual([1, 1]);
  });

  it('backward with an explicit gradient for a non-scalar output', () => {
    const x = kiln.tensor([1, 2, 3], { requiresGrad: true });
    x.square().backward(kiln.tensor([1, 0.5, -1]));
    expect(vals(x.grad)).toEqual([2, 2, -6]);
  });
});

describe('noGrad / detach / requiresGrad', () => {
  it('noGrad records nothing', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const y = kiln.noGrad(() => x.mul(2).exp());
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(kiln.isGradEnabled()).toBe(true);
  });

  it('noGrad holds across await, and does not leak to concurrent code outside it', async () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    let outside: kiln.Tensor | null = null;
    const inside = kiln.noGrad(async () => {
      await new Promise((r) => setTimeout(r, 5));
      expect(kiln.isGradEnabled()).toBe(false);
      return x.mul(2);
    });
    outside = x.mul(3); // runs while the noGrad body is suspended
    const y = await inside;
    expect(y.requiresGrad).toBe(false);
    expect(outside.requiresGrad).toBe(true);
    expect(kiln.isGradEnabled()).toBe(true);
  });

  it('enableGrad inside noGrad records again', () => {
    const x = kiln.tensor([1], { requiresGrad: true });
    const y = kiln.noGrad(() => kiln.enableGrad(() => x.mul(2)));
    expect(y.requiresGrad).toBe(true);
  });

  it('detach cuts the graph but shares storage', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const d = x.mul(2).detach();
    expect(d.requiresGrad).toBe(false);
    expect(d.isLeaf).toBe(true);
    const y = x.mul(d).sum(); // d is a constant here
    y.backward();
    expect(vals(x.grad)).toEqual([2, 4]);
    expect(x.detach().storage).toBe(x.storage);
  });

  it('requiresGrad only on float leaves', () => {
    const i = kiln.tensor([1, 2], { dtype: 'int32' });
    expect(() => (i.requiresGrad = true)).toThrow(kiln.KilnError);
    expect(() => kiln.tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(/float32/);
    const x = kiln.tensor([1], { requiresGrad: true });
    const y = x.mul(2);
    expect(() => (y.requiresGrad = false)).toThrow(/leaf/);
    const z = kiln.tensor([1]).requiresGrad_();
    expect(z.requiresGrad).toBe(true);
  });
});

describe('graph lifetime', () => {
  it('backward on a non-scalar without a gradient throws', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(kiln.KilnError);
    expect(() => x.mul(2).backward()).toThrow(/scalar/);
  });

  it('a gradient of the wrong shape throws naming it', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward(kiln.ones([3]))).toThrow(/gradient: expected shape \[2\]/);
  });

  it('backward on a tensor without a graph throws', () => {
    expect(() => kiln.tensor([1]).sum().backward()).toThrow(kiln.KilnError);
  });

  it('a second backward through a freed graph throws mentioning retainGraph', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward();
    expect(() => y.backward()).toThrow(kiln.KilnError);
    expect(() => y.backward()).toThrow(/retainGraph/);
  });

  it('retainGraph: two backward calls give doubled gradients', () => {
    const x = kiln.tensor([0.5, -1], { requiresGrad: true });
    const y = x.exp().mul(x).sum();
    y.backward(undefined, { retainGraph: true });
    const once = vals(x.grad);
    y.backward();
    expectClose(vals(x.grad), once.map((v) => 2 * v), { rtol: 1e-6 }, 'doubled');
    expectClose(once, [0.5, -1].map((v) => Math.exp(v) * (1 + v)), { rtol: 1e-6 }, 'd/dx x e^x');
  });

  it('retainGrad keeps the gradient of an intermediate; others get none', () => {
    const x = kiln.tensor([1, 2, 3], { requiresGrad: true });
    const h = x.mul(2).retainGrad();
    const k = h.add(1);
    h.square().add(k).sum().backward();
    expect(vals(h.grad)).toEqual([2 * 2 + 1, 2 * 4 + 1, 2 * 6 + 1]);
    expect(k.grad).toBeNull();
    expect(vals(x.grad)).toEqual([10, 18, 26]);
  });

  it('diamond graph: x used twice gets both contributions', () => {
    const x = kiln.tensor([1.5, -2], { requiresGrad: true });
    const a = x.mul(3);
    const b = x.square();
    a.mul(b).sum().backward(); // d/dx 3x^3 = 9x^2
    expectClose(vals(x.grad), [9 * 2.25, 9 * 4], { rtol: 1e-6 }, 'diamond');
    const y = kiln.tensor([2], { requiresGrad: true });
    y.mul(y).mul(y).sum().backward(); // same tensor as both operands
    expect(vals(y.grad)).toEqual([12]);
  });

  it('a chain of 10,000 ops backpropagates without a stack overflow', () => {
    kiln.scope(() => {
      const x = kiln.tensor([1], { requiresGrad: true });
      let y = x;
      for (let i = 0; i < 10_000; i++) y = y.mul(1.0001);
      y.sum().backward();
      expectClose(vals(x.grad), [1.0001 ** 10_000], { rtol: 1e-3 }, 'chain');
      x.grad!.dispose();
    });
  });
});

describe('misuse', () => {
  it('using a disposed tensor throws a KilnError', () => {
    const x = kiln.tensor([1, 2]);
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(() => x.toArray()).toThrow(/disposed/);
    expect(() => x.add(1)).toThrow(kiln.KilnError);
    expect(() => x.exp()).toThrow(kiln.KilnError);
    expect(() => kiln.tensor([1]).add(x)).toThrow(kiln.KilnError);
    expect(() => x.sum()).toThrow(kiln.KilnError);
    expect(() => x.matmul(kiln.ones([2]))).toThrow(kiln.KilnError);
    x.dispose(); // disposing twice is harmless
  });

  it('backward after a saved tensor was disposed throws a KilnError', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const h = x.exp();
    const y = h.mul(h).sum();
    h.dispose();
    expect(() => y.backward()).toThrow(kiln.KilnError);
  });

  it('in-place ops on a leaf that requires grad throw outside noGrad and work inside', () => {
    const w = kiln.tensor([1, 2], { requiresGrad: true });
    expect(() => w.add_(1)).toThrow(/in place/);
    expect(() => w.sub_(kiln.ones([2]))).toThrow(kiln.KilnError);
    expect(() => w.mul_(2)).toThrow(kiln.KilnError);
    expect(() => w.fill_(0)).toThrow(kiln.KilnError);
    expect(() => w.zero_()).toThrow(kiln.KilnError);
    expect(() => w.copy_(kiln.ones([2]))).toThrow(kiln.KilnError);
    expect(vals(w)).toEqual([1, 2]);
    kiln.noGrad(() => w.sub_(kiln.tensor([0.5, 0.5]), 2).mul_(3).div_(kiln.tensor([1, 2])));
    expect(vals(w)).toEqual([0, 1.5]);
  });
});
