// nn.utils.clipGradNorm / clipGradValue against hand-computed norms (torch.nn.utils semantics).
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn } = kiln;

/** Leaves whose gradient equals the given values. */
function withGrads(...values: number[][]): kiln.Tensor[] {
  const ps = values.map((v) => kiln.tensor(v, { requiresGrad: true }));
  ps.map((p) => p.square().mul(0.5).sum()).reduce((a, b) => a.add(b)).backward();
  return ps;
}

describe('nn.utils', () => {
  it('clipGradNorm returns the total 2-norm and scales by maxNorm / (norm + 1e-6)', () => {
    const [p, q] = withGrads([3, 4], [12]);
    expect(nn.utils.clipGradNorm([p, q], 6.5)).toBeCloseTo(13, 5);
    const c = 6.5 / (13 + 1e-6);
    (p.grad!.toArray() as number[]).forEach((g, i) => expect(g).toBeCloseTo([3, 4][i] * c, 5));
    expect((q.grad!.toArray() as number[])[0]).toBeCloseTo(12 * c, 5);
  });

  it('leaves gradients below maxNorm untouched and skips parameters without one', () => {
    const [p] = withGrads([0.3, -0.4]);
    const idle = kiln.zeros([2]).requiresGrad_();
    expect(nn.utils.clipGradNorm([p, idle], 1)).toBeCloseTo(0.5, 6);
    expect(p.grad!.toArray()).toEqual([expect.closeTo(0.3, 6), expect.closeTo(-0.4, 6)]);
    expect(idle.grad).toBeNull();
  });

  it('supports the infinity and 1-norms', () => {
    const [p, q] = withGrads([1, -5], [2]);
    expect(nn.utils.clipGradNorm([p, q], 1, Infinity)).toBeCloseTo(5, 6);
    expect((p.grad!.toArray() as number[])[1]).toBeCloseTo(-1, 5);
    const [r, s] = withGrads([1, -5], [2]);
    expect(nn.utils.clipGradNorm([r, s], 100, 1)).toBeCloseTo(8, 5);
  });

  it('clipGradValue clamps each element', () => {
    const [p] = withGrads([0.5, -3, 2]);
    nn.utils.clipGradValue([p], 1);
    expect(p.grad!.toArray()).toEqual([0.5, -1, 1]);
  });

  it('rejects a bad maxNorm or normType', () => {
    const [p] = withGrads([1]);
    expect(() => nn.utils.clipGradNorm([p], NaN)).toThrow(/maxNorm/);
    expect(() => nn.utils.clipGradNorm([p], 1, 0)).toThrow(/normType: expected a positive number/);
  });
});
