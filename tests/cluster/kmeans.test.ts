// kiln.cluster.KMeans against scikit-learn 1.2's best-of-10 inertia (tests/fixtures/mixture/
// sklearn.json, made by make_fixtures.py), Lloyd's fixed point checked from the definition, and
// the estimator's API (errors, options, memory).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { KMeans } = kiln.cluster;
const fx = JSON.parse(readFileSync(new URL('../fixtures/mixture/sklearn.json', import.meta.url), 'utf8')).kmeans;
const rows: number[][] = fx.data;
const X = kiln.tensor(Float64Array.from(rows.flat()), { dtype: 'float64', shape: [rows.length, rows[0].length] });

/** Squared distance of row i to center row c (float64, on the host). */
const sq = (x: number[], c: ArrayLike<number>, off: number) => x.reduce((s, v, j) => s + (v - c[off + j]) ** 2, 0);

describe('KMeans against sklearn', () => {
  for (const init of ['k-means++', 'random'] as const) {
    it(`${init}: best of 10 within 0.1% of sklearn's inertia; a Lloyd fixed point`, () => {
      const km = new KMeans({ nClusters: fx.nClusters, init, nInit: 10, seed: 0 }).fit(X);
      expect(km.inertia).toBeLessThanOrEqual(fx.inertia[init] * 1.001);
      // the reported inertia, labels and centers agree with the definition
      const c = km.clusterCenters!.toTypedArray();
      const lab = km.labels!.toTypedArray();
      const d = rows[0].length;
      let inertia = 0;
      const sums = new Float64Array(fx.nClusters * d);
      const counts = new Float64Array(fx.nClusters);
      rows.forEach((x, i) => {
        inertia += sq(x, c, lab[i] * d);
        counts[lab[i]]++;
        x.forEach((v, j) => { sums[lab[i] * d + j] += v; });
      });
      expect(Math.abs(inertia - km.inertia) / inertia).toBeLessThan(1e-10);
      // converged: every center is its cluster's mean (to sklearn's tol) and labels are nearest
      for (let k = 0; k < fx.nClusters; k++) for (let j = 0; j < d; j++) expect(Math.abs(sums[k * d + j] / counts[k] - c[k * d + j])).toBeLessThan(1e-2);
      const pred = km.predict(X).toTypedArray();
      let moved = 0;
      pred.forEach((p, i) => { if (p !== lab[i]) moved++; });
      expect(moved).toBeLessThanOrEqual(2);
      km.dispose();
    });
  }

  it('transform gives the Euclidean distances to every center; score is minus the inertia', () => {
    const km = new KMeans({ nClusters: 4, seed: 1, nInit: 2 }).fit(X);
    const T = km.transform(X).toTypedArray();
    const c = km.clusterCenters!.toTypedArray();
    const d = rows[0].length;
    let worst = 0;
    rows.slice(0, 200).forEach((x, i) => {
      for (let k = 0; k < 4; k++) worst = Math.max(worst, Math.abs(T[i * 4 + k] - Math.sqrt(sq(x, c, k * d))));
    });
    expect(worst).toBeLessThan(1e-8);
    expect(Math.abs(-km.score(X) - km.inertia) / km.inertia).toBeLessThan(1e-8);
    km.dispose();
  });

  it('given centers: one run from them (sklearn: Lloyd from that init)', () => {
    const init = rows.slice(0, 3);
    const km = new KMeans({ nClusters: 3, init, maxIter: 1 }).fit(X);
    // one Lloyd step: the means of the rows nearest to each given center
    const d = rows[0].length;
    const sums = new Float64Array(3 * d);
    const counts = new Float64Array(3);
    for (const x of rows) {
      let best = 0;
      for (let k = 1; k < 3; k++) if (sq(x, init[k], 0) < sq(x, init[best], 0)) best = k;
      counts[best]++;
      x.forEach((v, j) => { sums[best * d + j] += v; });
    }
    const c = km.clusterCenters!.toTypedArray();
    for (let i = 0; i < 3 * d; i++) expect(Math.abs(c[i] - sums[i] / counts[Math.floor(i / d)])).toBeLessThan(1e-9);
    expect(km.nIter).toBe(1);
    km.dispose();
  });

  it('float32 data reach the same inertia to 1e-4', () => {
    const X32 = X.float();
    const a = new KMeans({ nClusters: fx.nClusters, nInit: 10, seed: 0 }).fit(X32);
    expect(a.clusterCenters!.dtype).toBe('float32');
    expect(a.inertia).toBeLessThanOrEqual(fx.inertia['k-means++'] * 1.001);
    a.dispose();
    X32.dispose();
  });
});

describe('KMeans API', () => {
  it('rejects unknown options and bad values, naming them', () => {
    expect(() => new KMeans({ nCluster: 3 } as never)).toThrow(/unknown option 'nCluster'/);
    expect(() => new KMeans({ init: 'kmeans++' as never })).toThrow(/init: expected one of/);
    expect(() => new KMeans({ nInit: 0 })).toThrow(/nInit: expected an integer >= 1/);
    expect(() => new KMeans({ nClusters: 5 }).fit([[0, 1], [2, 3]])).toThrow(/nSamples=2 should be >= nClusters=5/);
    expect(() => new KMeans({ nClusters: 2, init: [[1, 2, 3], [4, 5, 6]] }).fit([[0, 1], [2, 3]])).toThrow(/init: expected centers of 2 features/);
    expect(() => new KMeans().predict(X)).toThrow(/call fit\(\) first/);
    const ints = kiln.zeros([4, 2], { dtype: 'int32' });
    expect(() => new KMeans({ nClusters: 2 }).fit(ints)).toThrow(/expected a float32 or float64 tensor/);
    ints.dispose();
  });

  it('duplicate points and empty clusters: no NaN', () => {
    const dup = [[0, 0], [0, 0], [0, 0], [1, 1], [1, 1], [1, 1]];
    const km = new KMeans({ nClusters: 3, seed: 0, init: 'random', nInit: 3 }).fit(dup);
    expect(km.clusterCenters!.toTypedArray().every(Number.isFinite)).toBe(true);
    expect(km.inertia).toBe(0);
    km.dispose();
  });

  it('fit, predict, transform keep kiln.memory() flat', () => {
    const km = new KMeans({ nClusters: 5, seed: 0, nInit: 2 });
    km.fit(X);
    const before = trackedTensors();
    for (let i = 0; i < 3; i++) {
      km.fit(X);
      km.predict(X).dispose();
      km.transform(X).dispose();
      km.score(X);
    }
    expect(trackedTensors()).toBe(before);
    km.dispose();
  });
});
