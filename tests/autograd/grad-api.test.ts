// kiln.autograd.grad / backward and loss.backward(options): which tensors get gradients, and the
// errors for misuse.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';

const vals = (t: Tensor | null) => Array.from(t!.toTypedArray());

describe('autograd.grad', () => {
  it('returns the gradients in the order of inputs and touches no .grad', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const w = kiln.tensor([3, -1], { requiresGrad: true });
    const y = x.mul(w).sum();
    const [gw, gx] = kiln.autograd.grad(y, [w, x]) as Tensor[];
    expect(vals(gw)).toEqual([1, 2]);
    expect(vals(gx)).toEqual([3, -1]);
    expect(x.grad).toBeNull();
    expect(w.grad).toBeNull();
    expect(gx.requiresGrad).toBe(false);
  });

  it('several outputs with gradOutputs; a non-leaf input; the output itself as input', () => {
    const x = kiln.tensor([1, 2, 3], { requiresGrad: true });
    const h = x.square();
    const a = h.sum();
    const b = h.mul(2);
    const [gh, gx] = kiln.autograd.grad([a, b], [h, x], { gradOutputs: [kiln.tensor(1), kiln.tensor([1, 0, -1])], retainGraph: true }) as Tensor[];
    expect(vals(gh)).toEqual([3, 1, -1]); // 1 + 2 * [1, 0, -1]
    expect(vals(gx)).toEqual([6, 4, -6]); // 2x * gh
    const [self] = kiln.autograd.grad(b, b, { gradOutputs: kiln.tensor([4, 5, 6]) }) as Tensor[];
    expect(vals(self)).toEqual([4, 5, 6]);
  });

  it('allowUnused gives null for an input the outputs do not use; without it a KilnError', () => {
    const x = kiln.tensor([1], { requiresGrad: true });
    const z = kiln.tensor([1], { requiresGrad: true });
    const y = x.mul(2).sum();
    expect(() => kiln.autograd.grad(y, [x, z], { retainGraph: true })).toThrow(/inputs\[1\]: the outputs do not depend on this tensor/);
    const [gx, gz] = kiln.autograd.grad(y, [x, z], { allowUnused: true });
    expect(vals(gx)).toEqual([2]);
    expect(gz).toBeNull();
  });

  it('createGraph keeps the graph (retainGraph defaults to it) and gives differentiable gradients', () => {
    const x = kiln.tensor([2], { requiresGrad: true });
    const y = x.pow(3).sum();
    const [g] = kiln.autograd.grad(y, x, { createGraph: true }) as Tensor[];
    expect(g.requiresGrad).toBe(true);
    const [again] = kiln.autograd.grad(y, x) as Tensor[]; // the graph was kept
    expect(vals(again)).toEqual([12]);
    expect(vals(kiln.autograd.grad(g.sum(), x)[0])).toEqual([12]); // 6x
  });

  it('misuse is a KilnError naming the argument', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const c = kiln.tensor([1, 2]);
    expect(() => kiln.autograd.grad(x.mul(2), x)).toThrow(/outputs: grad can be implicitly created only for a scalar output/);
    expect(() => kiln.autograd.grad(x.sum(), c)).toThrow(/inputs\[0\]: tensor does not require grad/);
    expect(() => kiln.autograd.grad(c.sum(), x)).toThrow(/outputs: tensor does not require grad/);
    expect(() => kiln.autograd.grad(x.sum(), x, { gradOutputs: [kiln.tensor(1), kiln.tensor(1)] })).toThrow(/gradOutputs: expected 1 gradients/);
    expect(() => kiln.autograd.grad(x.mul(2), x, { gradOutputs: kiln.ones([3]) })).toThrow(/gradient: expected shape \[2\], got \[3\]/);
    expect(() => kiln.autograd.grad(x.sum(), 'x' as any)).toThrow(/inputs\[0\]: expected a Tensor/);
  });
});

describe('backward options', () => {
  it('{ inputs } fills only those tensors\' .grad (a non-leaf too)', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const w = kiln.tensor([3, 4], { requiresGrad: true });
    const h = x.mul(w);
    h.square().sum().backward({ inputs: [w, h] });
    expect(x.grad).toBeNull();
    expect(vals(w.grad)).toEqual([2 * 3 * 1 * 1, 2 * 8 * 2]); // 2 h x
    expect(vals(h.grad)).toEqual([6, 16]);
  });

  it('{ gradient }, (gradient, { retainGraph }), and kiln.autograd.backward over several tensors', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const y = x.square();
    y.backward({ gradient: kiln.tensor([1, 10]), retainGraph: true });
    expect(vals(x.grad)).toEqual([2, 40]);
    y.backward(kiln.tensor([1, 0]), { retainGraph: true });
    expect(vals(x.grad)).toEqual([4, 40]);
    x.grad = null;
    kiln.autograd.backward([y, x.sum()], [kiln.tensor([1, 1]), null]);
    expect(vals(x.grad)).toEqual([3, 5]);
    expect(() => kiln.autograd.backward([y], [kiln.ones([2]), kiln.ones([2])])).toThrow(/gradTensors: expected 1 gradients/);
  });

  it('backward({ createGraph }) leaves differentiable .grad; accumulating again adds out of place', () => {
    const x = kiln.tensor([3], { requiresGrad: true });
    x.pow(3).sum().backward({ createGraph: true });
    const first = x.grad!;
    expect(vals(first)).toEqual([27]);
    expect(first.requiresGrad).toBe(true);
    const [h] = kiln.autograd.grad(first.sum(), x) as Tensor[];
    expect(vals(h)).toEqual([18]);
    x.square().sum().backward({ createGraph: true });
    expect(vals(x.grad)).toEqual([33]);
    expect(vals(first)).toEqual([27]); // the earlier .grad tensor is unchanged
  });

  it('a leaf as the output: x.backward() on a scalar leaf', () => {
    const x = kiln.tensor(5, { requiresGrad: true });
    x.backward();
    expect(x.grad!.item()).toBe(1);
  });
});
