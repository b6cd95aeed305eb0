// Learning-rate schedulers against PyTorch 1.13: the lr of every group (and the cycled momentum)
// after construction and after each of 30 steps, at 1e-12 relative (both sides use the same
// float64 formulas; only pow/cos rounding may differ).
import { describe, expect, it } from 'vitest';
import { expectClose, fixture, kiln, optim } from './helpers.js';

const { lrScheduler: S } = optim;

interface SubSpec { scheduler: string; options: Record<string, any> }
interface Case extends SubSpec {
  name: string;
  optimizer?: 'SGD' | 'Adam';
  lrs: number[];
  expectedLr: number[][];
  expectedMomentum: number[][];
}
const fx = fixture<{ metrics: number[]; steps: number; cases: Case[] }>('schedulers.json');

function makeOptimizer(kind: 'SGD' | 'Adam', lrs: number[]): optim.Optimizer<any> {
  const groups = lrs.map((lr) => ({ params: [kiln.zeros([2], { requiresGrad: true })], lr }));
  return kind === 'SGD' ? new optim.SGD(groups, { lr: lrs[0], momentum: 0.9 }) : new optim.Adam(groups, { lr: lrs[0] });
}

function makeScheduler(opt: optim.Optimizer<any>, s: SubSpec): any {
  if (s.scheduler === 'SequentialLR') {
    const subs = (s.options.schedulers as SubSpec[]).map((x) => makeScheduler(opt, x));
    return new S.SequentialLR(opt, { schedulers: subs, milestones: s.options.milestones });
  }
  const Ctor = (S as Record<string, any>)[s.scheduler];
  return new Ctor(opt, s.options);
}

const momenta = (opt: optim.Optimizer<any>) =>
  opt.paramGroups.map((g) => (g.betas ? (g.betas as number[])[0] : (g.momentum as number)));

function run(c: Case, interruptAt?: number): { lrs: number[][]; moms: number[][] } {
  let opt = makeOptimizer(c.optimizer ?? 'SGD', c.lrs);
  let sched = makeScheduler(opt, c);
  const lrs = [sched.getLastLr()], moms = [momenta(opt)];
  for (let k = 0; k < fx.steps; k++) {
    if (k === interruptAt) {
      // Save both, build a new optimizer and scheduler from scratch, load, continue with them.
      const optSd = opt.stateDict(), schedSd = JSON.parse(JSON.stringify(sched.stateDict()));
      opt = makeOptimizer(c.optimizer ?? 'SGD', c.lrs);
      sched = makeScheduler(opt, c);
      opt.loadStateDict(optSd);
      sched.loadStateDict(schedSd);
    }
    opt.step();
    if (c.scheduler === 'ReduceLROnPlateau') sched.step(fx.metrics[k]);
    else sched.step();
    lrs.push(sched.getLastLr());
    moms.push(momenta(opt));
  }
  return { lrs, moms };
}

describe('lr schedulers match PyTorch', () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const { lrs, moms } = run(c);
      expect(lrs.length).toBe(c.expectedLr.length);
      lrs.forEach((lr, k) => expectClose(lr, c.expectedLr[k], 1e-12, 1e-15, `${c.name} lr after ${k} steps`));
      moms.forEach((m, k) => expectClose(m, c.expectedMomentum[k], 1e-12, 1e-15, `${c.name} momentum after ${k} steps`));
    });
  }
});

describe('scheduler stateDict', () => {
  for (const name of ['cosine', 'onecycle-cos', 'plateau-min', 'sequential-warmup-cosine']) {
    it(`${name}: saved after 13 steps into new objects, then continued, gives the same lrs`, () => {
      const c = fx.cases.find((x) => x.name === name)!;
      const { lrs } = run(c, 13);
      lrs.forEach((lr, k) => expectClose(lr, c.expectedLr[k], 1e-12, 1e-15, `${name} lr after ${k} steps`));
    });
  }
});

describe('ReduceLROnPlateau stateDict through JSON before any step', () => {
  it('restores best = Infinity (JSON writes null)', () => {
    const c = fx.cases.find((x) => x.name === 'plateau-min')!;
    const { lrs } = run(c, 0);
    lrs.forEach((lr, k) => expectClose(lr, c.expectedLr[k], 1e-12, 1e-15, `plateau-min lr after ${k} steps`));
  });
});

describe('scheduler validation', () => {
  const opt = () => makeOptimizer('SGD', [0.1]);
  it('rejects bad options with KilnError naming them', () => {
    expect(() => new S.StepLR(opt(), { stepSize: 0 })).toThrow(/stepSize/);
    expect(() => new S.LinearLR(opt(), { startFactor: 0 })).toThrow(/startFactor/);
    expect(() => new S.CosineAnnealingLR(opt(), { tMax: 1.5 })).toThrow(/tMax/);
    expect(() => new S.OneCycleLR(opt(), { maxLr: 1 })).toThrow(/totalSteps/);
    expect(() => new S.OneCycleLR(opt(), { maxLr: 1, totalSteps: 10, annealStrategy: 'x' as 'cos' })).toThrow(/annealStrategy/);
    expect(() => new S.ReduceLROnPlateau(opt(), { factor: 1 })).toThrow(kiln.KilnError);
    expect(() => new S.ReduceLROnPlateau(opt(), { mode: 'up' as 'min' })).toThrow(/mode/);
    expect(() => new S.StepLR({} as optim.Optimizer, { stepSize: 1 })).toThrow(/optimizer/);
  });
  it('OneCycleLR refuses to step past totalSteps', () => {
    const s = new S.OneCycleLR(opt(), { maxLr: 1, totalSteps: 3 });
    s.step(); s.step(); s.step();
    expect(() => s.step()).toThrow(/totalSteps is 3/);
  });
});
