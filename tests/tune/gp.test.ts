// The GP sampler's model in float64: posterior mean and variance against the closed form on a
// tiny problem, the marginal-likelihood and log-EI gradients against central differences, the
// output warp, and the sampler on functions with known minima.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { logEi } from '../../src/tune/samplers/gp/acquisition.js';
import { GaussianProcess, matern52, negLogPosterior, paramsFromRaw } from '../../src/tune/samplers/gp/gp.js';
import { boxCox, fitLambda, powerWarp, yeoJohnson } from '../../src/tune/samplers/gp/warp.js';
import { dLogH, logH, normCdf, normPdf } from '../../src/tune/math/normal.js';

const { tune } = kiln;
tune.setLogLevel('silent');

/** Inverse of a 3x3 matrix by the adjugate (independent of the code under test). */
function inv3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [[A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det]];
}

describe('GaussianProcess', () => {
  // three points in 1-D, lengthscale 0.5 (l = 4), scale 1.5, noise 0.01
  const X = Float64Array.from([0.1, 0.4, 0.9]);
  const y = Float64Array.from([1.0, -0.5, 0.3]);
  const p = { invSqLengthscales: Float64Array.from([4]), scale: 1.5, noise: 0.01 };
  const k = (a: number, b: number) => {
    const r = Math.sqrt(4) * Math.abs(a - b), t = Math.sqrt(5) * r;
    return 1.5 * (1 + t + (5 * r * r) / 3) * Math.exp(-t);
  };

  it('posterior mean and variance equal k*^T K^-1 y and k(x,x) - k*^T K^-1 k*', () => {
    const gp = new GaussianProcess(X, y, new Int32Array(1), p);
    const K = [0, 1, 2].map((i) => [0, 1, 2].map((j) => k(X[i], X[j]) + (i === j ? 0.01 : 0)));
    const Ki = inv3(K);
    for (const x of [0, 0.25, 0.4, 0.77, 1]) {
      const ks = [0, 1, 2].map((i) => k(x, X[i]));
      const Kik = [0, 1, 2].map((i) => Ki[i][0] * ks[0] + Ki[i][1] * ks[1] + Ki[i][2] * ks[2]);
      const mean = Kik[0] * y[0] + Kik[1] * y[1] + Kik[2] * y[2];
      const variance = 1.5 - (ks[0] * Kik[0] + ks[1] * Kik[1] + ks[2] * Kik[2]);
      const post = gp.posterior(Float64Array.from([x]));
      expect(post.mean).toBeCloseTo(mean, 12);
      expect(post.variance).toBeCloseTo(variance, 12);
    }
  });

  it('the Matern 5/2 form matches its textbook expression', () => {
    for (const r of [0, 0.3, 1, 2.5]) expect(matern52(r * r)).toBeCloseTo((1 + Math.sqrt(5) * r + (5 / 3) * r * r) * Math.exp(-Math.sqrt(5) * r), 14);
  });

  it('a categorical dimension adds its lengthscale when the choices differ', () => {
    const Xc = Float64Array.from([0.2, 0, 0.2, 1]); // two points, same continuous value, choices 0 and 1
    const pc = { invSqLengthscales: Float64Array.from([3, 0.7]), scale: 1, noise: 0.01 };
    const gp = new GaussianProcess(Xc, Float64Array.from([1, 2]), Int32Array.from([0, 2]), pc);
    const k01 = matern52(0.7);
    const K = [[1.01, k01], [k01, 1.01]];
    const det = K[0][0] * K[1][1] - k01 * k01;
    const alpha = [(K[1][1] * 1 - k01 * 2) / det, (-k01 * 1 + K[0][0] * 2) / det];
    const post = gp.posterior(Float64Array.from([0.2, 0]));
    expect(post.mean).toBeCloseTo(1 * alpha[0] + k01 * alpha[1], 12);
  });

  it('the gradient of the negative log posterior matches central differences', () => {
    const Xr = Float64Array.from([0.1, 0.5, 0.8, 0.2, 0.3, 0.9, 0.6, 0.1, 0.45, 0.7, 1, 0]);
    const nc = Int32Array.from([0, 0, 3]);
    const Xm = Float64Array.from([0.1, 0.5, 0, 0.8, 0.2, 1, 0.3, 0.9, 2, 0.6, 0.1, 1]);
    const yy = Float64Array.from([0.3, -1.2, 0.8, 0.1]);
    for (const [Xa, ncs] of [[Xr.subarray(0, 12), new Int32Array(3)], [Xm, nc]] as const) {
      for (const fixed of [null, 1e-6]) {
        const raw = fixed === null ? Float64Array.from([0.3, -0.5, 1.1, 0.2, Math.log(0.05)]) : Float64Array.from([0.3, -0.5, 1.1, 0.2]);
        const g = new Float64Array(raw.length);
        negLogPosterior(Xa, yy, ncs, raw, g, fixed);
        for (let j = 0; j < raw.length; j++) {
          const e = 1e-6, a = Float64Array.from(raw), b = Float64Array.from(raw);
          a[j] += e; b[j] -= e;
          const fd = (negLogPosterior(Xa, yy, ncs, a, new Float64Array(raw.length), fixed) - negLogPosterior(Xa, yy, ncs, b, new Float64Array(raw.length), fixed)) / (2 * e);
          expect(Math.abs(g[j] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
        }
      }
    }
  });

  it('log EI equals log(sigma (phi(z) + z Phi(z))) and its gradient matches central differences', () => {
    const X2 = Float64Array.from([0.1, 0.2, 0.5, 0.9, 0.8, 0.4, 0.3, 0.7]);
    const y2 = Float64Array.from([0.5, -1, 1.2, 0.1]);
    const gp = new GaussianProcess(X2, y2, new Int32Array(2), paramsFromRaw([1, 0.5, 0.2], 2, 1e-4));
    for (const pt of [[0.3, 0.3], [0.55, 0.95], [0.02, 0.6]]) {
      const x = Float64Array.from(pt);
      const g = new Float64Array(2);
      const v = logEi(gp, -1, x, g);
      const { mean, variance } = gp.posterior(x);
      const s = Math.sqrt(variance + 1e-12), z = (-1 - mean) / s;
      expect(v).toBeCloseTo(Math.log(s * (normPdf(z) + z * normCdf(z))), 10);
      expect(logH(z)).toBeCloseTo(Math.log(normPdf(z) + z * normCdf(z)), 10);
      expect(dLogH(z)).toBeCloseTo(normCdf(z) / (normPdf(z) + z * normCdf(z)), 8);
      for (let j = 0; j < 2; j++) {
        const e = 1e-6, a = Float64Array.from(x), b = Float64Array.from(x);
        a[j] += e; b[j] -= e;
        const fd = (logEi(gp, -1, a) - logEi(gp, -1, b)) / (2 * e);
        expect(Math.abs(g[j] - fd)).toBeLessThan(1e-5 * Math.max(1, Math.abs(fd)));
      }
    }
  });
});

describe('output warp', () => {
  it('Box-Cox and Yeo-Johnson follow their definitions', () => {
    expect(boxCox(2, 0)).toBeCloseTo(Math.log(2), 14);
    expect(boxCox(2, 0.5)).toBeCloseTo((Math.SQRT2 - 1) / 0.5, 14);
    expect(yeoJohnson(3, 0)).toBeCloseTo(Math.log(4), 14);
    expect(yeoJohnson(-3, 2)).toBeCloseTo(-Math.log(4), 14);
    expect(yeoJohnson(-3, 0.5)).toBeCloseTo(-((4 ** 1.5 - 1) / 1.5), 14);
  });

  it('the likelihood picks lambda near 0 for log-normal data and near 1 for normal data', () => {
    let s = 1;
    const rnd = () => { s = (s * 16807) % 2147483647; return s / 2147483647; };
    const normal = () => Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
    const logn = Float64Array.from({ length: 400 }, () => Math.exp(normal()));
    expect(Math.abs(fitLambda(logn, true))).toBeLessThan(0.15);
    const nrm = Float64Array.from({ length: 400 }, () => 10 + normal());
    expect(Math.abs(fitLambda(nrm, true) - 1)).toBeLessThan(0.6);
    // warping keeps the order
    const v = Float64Array.from([5, 1e6, 3, 0.1, 40]);
    const w = Float64Array.from(v);
    powerWarp(w);
    const order = (a: Float64Array) => Array.from(a.keys()).sort((i, j) => a[i] - a[j]).join();
    expect(order(w)).toBe(order(v));
  });
});

describe('GPSampler', () => {
  it('finds the minimum of a 2-D quadratic within 20 trials', async () => {
    const study = tune.createStudy({ sampler: new tune.GPSampler({ seed: 1, nStartupTrials: 5 }) });
    await study.optimize((t) => (t.suggestFloat('x', -5, 5) - 1.3) ** 2 + (t.suggestFloat('y', 0, 10) - 7) ** 2, { nTrials: 20 });
    expect(study.bestValue).toBeLessThan(1e-3);
  });

  it('handles log-scaled, integer and categorical parameters together', async () => {
    const study = tune.createStudy({ sampler: new tune.GPSampler({ seed: 0, nStartupTrials: 6, nCandidates: 256 }) });
    await study.optimize((t) => {
      const lr = t.suggestFloat('lr', 1e-5, 1, { log: true });
      const w = t.suggestInt('w', 1, 64, { log: true });
      const act = t.suggestCategorical('act', ['a', 'b', 'c']);
      return (Math.log10(lr) + 3) ** 2 + (Math.log2(w) - 4) ** 2 / 4 + (act === 'b' ? 0 : 2);
    }, { nTrials: 25 });
    const best = study.bestParams;
    expect(best.act).toBe('b');
    expect(Number.isInteger(best.w)).toBe(true);
    expect(study.bestValue).toBeLessThan(0.35);
  });

  it('is reproducible under a seed', async () => {
    const run = async () => {
      const s = tune.createStudy({ sampler: new tune.GPSampler({ seed: 3, nStartupTrials: 4, nCandidates: 128, nLocalSearch: 2 }) });
      await s.optimize((t) => Math.sin(3 * t.suggestFloat('x', 0, 2)) + t.suggestFloat('y', -1, 1) ** 2, { nTrials: 8 });
      return s.trials.map((t) => [t.params.x, t.params.y]);
    };
    expect(await run()).toEqual(await run());
  });

  it('rejects bad options and multi-objective studies with a KilnError', () => {
    expect(() => new tune.GPSampler({ nCandidates: 0 })).toThrow(/nCandidates must be an integer >= 1/);
    expect(() => new tune.GPSampler({ seed: -1 })).toThrow(kiln.KilnError);
    const s = tune.createStudy({ directions: ['minimize', 'minimize'], sampler: new tune.GPSampler({ nStartupTrials: 1 }) });
    s.addTrial(tune.createTrial({ params: { x: 0.5 }, distributions: { x: new tune.FloatDistribution(0, 1) }, values: [1, 2] }));
    expect(() => s.ask()).toThrow(/GPSampler: multi-objective/);
  });
});

describe('samplers on awkward objectives', () => {
  it('survive constant values, infinities and conditional parameters', async () => {
    for (const sampler of [new tune.GPSampler({ seed: 0, nStartupTrials: 3, nCandidates: 64 }), new tune.TPESampler({ seed: 0, nStartupTrials: 3 }),
      new tune.TPESampler({ seed: 0, nStartupTrials: 3, multivariate: true })]) {
      const flat = tune.createStudy({ sampler });
      await flat.optimize((t) => { t.suggestFloat('x', 0, 1); return t.number % 4 === 3 ? Infinity : 1; }, { nTrials: 10 });
      expect(flat.trials.every((t) => t.state === 'COMPLETE')).toBe(true);
      expect(flat.bestValue).toBe(1);
      const cond = tune.createStudy({ sampler });
      await cond.optimize((t) => {
        const kind = t.suggestCategorical('kind', ['a', 'b']);
        return kind === 'a' ? (t.suggestFloat('x', -1, 1) - 0.5) ** 2 : 1 + t.suggestInt('n', 1, 100, { log: true }) / 100;
      }, { nTrials: 20 });
      expect(cond.trials.every((t) => t.state === 'COMPLETE')).toBe(true);
      for (const t of cond.trials) expect(Object.keys(t.params).sort()).toEqual(t.params.kind === 'a' ? ['kind', 'x'] : ['kind', 'n']);
    }
  });
});
