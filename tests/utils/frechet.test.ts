// kiln.utils.frechetDistance / gaussianStats against pytorch-fid's recipe (numpy cov,
// scipy.linalg.sqrtm) on tests/fixtures/utils/frechet.json (made by frechet_reference.py), and
// against the closed form for diagonal covariances.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const fx = JSON.parse(readFileSync(join(__dirname, '../fixtures/utils/frechet.json'), 'utf8'));
const rows = (m: number[][]) => kiln.tensor(new Float32Array(m.flat()), { shape: [m.length, m[0].length] });

describe('utils.frechetDistance', () => {
  it('matches scipy (sqrtm of S1 S2) on correlated features', () => {
    const a = rows(fx.a), b = rows(fx.b);
    const d = kiln.utils.frechetDistance(a, b);
    expect(Math.abs(d - fx.distance) / fx.distance).toBeLessThan(1e-9);
    // symmetric, and 0 (to rounding) against itself
    expect(Math.abs(kiln.utils.frechetDistance(b, a) - fx.distance) / fx.distance).toBeLessThan(1e-9);
    expect(Math.abs(kiln.utils.frechetDistance(a, a))).toBeLessThan(1e-9);
    a.dispose();
    b.dispose();
  });

  it('gaussianStats gives the mean and the N - 1 covariance in float64', () => {
    const a = rows(fx.a);
    const s = kiln.utils.gaussianStats(a);
    expect(s.count).toBe(300);
    s.mean.forEach((m, j) => expect(m).toBeCloseTo(fx.meanA[j], 10));
    s.cov.forEach((c, j) => expect(c).toBeCloseTo(fx.covA[j], 9));
    // stats and tensors mix
    const b = rows(fx.b);
    expect(kiln.utils.frechetDistance(s, b)).toBeCloseTo(fx.distance, 8);
    a.dispose();
    b.dispose();
  });

  it('equals the closed form for independent features: sum (m1 - m2)^2 + (s1 - s2)^2', () => {
    // column 1: m +- a as + + - -, column 2: m +- b as + - + -: uncorrelated, sample variance
    // 4 a^2 / 3, so a = s sqrt(3 / 4) gives sample std s
    const k = Math.sqrt(3 / 4);
    const make = ([[m1, s1], [m2, s2]]: [number, number][]) => kiln.tensor(new Float32Array([
      m1 + s1 * k, m2 + s2 * k, m1 + s1 * k, m2 - s2 * k, m1 - s1 * k, m2 + s2 * k, m1 - s1 * k, m2 - s2 * k]), { shape: [4, 2] });
    const x = make([[1, 2], [0, 1]]);
    const y = make([[3, 0.5], [1, 3]]);
    const sx = kiln.utils.gaussianStats(x);
    expect(sx.cov[1]).toBeCloseTo(0, 6);
    const want = (1 - 3) ** 2 + (0 - 1) ** 2 + (2 - 0.5) ** 2 + (1 - 3) ** 2;
    expect(kiln.utils.frechetDistance(x, y)).toBeCloseTo(want, 4);
    x.dispose();
    y.dispose();
  });

  it('rejects bad input with errors that name the argument', () => {
    const one = kiln.zeros([1, 3]);
    expect(() => kiln.utils.gaussianStats(one)).toThrow(/features: expected at least 2 rows/);
    const vec = kiln.zeros([5]);
    expect(() => kiln.utils.gaussianStats(vec)).toThrow(/features: expected a float32 tensor \[N, D\]/);
    const bad = kiln.tensor(new Float32Array([0, 1, NaN, 2]), { shape: [2, 2] });
    expect(() => kiln.utils.gaussianStats(bad)).toThrow(/features: row 1 has a non-finite value/);
    const a = kiln.randn([5, 3]), b = kiln.randn([5, 4]);
    expect(() => kiln.utils.frechetDistance(a, b)).toThrow(/b: expected 3 features/);
    expect(() => kiln.utils.frechetDistance({} as never, b)).toThrow(kiln.KilnError);
    for (const t of [one, vec, bad, a, b]) t.dispose();
  });
});
