// The native outerTriangle op (the full-covariance EM steps' products) against float64 products
// computed on the host, in triangle order (i <= j, row by row), for both float dtypes.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { outerRows } from '../../src/mixture/em.js';

describe('outerTriangle', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [n, d] of [[7, 5], [1, 1], [300, 32], [0, 4], [3, 0]]) {
      it(`${dtype}: [${n}, ${d}]`, () => {
        const X = kiln.randn([n, d], { dtype });
        const x = X.toTypedArray();
        const got = outerRows(X);
        expect(got.shape).toEqual([n, (d * (d + 1)) / 2]);
        expect(got.dtype).toBe(dtype);
        const g = got.toTypedArray();
        let p = 0;
        for (let r = 0; r < n; r++) {
          for (let i = 0; i < d; i++) {
            for (let j = i; j < d; j++, p++) {
              const want = dtype === 'float64' ? x[r * d + i] * x[r * d + j] : Math.fround(x[r * d + i] * x[r * d + j]);
              expect(g[p]).toBe(want);
            }
          }
        }
        expect(p).toBe(g.length);
        X.dispose();
        got.dispose();
      });
    }
  }

  it('reads a strided view as its values; refuses int32', () => {
    const X = kiln.randn([6, 4], { dtype: 'float64' });
    const a = outerRows(X.t()).toTypedArray();
    const b = outerRows(X.t().contiguous()).toTypedArray();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(() => outerRows(kiln.randint(0, 3, [2, 2]))).toThrow(/outerRows: X: expected a 2-D float32 or float64 tensor, got int32/);
    expect(() => outerRows(kiln.randn([2, 2]).to('bfloat16'))).toThrow(/got bfloat16/);
  });
});
