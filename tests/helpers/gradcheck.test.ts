// The checker itself can fail: a wrong forward, a wrong gradient, and a gradient off by 1e-3 are caught.
import { expect, it } from 'vitest';
import { gradcheck } from './gradcheck.js';
import * as ref from './reference.js';
it('gradcheck fails on a wrong gradient', () => {
  expect(() => gradcheck((x) => x.mul(2).sub(x.detach()), (a) => a, [ref.randArr([3], 1)])).toThrow(/gradient of input 0/);
});
it('gradcheck fails on a wrong forward', () => {
  expect(() => gradcheck((x) => x.sin(), (a) => ref.map(a, Math.cos), [ref.randArr([3], 1)])).toThrow(/forward/);
});
it('gradcheck fails on a slightly wrong gradient (1e-3 relative)', () => {
  expect(() => gradcheck((x) => x.mul(1.001).sub(x.detach().mul(0.001)), (a) => a, [ref.randArr([3], 1)])).toThrow(/gradient/);
});
