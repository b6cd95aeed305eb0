// nn.init and the layers' default initialisation, checked statistically: with 10^4-10^5 draws the
// sample std of U(-b, b) (b / sqrt(3)) and N(0, s) is within ~1-2% of the exact value.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn } = kiln;
const { init } = nn;

function stats(t: kiln.Tensor): { min: number; max: number; mean: number; std: number } {
  const a = Array.from(t.toTypedArray());
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  return { min: Math.min(...a), max: Math.max(...a), mean, std };
}

/** Within U(-b, b), reaching close to both ends, with U's std. */
function expectUniform(t: kiln.Tensor, b: number, what: string) {
  const s = stats(t);
  expect(s.max, what).toBeLessThanOrEqual(b);
  expect(s.min, what).toBeGreaterThanOrEqual(-b);
  expect(s.max, what).toBeGreaterThan(0.95 * b);
  expect(s.min, what).toBeLessThan(-0.95 * b);
  expect(Math.abs(s.std / (b / Math.sqrt(3)) - 1), what).toBeLessThan(0.03);
}

describe('nn.init', () => {
  it('computes fans and gains as PyTorch', () => {
    expect(init.calculateFans(kiln.zeros([16, 8, 3, 3]))).toEqual([72, 144]);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 12);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(2 / 6), 12);
    expect(() => init.calculateFans(kiln.zeros([5]))).toThrow(/tensor: fan in and fan out need at least 2 dims/);
  });

  it('draws with the bounds and deviations of PyTorch', () => {
    kiln.manualSeed(0);
    const w = kiln.zeros([200, 100]);
    init.xavierUniform_(w, 2);
    expectUniform(w, 2 * Math.sqrt(6 / 300), 'xavierUniform_');
    init.xavierNormal_(w);
    expect(stats(w).std / Math.sqrt(2 / 300)).toBeCloseTo(1, 1);
    init.kaimingUniform_(w, { nonlinearity: 'relu' });
    expectUniform(w, Math.SQRT2 * Math.sqrt(3 / 100), 'kaimingUniform_');
    init.kaimingNormal_(w, { mode: 'fanOut', nonlinearity: 'relu' });
    expect(stats(w).std / (Math.SQRT2 / Math.sqrt(200))).toBeCloseTo(1, 1);
    init.uniform_(w, 2, 3);
    expect(stats(w).mean).toBeCloseTo(2.5, 2);
    init.normal_(w, -1, 0.5);
    expect(stats(w).mean).toBeCloseTo(-1, 1);
    expect(stats(w).std).toBeCloseTo(0.5, 1);
    init.constant_(w, 0.25);
    expect(stats(w)).toMatchObject({ min: 0.25, max: 0.25 });
    init.ones_(w);
    expect(stats(w).min).toBe(1);
    init.zeros_(w);
    expect(stats(w).max).toBe(0);
  });

  it("gives each layer PyTorch's default initialisation", () => {
    kiln.manualSeed(1);
    const lin = new nn.Linear(300, 200);
    expectUniform(lin.weight, 1 / Math.sqrt(300), 'Linear.weight');
    expect(stats(lin.bias!).max).toBeLessThanOrEqual(1 / Math.sqrt(300));
    expect(stats(lin.bias!).min).toBeGreaterThanOrEqual(-1 / Math.sqrt(300));
    const conv = new nn.Conv2d(8, 64, 5);
    expectUniform(conv.weight, 1 / Math.sqrt(8 * 25), 'Conv2d.weight');
    // ConvTranspose2d's weight is [in, out, kH, kW]: the fan-in PyTorch uses is out * kH * kW
    const convT = new nn.ConvTranspose2d(64, 8, 5);
    expectUniform(convT.weight, 1 / Math.sqrt(8 * 25), 'ConvTranspose2d.weight');
    const lstm = new nn.LSTM(10, 50, { numLayers: 2 });
    for (const [k, p] of lstm.namedParameters()) {
      expect(stats(p).max, k).toBeLessThanOrEqual(1 / Math.sqrt(50));
      expect(stats(p).min, k).toBeGreaterThanOrEqual(-1 / Math.sqrt(50));
    }
    expectUniform(Object.fromEntries(lstm.namedParameters()).weight_hh_l1, 1 / Math.sqrt(50), 'LSTM.weight_hh_l1');
    const emb = new nn.Embedding(1000, 64);
    const es = stats(emb.weight);
    expect(Math.abs(es.mean)).toBeLessThan(0.02);
    expect(Math.abs(es.std - 1)).toBeLessThan(0.02);
    const bn = new nn.BatchNorm2d(4);
    expect(bn.weight!.toArray()).toEqual([1, 1, 1, 1]);
    expect(bn.bias!.toArray()).toEqual([0, 0, 0, 0]);
    expect(bn.running_var!.toArray()).toEqual([1, 1, 1, 1]);
    const ln = new nn.LayerNorm(3);
    expect([ln.weight!.toArray(), ln.bias!.toArray()]).toEqual([[1, 1, 1], [0, 0, 0]]);
  });
});
