// Pruning decisions on hand-made learning curves, worked out by hand in the comments.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { crc32 } from '../../src/tune/pruners/hyperband.js';
import { percentile } from '../../src/tune/pruners/median.js';

const { tune } = kiln;
tune.setLogLevel('silent');
const X = new tune.FloatDistribution(0, 1);

/** A study holding finished trials with the given curves (step i -> curve[i]), values = last point. */
function withCurves(pruner: kiln.tune.Pruner, curves: number[][], direction: 'minimize' | 'maximize' = 'minimize') {
  const study = tune.createStudy({ direction, pruner, sampler: new tune.RandomSampler({ seed: 0 }) });
  for (const c of curves) {
    study.addTrial(tune.createTrial({ params: { x: 0.5 }, distributions: { x: X }, value: c[c.length - 1], intermediateValues: Object.fromEntries(c.map((v, i) => [i, v])) }));
  }
  return study;
}

// steps:        0   1  2  3  4
const CURVES = [[10, 8, 6, 4, 2], [9, 7, 5, 3, 1], [11, 9, 7, 5, 3], [12, 10, 8, 6, 4], [8, 6, 4, 2, 0]];
// medians by step: 10, 8, 6, 4, 2

describe('MedianPruner', () => {
  it('prunes when the best value so far is worse than the median at that step', () => {
    const study = withCurves(new tune.MedianPruner(), CURVES);
    const t = study.ask();
    t.report(9, 0); // 9 < median 10
    expect(t.shouldPrune()).toBe(false);
    t.report(9.5, 1); // best so far 9 > median 8
    expect(t.shouldPrune()).toBe(true);
    const u = study.ask();
    u.report(7.9, 0);
    u.report(7.95, 1); // best 7.9 < 8
    expect(u.shouldPrune()).toBe(false);
  });

  it('waits for nStartupTrials, nWarmupSteps, the interval and nMinTrials', () => {
    const late = (p: kiln.tune.Pruner, steps: number[]) => {
      const t = withCurves(p, CURVES).ask();
      for (const s of steps) t.report(100, s);
      return t.shouldPrune();
    };
    expect(late(new tune.MedianPruner(), [0])).toBe(true);
    expect(late(new tune.MedianPruner({ nStartupTrials: 6 }), [0])).toBe(false); // 5 complete
    expect(late(new tune.MedianPruner({ nWarmupSteps: 2 }), [0, 1])).toBe(false);
    expect(late(new tune.MedianPruner({ nWarmupSteps: 2 }), [0, 1, 2])).toBe(true);
    expect(late(new tune.MedianPruner({ intervalSteps: 2 }), [0, 1])).toBe(false); // step 1 is off the grid 0, 2, 4
    expect(late(new tune.MedianPruner({ intervalSteps: 2 }), [0, 2])).toBe(true);
    expect(late(new tune.MedianPruner({ nMinTrials: 6 }), [0])).toBe(false);
    const t = withCurves(new tune.MedianPruner(), CURVES).ask();
    t.report(NaN, 0);
    expect(t.shouldPrune()).toBe(true);
  });

  it('mirrors for maximisation', () => {
    const up = CURVES.map((c) => c.map((v) => -v));
    const study = withCurves(new tune.MedianPruner(), up, 'maximize');
    const t = study.ask();
    t.report(-9, 0); // -9 > median -10
    expect(t.shouldPrune()).toBe(false);
    t.report(-9.5, 1); // best -9 < median -8
    expect(t.shouldPrune()).toBe(true);
  });

  it('PercentilePruner uses linear interpolation between order statistics', () => {
    expect(percentile([6, 10, 7, 9, 8], 25)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([1, NaN, 3], 50)).toBe(2);
    const study = withCurves(new tune.PercentilePruner(25), CURVES);
    const t = study.ask();
    t.report(7.5, 1); // 25th percentile at step 1 of [8,7,9,10,6] is 7
    expect(t.shouldPrune()).toBe(true);
    const m = withCurves(new tune.MedianPruner(), CURVES).ask();
    m.report(7.5, 1);
    expect(m.shouldPrune()).toBe(false);
    expect(() => new tune.PercentilePruner(120)).toThrow(/percentile must be a number in \[0, 100\]/);
    expect(() => new tune.MedianPruner({ intervalSteps: 0 })).toThrow(/intervalSteps must be an integer >= 1/);
  });
});

describe('SuccessiveHalvingPruner', () => {
  it('promotes the best 1/eta at each rung (rungs at steps 1, 2, 4 for eta 2)', () => {
    const study = tune.createStudy({ pruner: new tune.SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 }) });
    const a = study.ask();
    a.report(5, 0);
    expect(a.shouldPrune()).toBe(false); // before the first rung
    a.report(5, 1);
    expect(a.shouldPrune()).toBe(false); // alone at rung 0: promoted
    study.tell(a, 5);
    expect(study.trials[0].systemAttrs.completedRung0).toBe(5);

    const b = study.ask();
    b.report(7, 1); // rung 0 holds [5, 7]: keep the best floor(2/2) = 1 -> 7 > 5, pruned
    expect(b.shouldPrune()).toBe(true);
    study.tell(b, undefined, 'PRUNED');

    const c = study.ask();
    c.report(3, 1); // rung 0 [3, 5, 7]: best 1 is 3 -> promoted
    expect(c.shouldPrune()).toBe(false);
    c.report(2.5, 2); // rung 1 holds only c -> promoted
    expect(c.shouldPrune()).toBe(false);
    const tc = study.trials[2];
    expect(tc.systemAttrs.completedRung0).toBe(3);
    expect(tc.systemAttrs.completedRung1).toBe(2.5);
    expect(() => new tune.SuccessiveHalvingPruner({ reductionFactor: 1 })).toThrow(/reductionFactor must be an integer >= 2/);
  });

  it("'auto' minResource waits for a complete trial, then uses its last step / 100", () => {
    const study = tune.createStudy({ pruner: new tune.SuccessiveHalvingPruner() });
    const a = study.ask();
    a.report(1, 3);
    expect(a.shouldPrune()).toBe(false);
    study.tell(a, 1); // last step 3 -> minResource max(floor(3 / 100), 1) = 1
    const b = study.ask();
    b.report(2, 1); // rung 0 [2, ...]: a never reached rung 0 through the pruner, so b is alone: promoted
    expect(b.shouldPrune()).toBe(false);
    const c = study.ask();
    c.report(4, 1); // rung 0 [2, 4]: floor(2/4)-1 = -1 -> best 1 (2): 4 is pruned
    expect(c.shouldPrune()).toBe(true);
  });
});

describe('HyperbandPruner', () => {
  it('uses the standard crc32', () => {
    expect(crc32('hello')).toBe(0x3610a686);
    expect(crc32('The quick brown fox jumps over the lazy dog')).toBe(0x414fa339);
  });

  it('splits trials into brackets by budget and prunes within a bracket only', () => {
    const hb = new tune.HyperbandPruner({ minResource: 1, maxResource: 9, reductionFactor: 3 });
    const study = tune.createStudy({ studyName: 'hb', pruner: hb });
    // 3 brackets with budgets ceil(3*9/3)=9, ceil(3*3/2)=5, ceil(3*1/1)=3 (total 17)
    const bracket = (n: number) => { const r = crc32(`hb_${n}`) % 17; return r < 9 ? 0 : r < 14 ? 1 : 2; };
    let b0 = 0, sawB2 = false;
    for (let i = 0; i < 40; i++) {
      const t = study.ask();
      const b = bracket(t.number);
      if (b === 0 && b0 < 2) {
        t.report(b0 === 0 ? 1 : 5, 1); // bracket 0: rung 0 at step 1
        expect(t.shouldPrune()).toBe(b0 === 1); // rung 0 holds [1, 5]: keep the best -> 5 pruned
        study.tell(t, b0 === 0 ? 1 : 5);
        b0++;
      } else if (b === 2) {
        for (let s = 1; s < 9; s++) { t.report(100 + s, s); expect(t.shouldPrune()).toBe(false); } // first rung at 1*3^2 = 9
        sawB2 = true;
        study.tell(t, undefined, 'FAIL');
      } else {
        study.tell(t, undefined, 'FAIL');
      }
    }
    expect(b0 === 2 && sawB2).toBe(true);
    expect(hb.nBrackets).toBe(3);
  });
});
