// nn.Unflatten (torch.nn.Unflatten): the inverse of Flatten, and its argument checks.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn } = kiln;

describe('nn.Unflatten', () => {
  it('splits one dim into sizes, keeping element order, and passes gradients through', () => {
    const x = kiln.arange(0, 24, 1, { dtype: 'float32' }).reshape([2, 12]).requiresGrad_();
    const y = new nn.Unflatten(1, [3, 2, 2]).forward(x);
    expect(y.shape).toEqual([2, 3, 2, 2]);
    expect(Array.from(y.toTypedArray())).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(new nn.Flatten().forward(y).shape).toEqual([2, 12]);
    y.mul(kiln.arange(0, 24, 1, { dtype: 'float32' }).reshape([2, 3, 2, 2])).sum().backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual(Array.from({ length: 24 }, (_, i) => i));
    const z = new nn.Unflatten(-1, [4, 3]).forward(kiln.zeros([5, 12]));
    expect(z.shape).toEqual([5, 4, 3]);
  });

  it('rejects sizes that do not match, and bad arguments', () => {
    expect(() => new nn.Unflatten(1, [3, 3]).forward(kiln.zeros([2, 12]))).toThrow(/input: dim 1 has size 12, expected 9/);
    expect(() => new nn.Unflatten(3, [2]).forward(kiln.zeros([2, 12]))).toThrow(/dim: 3 is out of range/);
    expect(() => new nn.Unflatten(1, [])).toThrow(/sizes: expected a non-empty array of positive integers/);
    expect(() => new nn.Unflatten(1.5, [2])).toThrow(kiln.KilnError);
  });
});
