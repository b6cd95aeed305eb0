// Grid, Random and TPE samplers: coverage, reproducibility, ranges, and TPE beating random
// search on a function with a known minimum.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { normCdf } from '../../src/tune/math/normal.js';
import { ParzenEstimator, defaultWeights } from '../../src/tune/samplers/tpe/parzen.js';
import { crowdingDistance, multiObjectiveBelow, nondominatedRanks } from '../../src/tune/samplers/tpe/split.js';

const { tune } = kiln;
tune.setLogLevel('silent');

describe('GridSampler', () => {
  it('runs every combination exactly once, then stops', async () => {
    const space = { a: [1, 2, 3], b: ['x', 'y'], c: [0.5, 0.25] };
    const study = tune.createStudy({ sampler: new tune.GridSampler(space, { seed: 4 }) });
    await study.optimize((t) => t.suggestInt('a', 1, 3) + (t.suggestCategorical('b', ['x', 'y']) === 'x' ? 0 : 10) + t.suggestFloat('c', 0, 1), { nTrials: 100 });
    expect(study.trials.length).toBe(12);
    const seen = study.trials.map((t) => `${t.params.a}|${t.params.b}|${t.params.c}`).sort();
    const all: string[] = [];
    for (const a of space.a) for (const b of space.b) for (const c of space.c) all.push(`${a}|${b}|${c}`);
    expect(seen).toEqual(all.sort());
    expect(study.bestValue).toBe(1.25);
    expect(() => study.ask()).toThrow(/no point left/);
  });

  it('rejects a parameter outside its space and values outside the suggested range', async () => {
    const study = tune.createStudy({ sampler: new tune.GridSampler({ x: [0, 5] }) });
    const t = study.ask();
    expect(() => t.suggestFloat('y', 0, 1)).toThrow(/'y' is not in the search space/);
    const s2 = tune.createStudy({ sampler: new tune.GridSampler({ x: [7] }) });
    expect(() => s2.ask().suggestFloat('x', 0, 1)).toThrow(/lies outside the suggested range \[0, 1\]/);
    expect(() => new tune.GridSampler({ x: [] })).toThrow(/searchSpace.x must be a non-empty array/);
  });
});

async function draws(sampler: kiln.tune.Sampler, n: number) {
  const study = tune.createStudy({ sampler });
  await study.optimize((t) => {
    const a = t.suggestFloat('a', -3, 3);
    const b = t.suggestFloat('b', 1e-4, 1, { log: true });
    const c = t.suggestInt('c', 0, 20, { step: 4 });
    const d = t.suggestCategorical('d', ['p', 'q', 'r']);
    const e = t.suggestInt('e', 1, 1000, { log: true });
    return (a - 1) ** 2 + Math.abs(Math.log10(b) + 2) + Math.abs(c - 8) / 4 + (d === 'q' ? 0 : 1) + Math.abs(Math.log10(e) - 2);
  }, { nTrials: n });
  return study;
}

describe('RandomSampler', () => {
  it('is reproducible under a seed and differs across seeds', async () => {
    const p = async (seed: number) => (await draws(new tune.RandomSampler({ seed }), 15)).trials.map((t) => t.params);
    expect(await p(7)).toEqual(await p(7));
    expect(await p(7)).not.toEqual(await p(8));
  });

  it('stays in range, on the step grid, and is uniform on the log scale', async () => {
    const study = await draws(new tune.RandomSampler({ seed: 0 }), 600);
    const ps = study.trials.map((t) => t.params);
    for (const p of ps) {
      expect(p.a as number).toBeGreaterThanOrEqual(-3);
      expect(p.a as number).toBeLessThanOrEqual(3);
      expect([0, 4, 8, 12, 16, 20]).toContain(p.c);
      expect(['p', 'q', 'r']).toContain(p.d);
      expect(Number.isInteger(p.e)).toBe(true);
    }
    // log-uniform on [1e-4, 1]: a quarter of the draws below 1e-3 (binomial sd ~ 0.018)
    const below = ps.filter((p) => (p.b as number) < 1e-3).length / ps.length;
    expect(Math.abs(below - 0.25)).toBeLessThan(0.06);
    const meanA = ps.reduce((s, p) => s + (p.a as number), 0) / ps.length;
    expect(Math.abs(meanA)).toBeLessThan(0.25); // uniform on [-3, 3]: sd of the mean ~ 0.07
  });
});

describe('ParzenEstimator', () => {
  const opts = { priorWeight: 1, considerMagicClip: true, considerEndpoints: false, multivariate: false, weights: defaultWeights };

  it('builds kernels by the neighbour rule and scores candidates as worked out by hand', () => {
    // observations 1.2, -3, 4.5, 9.9, 0.1 on [-5, 10], prior at 2.5 with width 15; sorted with the
    // ends: -5 | -3 0.1 1.2 2.5 4.5 9.9 | 10. Widths: larger gap to a neighbour, the outermost
    // ones take their inner gap (-3: 3.1, 9.9: 5.4), then clipped below at 15 / min(100, 7).
    const pe = new ParzenEstimator({ x: Float64Array.from([1.2, -3, 4.5, 9.9, 0.1]) }, { x: new tune.FloatDistribution(-5, 10) }, opts);
    const mus = [1.2, -3, 4.5, 9.9, 0.1, 2.5], sigmas = [15 / 7, 3.1, 5.4, 5.4, 3.1, 15];
    const score = (x: number) => Math.log(mus.reduce((acc, m, i) => {
      const z = (x - m) / sigmas[i], mass = normCdf((10 - m) / sigmas[i]) - normCdf((-5 - m) / sigmas[i]);
      return acc + (1 / 6) * Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI) / mass; // per unit bandwidth: no 1/sigma
    }, 0));
    const xs = [-4, 0, 3, 9.5];
    const got = pe.logScore({ x: Float64Array.from(xs) });
    xs.forEach((x, i) => expect(got[i]).toBeCloseTo(score(x), 12));
    // the same numbers as Optuna 3.1's _ParzenEstimator.log_pdf on these observations
    [-1.1884094, -0.82732954, -0.87478942, -1.07402908].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 7));
  });

  it('gives integers the normal mass of their cell', () => {
    // 3, 5, 5, 9 on [1, 10] (cells [0.5, 10.5]); reference: Optuna 3.1 on the same data
    const pe = new ParzenEstimator({ k: Float64Array.from([3, 5, 5, 9]) }, { k: new tune.IntDistribution(1, 10) }, opts);
    const got = pe.logScore({ k: Float64Array.from([1, 5, 6]) });
    [-2.86468003, -1.87507456, -2.00494207].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 7));
    expect(defaultWeights(27)).toEqual([1 / 27, 1, ...new Array(25).fill(1)]);
  });
});

describe('TPESampler', () => {
  it('is reproducible under a seed (univariate and multivariate)', async () => {
    for (const multivariate of [false, true]) {
      const p = async () => (await draws(new tune.TPESampler({ seed: 5, multivariate, nStartupTrials: 5 }), 25)).trials.map((t) => t.params);
      expect(await p()).toEqual(await p());
    }
  });

  it('beats random search on a mixed function, over 5 seeds', async () => {
    let tpeWins = 0;
    for (let seed = 0; seed < 5; seed++) {
      const tpe = (await draws(new tune.TPESampler({ seed }), 60)).bestValue;
      const rnd = (await draws(new tune.RandomSampler({ seed }), 60)).bestValue;
      if (tpe < rnd) tpeWins++;
    }
    expect(tpeWins).toBeGreaterThanOrEqual(4);
  });

  it('concentrates on the good region of a 1-D quadratic', async () => {
    const study = tune.createStudy({ sampler: new tune.TPESampler({ seed: 2 }) });
    await study.optimize((t) => (t.suggestFloat('x', -10, 10) - 3) ** 2, { nTrials: 80 });
    const late = study.trials.slice(40).map((t) => t.params.x as number);
    const near = late.filter((x) => Math.abs(x - 3) < 2).length / late.length;
    expect(near).toBeGreaterThan(0.5); // random search: 0.2
    expect(study.bestValue).toBeLessThan(0.05);
  });

  it('rejects bad options with a KilnError', () => {
    expect(() => new tune.TPESampler({ nStartupTrials: -1 })).toThrow(/nStartupTrials must be an integer >= 0/);
    expect(() => new tune.TPESampler({ seed: 1.5 })).toThrow(/seed must be a non-negative integer/);
    expect(() => new tune.TPESampler({ gamma: 3 as never })).toThrow(kiln.KilnError);
  });
});

describe('multi-objective TPE', () => {
  it('ranks Pareto fronts and breaks the last one by crowding distance', () => {
    //        0       1       2       3       4       5
    const v = [[1, 5], [2, 2], [5, 1], [3, 3], [6, 6], [2, 4]];
    // front 0: 0, 1, 2 (none dominates another); 3 and 5 are dominated only by 1; 4 by all
    expect(nondominatedRanks(v)).toEqual([0, 0, 0, 1, 2, 1]);
    // crowding on [[1,5],[2,2],[5,1]]: ends infinite; middle (5-1)/4 + (5-1)/4 = 2
    expect(crowdingDistance([[1, 5], [2, 2], [5, 1]])).toEqual([Infinity, 2, Infinity]);
    expect(multiObjectiveBelow(v, 3)).toEqual([0, 1, 2]);
    expect(multiObjectiveBelow(v, 2)).toEqual([0, 2]); // the two ends of front 0
    expect(multiObjectiveBelow(v, 4).length).toBe(4);
  });

  it('finds a better Pareto front than random search (2-D hypervolume, 5 seeds)', async () => {
    const hv = (pts: number[][]) => {
      const p = pts.filter(([a, b]) => a < 20 && b < 20).sort((u, w) => u[0] - w[0]);
      let area = 0, prev = 20;
      for (const [a, b] of p) if (b < prev) { area += (20 - a) * (prev - b); prev = b; }
      return area;
    };
    let wins = 0;
    for (let seed = 0; seed < 5; seed++) {
      const front = async (sampler: kiln.tune.Sampler) => {
        const s = tune.createStudy({ directions: ['minimize', 'minimize'], sampler });
        await s.optimize((t) => { const x = t.suggestFloat('x', -4, 4), y = t.suggestFloat('y', -4, 4); return [x * x + y * y, (x - 2) ** 2 + y * y]; }, { nTrials: 60 });
        return hv(s.bestTrials.map((t) => t.values!));
      };
      if ((await front(new tune.TPESampler({ seed }))) > (await front(new tune.RandomSampler({ seed })))) wins++;
    }
    expect(wins).toBeGreaterThanOrEqual(4); // measured: 6 of 6 seeds, hypervolume ~395.5 against 371-389
  });
});
