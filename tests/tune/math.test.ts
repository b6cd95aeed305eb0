// Float64 special functions and L-BFGS against tabulated values (scipy/mpmath at 50 digits) and
// problems with known solutions.
import { describe, expect, it } from 'vitest';
import { dLogH, erf, erfc, erfcx, logGaussMass, logH, logNormCdf, normCdf } from '../../src/tune/math/normal.js';
import { lbfgs } from '../../src/tune/math/lbfgs.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('normal distribution functions', () => {
  it('erfc and erfcx match tabulated values to 1e-13', () => {
    const erfcTable: [number, number][] = [[0.1, 0.8875370839817152], [0.7, 0.3221988061625817], [1.5, 0.03389485352468927],
      [2.5, 0.00040695201744495886], [4, 1.541725790028002e-08], [10, 2.0884875837625446e-45], [-0.5, 1.5204998778130465], [-1.5, 1.9661051464753108]];
    for (const [x, v] of erfcTable) expect(rel(erfc(x), v)).toBeLessThan(1e-13);
    const erfcxTable: [number, number][] = [[0.5, 0.6156903441929258], [1.99, 0.25646783671952994], [2.01, 0.25433187656081824],
      [3, 0.17900115118138998], [30, 0.018795888861416754], [-1, 5.008980080762283]];
    for (const [x, v] of erfcxTable) expect(rel(erfcx(x), v)).toBeLessThan(1e-13);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(-3)).toBeCloseTo(-0.9999779095030014, 15);
    expect(normCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
  });

  it('log Phi and the log normal mass stay accurate in the tails', () => {
    expect(rel(logNormCdf(-30), -454.32124395634327)).toBeLessThan(1e-13);
    expect(rel(logNormCdf(-5), -15.064998393988727)).toBeLessThan(1e-13);
    expect(logGaussMass(-1, 1)).toBeCloseTo(Math.log(0.6826894921370859), 14);
    // P(5 < Z < 6) = Q(5) - Q(6)
    expect(rel(logGaussMass(5, 6), Math.log(2.866515718791939e-07 - 9.865876450376946e-10))).toBeLessThan(1e-11);
    expect(rel(logGaussMass(-6, -5), logGaussMass(5, 6))).toBeLessThan(1e-14);
    expect(logGaussMass(1, 1)).toBe(-Infinity);
  });

  it('log h(z) of expected improvement matches 50-digit values from z = -1 to -1e4', () => {
    const table: [number, number][] = [[-1, -2.4851210257126413368], [-5, -16.744301162660990143], [-30, -457.72465376059800405],
      [-250, -31261.961908366241448], [-1e4, -50000019.339619307157]];
    for (const [z, v] of table) expect(rel(logH(z), v)).toBeLessThan(1e-12);
    expect(logH(2)).toBeCloseTo(Math.log(Math.exp(-2) / Math.sqrt(2 * Math.PI) + 2 * normCdf(2)), 14);
  });

  it('d log h / dz agrees with central differences across the branches', () => {
    for (const z of [1.5, 0, -0.999, -1.001, -7, -199.9, -200.1, -3000]) {
      const e = 1e-5 * Math.max(1, Math.abs(z));
      const fd = (logH(z + e) - logH(z - e)) / (2 * e);
      expect(rel(dLogH(z), fd)).toBeLessThan(1e-6);
    }
  });
});

describe('L-BFGS', () => {
  const rosen = (x: Float64Array, g: Float64Array) => {
    let f = 0;
    g.fill(0);
    for (let i = 0; i < x.length - 1; i++) {
      const a = x[i + 1] - x[i] * x[i], b = 1 - x[i];
      f += 100 * a * a + b * b;
      g[i] += -400 * x[i] * a - 2 * b;
      g[i + 1] += 200 * a;
    }
    return f;
  };

  it('finds the minimum of Rosenbrock-4', () => {
    const r = lbfgs(rosen, [-1.2, 1, -1.2, 1], { maxIter: 500, gtol: 1e-8 });
    expect(r.converged).toBe(true);
    for (const v of r.x) expect(v).toBeCloseTo(1, 5);
    expect(r.f).toBeLessThan(1e-10);
  });

  it('stops on the box: min (x-3)^2 + (y+1)^2 over [0,2] x [0,2] is at (2, 0)', () => {
    const r = lbfgs((x, g) => { g[0] = 2 * (x[0] - 3); g[1] = 2 * (x[1] + 1); return (x[0] - 3) ** 2 + (x[1] + 1) ** 2; },
      [0.5, 1.5], { lower: [0, 0], upper: [2, 2] });
    expect(r.x[0]).toBe(2);
    expect(r.x[1]).toBe(0);
    expect(r.f).toBeCloseTo(2, 12);
  });

  it('keeps an interior optimum exact inside bounds', () => {
    const r = lbfgs(rosen, [0.2, 0.2], { lower: [-2, -2], upper: [2, 2], gtol: 1e-9, maxIter: 500 });
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
  });
});
