// Custom differentiable functions (kiln.autograd.Function) and the exported gradcheck/gradgradcheck.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { FunctionCtx } from '../../src/autograd/index.js';

const vals = (t: Tensor | null) => Array.from(t!.toTypedArray());

/** y = x * exp(w) with its gradient written by hand (saved tensors, needsInputGrad). */
class ScaledExp extends kiln.autograd.Function {
  static calls: boolean[][] = [];
  static override forward(ctx: FunctionCtx, x: Tensor, w: Tensor) {
    const e = w.exp();
    ctx.saveForBackward(x, e);
    return x.mul(e);
  }
  static override backward(ctx: FunctionCtx, g: Tensor) {
    ScaledExp.calls.push([...ctx.needsInputGrad]);
    const [x, e] = ctx.savedTensors as Tensor[];
    return [ctx.needsInputGrad[0] ? g.mul(e) : null, ctx.needsInputGrad[1] ? g.mul(x).mul(e) : null];
  }
}

describe('autograd.Function', () => {
  it('apply records one node; backward gets the output gradient and its results reach the inputs', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const w = kiln.tensor([0, Math.log(3)], { requiresGrad: true });
    const y = ScaledExp.apply(x, w) as Tensor;
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn?.op).toBe('function');
    y.mul(kiln.tensor([2, 5])).sum().backward();
    // e = exp(w) = [1, 3]: dx = [2, 5] e, dw = [2, 5] x e
    expect(vals(x.grad)).toEqual([2, 15]);
    expect(vals(w.grad)[0]).toBeCloseTo(2, 5);
    expect(vals(w.grad)[1]).toBeCloseTo(30, 5);
  });

  it('needsInputGrad follows requiresGrad; a constant input gets null', () => {
    ScaledExp.calls = [];
    const x = kiln.tensor([1, 2]);
    const w = kiln.tensor([0.5, 1], { requiresGrad: true });
    (ScaledExp.apply(x, w) as Tensor).sum().backward();
    expect(ScaledExp.calls).toEqual([[false, true]]);
    expect(vals(w.grad)[1]).toBeCloseTo(2 * Math.exp(1), 5);
  });

  it('without any input requiring grad, apply returns forward\'s result unrecorded', () => {
    const y = ScaledExp.apply(kiln.tensor([1]), kiln.tensor([0])) as Tensor;
    expect(y.requiresGrad).toBe(false);
  });

  it('several outputs, non-tensor arguments, markNonDifferentiable, zeros for unused outputs', () => {
    const seen: number[][] = [];
    class SplitScale extends kiln.autograd.Function {
      static override forward(ctx: FunctionCtx, x: Tensor, k: number) {
        ctx.k = k;
        ctx.saveForBackward(x);
        const idx = x.argmax();
        const flag = x.gt(2); // float32: differentiable unless marked
        ctx.markNonDifferentiable(flag); // idx, int32, needs no mark
        return [x.mul(k), x.square(), idx, flag];
      }
      static override backward(ctx: FunctionCtx, ga: Tensor, gb: Tensor, gi: Tensor, gf: Tensor) {
        seen.push([...vals(ga), ...vals(gb), ...vals(gi), ...vals(gf)]);
        const [x] = ctx.savedTensors as Tensor[];
        return [ga.mul(ctx.k as number).add(gb.mul(x).mul(2)), null];
      }
    }
    const x = kiln.tensor([1, 3, 2], { requiresGrad: true });
    const [a, b, idx, flag] = SplitScale.apply(x, 4) as Tensor[];
    expect(idx.requiresGrad).toBe(false);
    expect(flag.requiresGrad).toBe(false);
    expect(vals(idx)).toEqual([1]);
    expect(a.requiresGrad && b.requiresGrad).toBe(true);
    // only a is used: b's gradient arrives as zeros, and the index's too
    a.sum().backward({ retainGraph: true });
    expect(seen[0]).toEqual([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(vals(x.grad)).toEqual([4, 4, 4]);
    x.grad = null;
    b.sum().backward();
    expect(vals(x.grad)).toEqual([2, 6, 4]);
  });

  it('a backward written with Kiln ops is differentiable again (createGraph)', () => {
    class Cube extends kiln.autograd.Function {
      static override forward(ctx: FunctionCtx, x: Tensor) {
        ctx.saveForBackward(x);
        return x.pow(3);
      }
      static override backward(ctx: FunctionCtx, g: Tensor) {
        const [x] = ctx.savedTensors as Tensor[];
        return g.mul(x.square()).mul(3);
      }
    }
    const x = kiln.tensor([0.5, -2], { requiresGrad: true });
    const [g] = kiln.autograd.grad((Cube.apply(x) as Tensor).sum(), x, { createGraph: true });
    expect(vals(g)).toEqual([0.75, 12]);
    const [h] = kiln.autograd.grad(g!.sum(), x);
    expect(vals(h)).toEqual([3, -12]); // 6x
  });

  it('mistakes in backward are KilnErrors naming the Function', () => {
    class WrongShape extends kiln.autograd.Function {
      static override forward(_ctx: FunctionCtx, x: Tensor) { return x.mul(2); }
      static override backward(_ctx: FunctionCtx, g: Tensor) { return g.sum(); }
    }
    class WrongCount extends kiln.autograd.Function {
      static override forward(_ctx: FunctionCtx, x: Tensor) { return x.mul(2); }
      static override backward(_ctx: FunctionCtx, g: Tensor) { return [g, g]; }
    }
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    expect(() => (WrongShape.apply(x) as Tensor).sum().backward()).toThrow(/WrongShape.backward: gradient 0 has shape \[\], expected \[2\]/);
    expect(() => (WrongCount.apply(x) as Tensor).sum().backward()).toThrow(/WrongCount.backward: returned 2 gradient\(s\), expected 1/);
    class NoForward extends kiln.autograd.Function {}
    expect(() => NoForward.apply(x)).toThrow(/must define static forward/);
  });

  it('savedTensors are freed after backward unless retainGraph', () => {
    let seen: FunctionCtx | null = null;
    class Keep extends kiln.autograd.Function {
      static override forward(ctx: FunctionCtx, x: Tensor) {
        seen = ctx;
        ctx.saveForBackward(x);
        return x.mul(2);
      }
      static override backward(_ctx: FunctionCtx, g: Tensor) { return g.mul(2); }
    }
    const x = kiln.tensor([1], { requiresGrad: true });
    const y = (Keep.apply(x) as Tensor).sum();
    y.backward({ retainGraph: true });
    expect(seen!.savedTensors.length).toBe(1);
    y.backward();
    expect(() => seen!.savedTensors).toThrow(/freed after backward/);
    expect(vals(x.grad)).toEqual([4]);
  });
});

describe('kiln.autograd.gradcheck and gradgradcheck', () => {
  it('pass on correct ops (float32 evaluation, float64 differences)', () => {
    kiln.manualSeed(5);
    const a = kiln.randn([2, 3], { requiresGrad: true });
    const b = kiln.randn([3, 2], { requiresGrad: true });
    expect(kiln.autograd.gradcheck((x, y) => x.matmul(y).tanh(), [a, b])).toBe(true);
    expect(kiln.autograd.gradgradcheck((x, y) => x.matmul(y).tanh(), [a, b])).toBe(true);
    const c = kiln.randn([1, 2, 4, 4], { requiresGrad: true });
    const w = kiln.randn([2, 2, 3, 3]).mul(0.3).requiresGrad_();
    expect(kiln.autograd.gradgradcheck((x, k) => kiln.F.conv2d(x, k, null, { padding: 1 }).sigmoid(), [c, w])).toBe(true);
    expect(kiln.autograd.gradcheck((x) => [x.softmax(1), x.logSoftmax(0)], [a])).toBe(true);
  });

  it('catch a wrong first derivative and a wrong second derivative', () => {
    class BadGrad extends kiln.autograd.Function {
      static override forward(_ctx: FunctionCtx, x: Tensor) { return x.square(); }
      static override backward(ctx: FunctionCtx, g: Tensor) { return g.mul(2.05).mul(ctx.x as Tensor); }
    }
    class SetX extends BadGrad {
      static override forward(ctx: FunctionCtx, x: Tensor) { ctx.x = x; return super.forward(ctx, x); }
    }
    const x = kiln.tensor([0.5, -1.2, 2], { requiresGrad: true });
    expect(() => kiln.autograd.gradcheck((t) => SetX.apply(t) as Tensor, [x])).toThrow(/gradcheck: the gradient of output 0 element 0/);
    expect(kiln.autograd.gradcheck((t) => SetX.apply(t) as Tensor, [x], { raiseException: false })).toBe(false);
    // right first derivative, but computed outside the graph: its own derivative is wrong (zero)
    class Opaque extends kiln.autograd.Function {
      static override forward(ctx: FunctionCtx, t: Tensor) { ctx.saveForBackward(t); return t.pow(3); }
      static override backward(ctx: FunctionCtx, g: Tensor) {
        const [t] = ctx.savedTensors as Tensor[];
        return kiln.noGrad(() => g.mul(t.square()).mul(3));
      }
    }
    expect(kiln.autograd.gradcheck((t) => Opaque.apply(t) as Tensor, [x])).toBe(true);
    expect(() => kiln.autograd.gradgradcheck((t) => Opaque.apply(t) as Tensor, [x])).toThrow(/gradcheck/);
  });

  it('bad arguments are KilnErrors', () => {
    expect(() => kiln.autograd.gradcheck((t) => t, [kiln.tensor([1])])).toThrow(/at least one input must require grad/);
    expect(() => kiln.autograd.gradcheck((t) => t, [] as Tensor[])).toThrow(/non-empty array/);
    expect(() => kiln.autograd.gradcheck(null as any, [kiln.tensor([1], { requiresGrad: true })])).toThrow(/fn: expected a function/);
  });
});
