// Tensor hooks, post-accumulate-grad hooks and module hooks, each with its removal.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradOnlyHooks } from '../../src/autograd/hooks.js';

const vals = (t: Tensor | null) => Array.from(t!.toTypedArray());

describe('tensor.registerHook', () => {
  it('on a leaf: sees the summed gradient, may replace what is accumulated; remove() stops it', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const seen: number[][] = [];
    const h = x.registerHook((g) => {
      seen.push(vals(g));
      return g.mul(10);
    });
    x.mul(3).add(x.square()).sum().backward(); // 3 + 2x
    expect(seen).toEqual([[5, 7]]);
    expect(vals(x.grad)).toEqual([50, 70]);
    h.remove();
    h.remove(); // twice is harmless
    x.grad = null;
    x.mul(3).sum().backward();
    expect(vals(x.grad)).toEqual([3, 3]);
    expect(seen.length).toBe(1);
  });

  it('on a non-leaf: replaces the gradient flowing to its inputs; several hooks run in order', () => {
    const x = kiln.tensor([1, -1], { requiresGrad: true });
    const z = x.mul(3);
    const order: string[] = [];
    z.registerHook((g) => { order.push('a'); return g.add(1); });
    z.registerHook((g) => { order.push('b'); expect(vals(g)).toEqual([2, 2]); return g.mul(2); });
    z.sum().backward(); // dz = 1 -> (1 + 1) * 2 = 4; dx = 3 * 4
    expect(order).toEqual(['a', 'b']);
    expect(vals(x.grad)).toEqual([12, 12]);
  });

  it('a hook that returns nothing observes only; bad uses are KilnErrors', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    const z = x.exp();
    let got: number[] = [];
    z.registerHook((g) => { got = vals(g); });
    z.mul(kiln.tensor([2, 3])).sum().backward();
    expect(got).toEqual([2, 3]);
    expect(() => kiln.tensor([1]).registerHook(() => {})).toThrow(/does not require grad/);
    const y = x.mul(2);
    y.registerHook(() => kiln.ones([3]));
    expect(() => y.sum().backward()).toThrow(/hook returned a gradient of shape \[3\], expected \[2\]/);
  });

  it('with createGraph the hook\'s replacement is differentiated too', () => {
    const x = kiln.tensor([0.5, 2], { requiresGrad: true });
    const z = x.square();
    z.registerHook((g) => g.mul(x)); // dz -> dz * x, so dx = 2 x * x
    const [g] = kiln.autograd.grad(z.sum(), x, { createGraph: true });
    expect(vals(g)).toEqual([0.5, 8]);
    const [h] = kiln.autograd.grad(g!.sum(), x);
    expect(vals(h)).toEqual([2, 8]); // d/dx 2x^2 = 4x
  });
});

describe('registerPostAccumulateGradHook', () => {
  it('fires once per backward, when the leaf\'s .grad is final, while backward still runs on earlier layers', () => {
    kiln.manualSeed(7);
    const model = new kiln.nn.Sequential(new kiln.nn.Linear(3, 4), new kiln.nn.Tanh(), new kiln.nn.Linear(4, 2));
    const params = model.namedParameters();
    const events: string[] = [];
    const handles = params.map(([name, p]) => p.registerPostAccumulateGradHook((t) => {
      expect(t).toBe(p);
      // the first layer's weight has no gradient yet when the last layer's hooks fire
      events.push(`${name}:${model.parameters()[0].grad === null ? 'early' : 'late'}`);
    }));
    const x = kiln.randn([5, 3]);
    model.forward(x).square().sum().backward();
    expect(events.sort()).toEqual(['0.bias:late', '0.weight:late', '2.bias:early', '2.weight:early']);
    // the values the hooks saw are the final ones: compare with a run without hooks
    const withHooks = params.map(([, p]) => vals(p.grad));
    handles.forEach((h) => h.remove());
    model.zeroGrad();
    model.forward(x).square().sum().backward();
    expect(params.map(([, p]) => vals(p.grad))).toEqual(withHooks);
    expect(events.length).toBe(4);
  });

  it('a leaf used twice fires once, after both contributions, and sees their sum in .grad', () => {
    const w = kiln.tensor([2], { requiresGrad: true });
    const seen: number[] = [];
    w.registerPostAccumulateGradHook((t) => seen.push(t.grad!.item()));
    w.mul(3).add(w.square().mul(w)).sum().backward(); // 3 + 3 w^2 = 15
    expect(seen).toEqual([15]);
    expect(() => w.mul(2).registerPostAccumulateGradHook(() => {})).toThrow(/expected a leaf/);
  });

  it('an all-reduce-like hook that rescales .grad in place does not disturb the rest of backward', () => {
    const a = kiln.tensor([1, 2], { requiresGrad: true });
    const b = kiln.tensor([3, 4], { requiresGrad: true });
    a.registerPostAccumulateGradHook((t) => kiln.noGrad(() => t.grad!.mul_(0.5)));
    // a's gradient and b's share one buffer until it is kept: a's hook must not change b's
    const s = a.add(b);
    s.mul(s.detach()).sum().backward();
    expect(vals(a.grad)).toEqual([2, 3]);
    expect(vals(b.grad)).toEqual([4, 6]);
  });
});

describe('gradient-only post-accumulate hooks (DDP\'s): run before the input gradient', () => {
  const gradsOf = (ps: Tensor[]) => ps.map((p) => vals(p.grad));
  function net(): kiln.nn.Module {
    kiln.manualSeed(3);
    return new kiln.nn.Sequential(new kiln.nn.Conv2d(2, 3, 3, { padding: 1 }), new kiln.nn.ReLU(), new kiln.nn.Flatten(),
      new kiln.nn.Linear(48, 5), new kiln.nn.Tanh(), new kiln.nn.Linear(5, 4, { bias: false }));
  }
  const input = () => {
    kiln.manualSeed(4);
    return [kiln.randn([3, 2, 4, 4], { requiresGrad: true }), kiln.randn([4, 6])] as const;
  };
  const run = (m: kiln.nn.Module, x: Tensor, w: Tensor) => m.forward(x).matmul(w).square().sum().backward();

  it('give the same gradients, each hook once with the final .grad (linear, matmul, conv2d)', () => {
    const plain = net();
    const [x0, w0] = input();
    const w0l = w0.clone().requiresGrad_();
    run(plain, x0, w0l);
    const want = [...gradsOf(plain.parameters()), vals(w0l.grad), vals(x0.grad)];
    const model = net();
    const [x, w] = input();
    const wl = w.clone().requiresGrad_();
    const seen = new Map<Tensor, number[][]>();
    for (const p of [...model.parameters(), wl]) {
      const hook = (t: Tensor) => seen.set(t, [...(seen.get(t) ?? []), vals(t.grad)]);
      gradOnlyHooks.add(hook);
      p.registerPostAccumulateGradHook(hook);
    }
    run(model, x, wl);
    expect([...gradsOf(model.parameters()), vals(wl.grad), vals(x.grad)]).toEqual(want);
    for (const p of [...model.parameters(), wl]) expect(seen.get(p)).toEqual([vals(p.grad)]);
  });

  it('one that writes its weight is a KilnError (it ran before the input gradient read the weight)', () => {
    const lin = new kiln.nn.Linear(3, 2);
    const hook = (t: Tensor) => kiln.noGrad(() => t.mul_(0.5));
    gradOnlyHooks.add(hook);
    lin.weight.registerPostAccumulateGradHook(hook);
    const x = kiln.randn([4, 3], { requiresGrad: true });
    expect(() => lin.forward(x).sum().backward()).toThrow(/linear was modified in place/);
  });

  it('an ordinary hook runs after the whole node: an optimizer step in it leaves the input gradient exact', () => {
    kiln.manualSeed(5);
    const lin = new kiln.nn.Linear(3, 2);
    const w = vals(lin.weight);
    lin.weight.registerPostAccumulateGradHook((t) => kiln.noGrad(() => t.sub_(t.grad!.mul(0.1))));
    const x = kiln.randn([4, 3], { requiresGrad: true });
    lin.forward(x).sum().backward();
    // d sum(x W^T + b) / dx = the column sums of the weight before the step
    const want = [0, 1, 2].map((k) => w[k] + w[3 + k]);
    for (let r = 0; r < 4; r++) vals(x.grad).slice(3 * r, 3 * r + 3).forEach((v, k) => expect(v).toBeCloseTo(want[k], 6));
    expect(vals(lin.weight)).not.toEqual(w);
  });
});

describe('module hooks', () => {
  it('forward pre-hooks and forward hooks may replace the input and the output; remove() restores', () => {
    const lin = new kiln.nn.Linear(2, 2);
    kiln.noGrad(() => {
      lin.weight.copy_(kiln.tensor([[1, 0], [0, 1]]));
      lin.bias!.zero_();
    });
    const calls: string[] = [];
    const pre = lin.registerForwardPreHook((m, args) => {
      expect(m).toBe(lin);
      calls.push('pre');
      return [args[0].mul(2)];
    });
    const post = lin.registerForwardHook((_m, args, out) => {
      calls.push('post');
      expect(vals(args[0])).toEqual([2, 4]);
      return out.add(1);
    });
    const x = kiln.tensor([[1, 2]]);
    expect(vals(lin.forward(x))).toEqual([3, 5]);
    expect(calls).toEqual(['pre', 'post']);
    pre.remove();
    post.remove();
    expect(vals(lin.forward(x))).toEqual([1, 2]);
    expect(Object.keys(lin)).not.toContain('forward'); // the wrapper is not module state
    expect(Object.keys(lin.stateDict())).toEqual(['weight', 'bias']);
  });

  it('full backward hooks see gradInput and gradOutput, may replace gradInput, and fire inside Sequential', () => {
    kiln.manualSeed(2);
    const l1 = new kiln.nn.Linear(3, 2);
    const act = new kiln.nn.Tanh();
    const model = new kiln.nn.Sequential(l1, act);
    const x = kiln.randn([4, 3], { requiresGrad: true });
    const target = kiln.randn([4, 2]);
    let seenIn: (Tensor | null)[] = [];
    let seenOut: (Tensor | null)[] = [];
    const h = act.registerFullBackwardHook((m, gradInput, gradOutput) => {
      expect(m).toBe(act);
      // tensors made during backward are freed with it unless kept, as in any kiln.scope
      seenIn = gradInput.map((g) => g && kiln.keep(g.clone()));
      seenOut = gradOutput.map((g) => g && kiln.keep(g.clone()));
      return [gradInput[0]!.mul(2)];
    });
    const pre = l1.forward(x).detach().requiresGrad_();
    const y = model.forward(x);
    y.mul(target).sum().backward();
    // reference: gradOutput = target, gradInput = target * (1 - tanh^2)
    const t = vals(target);
    const th = vals(pre.tanh());
    expect(vals(seenOut[0])).toEqual(t);
    vals(seenIn[0]).forEach((v, i) => expect(v).toBeCloseTo(t[i] * (1 - th[i] ** 2), 6));
    // the doubled gradInput reached the layer below
    const w1 = vals(l1.weight.grad);
    h.remove();
    l1.zeroGrad();
    x.grad = null;
    model.forward(x).mul(target).sum().backward();
    vals(l1.weight.grad).forEach((v, i) => expect(w1[i]).toBeCloseTo(2 * v, 5));
  });

  it('a full backward hook on a module whose input needs no gradient gets gradInput [null]', () => {
    const lin = new kiln.nn.Linear(2, 1);
    const got: unknown[] = [];
    lin.registerFullBackwardHook((_m, gi, go) => { got.push(gi, vals(go[0])); });
    lin.forward(kiln.ones([3, 2])).sum().backward();
    expect(got).toEqual([[null], [1, 1, 1]]);
    expect(() => lin.registerForwardHook(null as any)).toThrow(/hook: expected a function/);
  });
});
