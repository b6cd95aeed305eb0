// kiln.mixture.GaussianMixture against scikit-learn 1.2 (tests/fixtures/mixture/sklearn.json, made
// by make_fixtures.py): the EM path from a fixed init (iterations, the lower bound after each
// iteration, the fitted parameters), best of nInit 5 from Kiln's own init, degenerate data, and
// the estimator's API (errors, options, memory).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { GaussianMixture } = kiln.mixture;
type CT = 'full' | 'tied' | 'diag' | 'spherical';
const fx = JSON.parse(readFileSync(new URL('../fixtures/mixture/sklearn.json', import.meta.url), 'utf8'));
const f64 = (rows: number[][]) => kiln.tensor(Float64Array.from(rows.flat()), { dtype: 'float64', shape: [rows.length, rows[0].length] });
const flat = (v: unknown): number[] => (Array.isArray(v) ? v.flat(4) as number[] : [v as number]);
const maxRel = (a: ArrayLike<number>, b: number[]) => {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
};
const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

function fixedInit(ct: CT, extra: Record<string, unknown> = {}) {
  const f = fx.fixedInit;
  return new GaussianMixture({
    nComponents: 4, covarianceType: ct, regCovar: 1e-6,
    weightsInit: f.weightsInit, meansInit: f.meansInit, precisionsInit: f.precisionsInit[ct], ...extra,
  });
}

describe('GaussianMixture follows sklearn from the same init', () => {
  const X = f64(fx.data);
  for (const run of fx.fixedInit.runs) {
    it(`${run.covarianceType}, tol ${run.tol}: iterations, lower bound, parameters, scores`, () => {
      const gm = fixedInit(run.covarianceType, { tol: run.tol, maxIter: run.maxIter }).fit(X);
      expect(gm.nIter).toBe(run.nIter);
      expect(gm.converged).toBe(run.converged);
      expect(rel(gm.lowerBound, run.lowerBound)).toBeLessThan(1e-5);
      for (const key of ['weights', 'means', 'covariances', 'precisionsCholesky'] as const) {
        expect(maxRel((gm[key] as Tensor).toTypedArray(), flat(run.fitted[key])), key).toBeLessThan(1e-5);
      }
      expect(rel(gm.score(X), run.score)).toBeLessThan(1e-5);
      expect(rel(gm.bic(X), run.bic)).toBeLessThan(1e-5);
      expect(rel(gm.aic(X), run.aic)).toBeLessThan(1e-5);
      const pred = gm.predict(X).toTypedArray();
      expect(Array.from(pred)).toEqual(run.predict);
      gm.dispose();
    });
  }

  it('the lower bound of every iteration (warm start, one iteration per fit, as the fixture replay)', () => {
    for (const run of fx.fixedInit.runs.filter((r: { tol: number }) => r.tol === 1e-7)) {
      const gm = fixedInit(run.covarianceType, { maxIter: 1, warmStart: true });
      run.lowerBounds.forEach((b: number, i: number) => {
        gm.fit(X);
        expect(rel(gm.lowerBound, b), `${run.covarianceType} iteration ${i + 1}`).toBeLessThan(1e-5);
      });
      gm.dispose();
    }
  });

  it('float32 data follow the float64 path closely', () => {
    const run = fx.fixedInit.runs.find((r: { covarianceType: string; tol: number }) => r.covarianceType === 'full' && r.tol === 1e-3);
    const X32 = X.float();
    const gm = fixedInit('full', { tol: 1e-3 }).fit(X32);
    expect(gm.means!.dtype).toBe('float32');
    expect(rel(gm.lowerBound, run.lowerBound)).toBeLessThan(1e-4);
    gm.dispose();
    X32.dispose();
  });
});

describe('GaussianMixture from its own initialisation', () => {
  const X = f64(fx.data);
  for (const ct of ['full', 'tied', 'diag', 'spherical'] as CT[]) {
    it(`${ct}: best of nInit 5 reaches sklearn's best of 5 minus 1e-3`, () => {
      const gm = new GaussianMixture({ nComponents: 4, covarianceType: ct, nInit: 5, seed: 0 }).fit(X);
      expect(gm.lowerBound).toBeGreaterThanOrEqual(fx.bestOf5[ct] - 1e-3);
      gm.dispose();
    });
  }

  it('every initParams gives a finite fit whose weights sum to 1', () => {
    for (const initParams of ['kmeans', 'k-means++', 'random', 'random_from_data'] as const) {
      const gm = new GaussianMixture({ nComponents: 4, initParams, seed: 1, maxIter: 200 }).fit(X);
      expect(Number.isFinite(gm.lowerBound), initParams).toBe(true);
      expect(gm.weights!.sum().item()).toBeCloseTo(1, 10);
      const proba = gm.predictProba(X);
      expect(proba.sum(1).sub(1).abs().max().item()).toBeLessThan(1e-12);
      gm.dispose();
    }
  });
});

describe('GaussianMixture on degenerate data', () => {
  it('duplicate points: regCovar keeps it finite, as sklearn', () => {
    const dd = fx.degenerate.duplicates;
    const gm = new GaussianMixture({ nComponents: dd.nComponents, seed: 0 }).fit(dd.data);
    expect(rel(gm.lowerBound, dd.lowerBound)).toBeLessThan(1e-5);
    expect(maxRel(Array.from(gm.weights!.toTypedArray()).sort(), dd.weights)).toBeLessThan(1e-6);
    gm.dispose();
  });

  it('a component collapsing onto repeated points: finite, sklearn\'s bound', () => {
    const dc = fx.degenerate.collapsed;
    const gm = new GaussianMixture({ nComponents: dc.nComponents, seed: 0, nInit: 3 }).fit(dc.data);
    expect(rel(gm.lowerBound, dc.lowerBound)).toBeLessThan(1e-4);
    expect(maxRel(Array.from(gm.weights!.toTypedArray()).sort(), dc.weights)).toBeLessThan(1e-4);
    gm.dispose();
  });

  it('more components than points, and regCovar 0 on duplicates: clear errors, never NaN', () => {
    expect(() => new GaussianMixture({ nComponents: 3 }).fit([[0, 1], [2, 3]])).toThrow(/nSamples >= nComponents.*nComponents = 3, nSamples = 2/);
    expect(fx.degenerate.tooFewPoints).toMatch(/n_samples >= n_components/);
    expect(fx.degenerate.noReg).toMatch(/ill-defined empirical covariance/);
    expect(() => new GaussianMixture({ nComponents: 3, regCovar: 0, seed: 0 }).fit(fx.degenerate.duplicates.data))
      .toThrow(/ill-defined empirical covariance.*increase regCovar/);
  });
});

describe('GaussianMixture API', () => {
  const X = f64(fx.data);
  it('rejects unknown options and bad values, naming them', () => {
    expect(() => new GaussianMixture({ nComponent: 2 } as never)).toThrow(/unknown option 'nComponent'/);
    expect(() => new GaussianMixture({ covarianceType: 'diagonal' as never })).toThrow(/covarianceType: expected one of/);
    expect(() => new GaussianMixture({ tol: -1 })).toThrow(/tol: expected a finite number >= 0/);
    expect(() => new GaussianMixture({ initParams: 'kmeans++' as never })).toThrow(/initParams/);
    expect(() => new GaussianMixture({ nComponents: 4, weightsInit: [0.5, 0.5, 0.5, 0.5] }).fit(X)).toThrow(/weightsInit: expected weights that sum to 1/);
    expect(() => new GaussianMixture({ nComponents: 2, meansInit: [[1, 2, 3]] }).fit(X)).toThrow(/meansInit: expected shape \[2, 3\]/);
    expect(() => new GaussianMixture({ nComponents: 2, covarianceType: 'diag', precisionsInit: [[1, 1, 1], [1, -1, 1]] }).fit(X)).toThrow(/precisionsInit: expected positive/);
    expect(() => new GaussianMixture().predict(X)).toThrow(/call fit\(\) first/);
    const bad = kiln.tensor([1, NaN, 2, 3], { dtype: 'float64', shape: [2, 2] });
    expect(() => new GaussianMixture().fit(bad)).toThrow(/NaN or infinity/);
    bad.dispose();
    const gm = new GaussianMixture({ nComponents: 2, seed: 0 }).fit(X);
    const wrong = kiln.zeros([3, 2], { dtype: 'float64' });
    expect(() => gm.predict(wrong)).toThrow(/X has 2 features, the model 3/);
    wrong.dispose();
    gm.dispose();
  });

  it('sample() draws from the fitted mixture: counts by weight, moments of each component', () => {
    kiln.manualSeed(3);
    const gm = new GaussianMixture({ nComponents: 2, covarianceType: 'full', seed: 0 }).fit(X);
    const [S, y] = gm.sample(20000);
    expect(S.shape).toEqual([20000, 3]);
    const labels = y.toTypedArray();
    const w = gm.weights!.toTypedArray();
    const frac0 = labels.filter((v) => v === 0).length / 20000;
    expect(Math.abs(frac0 - w[0])).toBeLessThan(0.02);
    // the first component's sample mean and covariance against the fitted ones
    const idx = kiln.tensor(Int32Array.from(Array.from(labels.keys()).filter((i) => labels[i] === 0)), { dtype: 'int32' });
    const S0 = S.indexSelect(0, idx);
    const mu = S0.mean(0);
    const c = S0.sub(mu);
    const cov = c.t().matmul(c).div(S0.shape[0] - 1);
    const cov0 = gm.covariances!.select(0, 0);
    const scale = cov0.abs().max().item();
    expect(mu.sub(gm.means!.select(0, 0)).abs().max().item()).toBeLessThan(0.05 * Math.sqrt(scale));
    expect(cov.sub(cov0).abs().max().item()).toBeLessThan(0.06 * scale);
    for (const t of [S, y, idx, S0, mu, c, cov, cov0]) t.dispose();
    gm.dispose();
  });

  it('fit, predict and score keep kiln.memory() flat', () => {
    const gm = new GaussianMixture({ nComponents: 3, covarianceType: 'diag', seed: 0 });
    gm.fit(X);
    const before = trackedTensors();
    for (let i = 0; i < 3; i++) {
      gm.fit(X);
      gm.predict(X).dispose();
      gm.score(X);
      gm.scoreSamples(X).dispose();
    }
    expect(trackedTensors()).toBe(before);
    gm.dispose();
  });
});
