// Bad hyperparameters and parameter lists throw KilnError naming the option.
import { describe, expect, it } from 'vitest';
import { kiln, optim } from './helpers.js';

const p = () => [kiln.zeros([3], { requiresGrad: true })];

describe('optimizer options are validated', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['SGD without lr', () => new optim.SGD(p()), /lr/],
    ['negative lr', () => new optim.SGD(p(), { lr: -0.1 }), /lr: expected a finite number >= 0/],
    ['NaN lr', () => new optim.Adam(p(), { lr: NaN }), /lr/],
    ['infinite lr', () => new optim.RMSprop(p(), { lr: Infinity }), /lr/],
    ['negative momentum', () => new optim.SGD(p(), { lr: 0.1, momentum: -1 }), /momentum/],
    ['nesterov without momentum', () => new optim.SGD(p(), { lr: 0.1, nesterov: true }), /nesterov/],
    ['nesterov with dampening', () => new optim.SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /nesterov/],
    ['beta1 = 1', () => new optim.Adam(p(), { betas: [1, 0.999] }), /betas\[0\]/],
    ['beta2 < 0', () => new optim.AdamW(p(), { betas: [0.9, -0.1] }), /betas\[1\]/],
    ['betas not a pair', () => new optim.Adam(p(), { betas: [0.9] as unknown as [number, number] }), /betas/],
    ['negative eps', () => new optim.Adam(p(), { eps: -1e-8 }), /eps/],
    ['negative weightDecay', () => new optim.AdamW(p(), { weightDecay: -0.01 }), /weightDecay/],
    ['negative lrDecay', () => new optim.Adagrad(p(), { lrDecay: -1 }), /lrDecay/],
    ['negative initialAccumulatorValue', () => new optim.Adagrad(p(), { initialAccumulatorValue: -1 }), /initialAccumulatorValue/],
    ['negative alpha', () => new optim.RMSprop(p(), { alpha: -0.5 }), /alpha/],
    ['bad group lr', () => new optim.Adam([{ params: p(), lr: -1 }]), /lr/],
    ['LBFGS maxIter 0', () => new optim.LBFGS(p(), { maxIter: 0 }), /maxIter/],
    ['LBFGS line search', () => new optim.LBFGS(p(), { lineSearchFn: 'armijo' as 'strongWolfe' }), /lineSearchFn/],
    ['LBFGS groups', () => new optim.LBFGS([{ params: p() }, { params: p() }] as unknown as kiln.Tensor[]), /parameter groups/],
    ['empty params', () => new optim.Adam([]), /params/],
    ['int32 param', () => new optim.Adam([kiln.zeros([2], { dtype: 'int32' })]), /float32/],
    ['non-leaf param', () => { const x = kiln.zeros([2], { requiresGrad: true }); return new optim.Adam([x.mul(2)]); }, /non-leaf/],
    ['param in two groups', () => { const x = p(); return new optim.Adam([{ params: x }, { params: x }]); }, /more than one/],
  ];
  for (const [name, fn, re] of cases) {
    it(name, () => {
      expect(fn).toThrow(kiln.KilnError);
      expect(fn).toThrow(re);
    });
  }
  it('addParamGroup takes defaults for options it leaves out and validates the rest', () => {
    const opt = new optim.SGD(p(), { lr: 0.1, momentum: 0.9 });
    opt.addParamGroup({ params: p(), lr: 0.5 });
    expect(opt.paramGroups[1].lr).toBe(0.5);
    expect(opt.paramGroups[1].momentum).toBe(0.9);
    expect(() => opt.addParamGroup({ params: p(), weightDecay: -1 })).toThrow(/weightDecay/);
    expect(opt.paramGroups.length).toBe(2);
  });
  it('LBFGS.step needs a closure', () => {
    expect(() => new optim.LBFGS(p()).step()).toThrow(/closure/);
  });
});
