// In-place ops: recorded when they touch the graph, version-checked when a rule saved the old
// values, and safe for kernels when the operand overlaps the tensor written.
import { afterEach, describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { native } from '../../src/native.js';

const vals = (t: kiln.Tensor | null) => Array.from(t!.toTypedArray());
const close = (a: number[], b: number[], tol = 1e-6) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]), `element ${i}: ${v} vs ${b[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i]))));
};

describe('in-place ops on tensors in a graph are recorded', () => {
  it('z = x * w; z.mul_(2); z.sum().backward() gives x.grad = 2w and w.grad = 2x', () => {
    const x = kiln.tensor([1, -2, 3], { requiresGrad: true });
    const w = kiln.tensor([0.5, 4, -1], { requiresGrad: true });
    const z = x.mul(w);
    const same = z.mul_(2);
    expect(same).toBe(z);
    expect(z.isLeaf).toBe(false);
    expect(vals(z)).toEqual([1, -16, -6]);
    z.sum().backward();
    expect(vals(x.grad)).toEqual([1, 8, -2]);
    expect(vals(w.grad)).toEqual([2, -4, 6]);
  });

  it('add_, sub_ with alpha, mul_ and div_ by tensors that require grad', () => {
    const x = kiln.tensor([1, 2, 3], { requiresGrad: true });
    const a = kiln.tensor([0.5, -1, 2], { requiresGrad: true });
    const b = kiln.tensor([2, 4, -0.5], { requiresGrad: true });
    const z = x.square(); // x^2
    z.add_(a).sub_(b, 3).mul_(a).div_(b); // ((x^2 + a - 3b) * a) / b
    const xs = [1, 2, 3], as = [0.5, -1, 2], bs = [2, 4, -0.5];
    close(vals(z), xs.map((v, i) => ((v * v + as[i] - 3 * bs[i]) * as[i]) / bs[i]));
    z.sum().backward();
    close(vals(x.grad), xs.map((v, i) => (2 * v * as[i]) / bs[i]));
    close(vals(a.grad), xs.map((v, i) => (v * v + 2 * as[i] - 3 * bs[i]) / bs[i]));
    close(vals(b.grad), xs.map((v, i) => (-3 * as[i]) / bs[i] - ((v * v + as[i] - 3 * bs[i]) * as[i]) / (bs[i] * bs[i])));
  });

  it('a tensor outside the graph joins it through an in-place op with an operand that requires grad', () => {
    const w = kiln.tensor([1, -3], { requiresGrad: true });
    const buf = kiln.zeros([2]);
    buf.add_(w).mul_(w); // w^2
    expect(buf.requiresGrad).toBe(true);
    buf.sum().backward();
    expect(vals(w.grad)).toEqual([2, -6]);
  });

  it('fill_ and copy_: the overwritten values get a zero gradient, the copied source its own', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const s = kiln.tensor([5, 7], { requiresGrad: true });
    const z = x.mul(3);
    z.fill_(4);
    z.mul(x).sum().backward(); // d/dx (4 x) = 4; the path through z contributes 0
    expect(vals(x.grad)).toEqual([4, 4]);
    const y = x.mul(3);
    y.copy_(s.square());
    expect(vals(y)).toEqual([25, 49]);
    y.sum().backward();
    expect(vals(s.grad)).toEqual([10, 14]);
    expect(vals(x.grad)).toEqual([4, 4]);
  });

  it('an in-place op on a view rebases the view; the base, whose history is now stale, is refused', () => {
    const x = kiln.tensor([1, 2, 3, 4], { requiresGrad: true });
    const z = x.mul(2);
    const v = z.narrow(0, 1, 2);
    v.mul_(5);
    expect(vals(z)).toEqual([2, 20, 30, 8]); // the write went through to the base's storage
    expect(() => z.sum()).toThrow(/stale/);
    expect(() => z.sum()).toThrow(kiln.KilnError);
    v.sum().backward();
    expect(vals(x.grad)).toEqual([0, 10, 10, 0]);
  });

  it('a view of a leaf that requires grad, and the leaf itself, cannot be modified in place under grad mode', () => {
    const x = kiln.tensor([1, 2, 3], { requiresGrad: true });
    expect(() => x.narrow(0, 0, 2).mul_(2)).toThrow(/view of a leaf tensor that requires grad/);
    expect(() => x.add_(1)).toThrow(/leaf tensor that requires grad/);
    kiln.noGrad(() => x.narrow(0, 0, 2).mul_(2));
    expect(vals(x)).toEqual([2, 4, 3]);
  });

  it('writing a result that requires grad into an int32 tensor is refused', () => {
    const i = kiln.tensor([1, 2], { dtype: 'int32' });
    const w = kiln.tensor([1, 2], { requiresGrad: true });
    expect(() => i.add_(w)).toThrow(/int32/);
  });

  it('second derivatives through a recorded in-place op', () => {
    const x = kiln.tensor([0.5, -1.5], { requiresGrad: true });
    const z = x.sin(); // sin reads x, not its output
    z.mul_(x); // x sin x
    const [g] = kiln.autograd.grad(z.sum(), x, { createGraph: true });
    const [h] = kiln.autograd.grad(g!.sum(), x);
    close(vals(h), [0.5, -1.5].map((v) => 2 * Math.cos(v) - v * Math.sin(v)), 1e-5);
    // tanh saves its output, so the same in place on tanh(x) is refused (as in PyTorch)
    const t = x.tanh();
    t.mul_(x);
    expect(() => t.sum().backward()).toThrow(/gradient of tanh \(unary\) was modified in place/);
  });
});

describe('version counter: a tensor a rule saved and that was then modified in place', () => {
  it('exp saved its output: modifying it (even under noGrad) makes backward throw naming exp', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const y = x.exp();
    const s = y.sum();
    kiln.noGrad(() => y.mul_(2));
    let error: unknown = null;
    try {
      s.backward();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(kiln.KilnError);
    expect((error as Error).message).toMatch(/gradient of exp \(unary\) was modified in place/);
  });

  it('mul saved its inputs: a recorded in-place op on one of them makes backward throw naming mul', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const a = x.mul(2);
    const b = a.mul(a);
    a.add_(1);
    expect(() => b.sum().backward()).toThrow(/gradient of mul was modified in place/);
  });

  it('an optimizer step between forward and backward makes backward throw naming the layer op', () => {
    kiln.manualSeed(3);
    const layer = new kiln.nn.Linear(3, 2);
    const opt = new kiln.optim.SGD(layer.parameters(), { lr: 0.1 });
    for (const p of layer.parameters()) p.grad = kiln.onesLike(p);
    const loss = layer.forward(kiln.randn([4, 3])).sum();
    opt.step();
    expect(() => loss.backward()).toThrow(/gradient of linear was modified in place/);
  });

  it('ops that do not read a value do not check it: add, then its input modified', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const c = kiln.tensor([3, 4]);
    const z = x.add(c);
    c.mul_(10);
    z.sum().backward();
    expect(vals(x.grad)).toEqual([1, 1]);
  });

  it('custom Functions: a saved tensor modified in place throws when backward reads savedTensors', () => {
    class Scale extends kiln.autograd.Function {
      static override forward(ctx: kiln.autograd.FunctionCtx, x: kiln.Tensor, w: kiln.Tensor) {
        ctx.saveForBackward(w);
        return x.mul(w);
      }
      static override backward(ctx: kiln.autograd.FunctionCtx, g: kiln.Tensor) {
        const [w] = ctx.savedTensors;
        return [g.mul(w!), null];
      }
    }
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const w = kiln.tensor([3, 4]);
    const y = Scale.apply(x, w) as kiln.Tensor;
    w.add_(1);
    expect(() => y.sum().backward()).toThrow(/gradient of Scale was modified in place/);
  });
});

describe('overlapping operands', () => {
  const calls: { name: string; ranges: [unknown, number, number][] }[] = [];
  const originals = new Map<string, any>();
  /** Records the (handle, first, last) of the output and the inputs of each binary/copy call. */
  function spy(): void {
    const n = native as any;
    originals.set('binary', n.binary);
    originals.set('copy', n.copy);
    n.binary = (op: number, out: unknown, oOff: number, a: unknown, aOff: number, b: unknown, bOff: number,
      shape: number[], aStr: number[], bStr: number[]) => {
      const numel = shape.reduce((p, d) => p * d, 1);
      const last = (off: number, str: number[]) => off + shape.reduce((s, d, i) => s + (d - 1) * str[i], 0);
      calls.push({ name: 'binary', ranges: [[out, oOff, oOff + numel - 1], [a, aOff, last(aOff, aStr)], [b, bOff, last(bOff, bStr)]] });
      return originals.get('binary')(op, out, oOff, a, aOff, b, bOff, shape, aStr, bStr);
    };
    n.copy = (dst: unknown, dOff: number, src: unknown, sOff: number, numel: number) => {
      calls.push({ name: 'copy', ranges: [[dst, dOff, dOff + numel - 1], [src, sOff, sOff + numel - 1]] });
      return originals.get('copy')(dst, dOff, src, sOff, numel);
    };
  }
  afterEach(() => {
    for (const [k, f] of originals) (native as any)[k] = f;
    originals.clear();
    calls.length = 0;
  });
  /** Every input range is the output's own range or shares no element with it. */
  function expectNoPartialOverlap(): void {
    expect(calls.length).toBeGreaterThan(0);
    for (const { name, ranges } of calls) {
      const [[h, lo, hi], ...ins] = ranges;
      for (const [hi2, lo2, hiEnd] of ins) {
        if (hi2 !== h) continue;
        const disjoint = hiEnd < lo || lo2 > hi;
        const same = lo2 === lo && hiEnd === hi;
        expect(disjoint || same, `${name}: an input [${lo2}, ${hiEnd}] partially overlaps the output [${lo}, ${hi}]`).toBe(true);
      }
    }
  }

  it('x[1:] += x[:-1] reads the old values (the operand is copied first)', () => {
    const x = kiln.arange(0, 6).float();
    spy();
    x.narrow(0, 1, 5).add_(x.narrow(0, 0, 5));
    expectNoPartialOverlap();
    expect(vals(x)).toEqual([0, 1, 3, 5, 7, 9]);
  });

  it('m += m[0] (a broadcast row of m itself)', () => {
    const m = kiln.tensor([[1, 2], [3, 4]]);
    spy();
    m.add_(m.select(0, 0));
    expectNoPartialOverlap();
    expect(vals(m)).toEqual([2, 4, 4, 6]);
  });

  it('x[1:].copy_(x[:-1]) shifts; x.copy_(x) and x += x (exact aliasing) stay allowed', () => {
    const x = kiln.arange(0, 6).float();
    spy();
    x.narrow(0, 1, 5).copy_(x.narrow(0, 0, 5));
    expectNoPartialOverlap();
    expect(vals(x)).toEqual([0, 0, 1, 2, 3, 4]);
    x.copy_(x);
    x.add_(x);
    expectNoPartialOverlap();
    expect(vals(x)).toEqual([0, 0, 2, 4, 6, 8]);
  });

  it('recorded: z[1:] += z[:-1] on a tensor in a graph gives the values and the gradient of the view', () => {
    const x = kiln.tensor([1, 2, 3, 4], { requiresGrad: true });
    const z = x.mul(1);
    const v = z.narrow(0, 1, 3);
    spy();
    v.add_(z.narrow(0, 0, 3).mul(10));
    expectNoPartialOverlap();
    expect(vals(z)).toEqual([1, 12, 23, 34]);
    v.sum().backward(); // v = x[1:] + 10 x[:-1]
    expect(vals(x.grad)).toEqual([10, 11, 11, 1]);
  });
});
