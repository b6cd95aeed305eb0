// F.linear's fused path (one GEMM with a bias epilogue; backward as two GEMMs and a column sum)
// against the float64 reference, including the cases the unfused path handled implicitly.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { gradcheck } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { randArr } from '../helpers/reference.js';

const lin = (p: ref.R, q: ref.R, r?: ref.R) => {
  const y = ref.matmul(p, ref.transpose(q, 0, 1));
  return r ? ref.add(y, r) : y;
};

describe('F.linear (fused)', () => {
  it('without bias', () => {
    gradcheck((p, q) => kiln.F.linear(p, q), (p, q) => lin(p, q), [randArr([6, 5], 50), randArr([4, 5], 51)]);
  });
  it('only some inputs require grad (bias frozen, then input frozen)', () => {
    const x = randArr([7, 3], 52), w = randArr([2, 3], 53), b = randArr([2], 54);
    gradcheck((p, q, r) => kiln.F.linear(p, q, r), lin, [x, w, b], { grad: [true, true, false] });
    gradcheck((p, q, r) => kiln.F.linear(p, q, r), lin, [x, w, b], { grad: [false, true, true] });
  });
  it('a non-contiguous input takes the unfused path', () => {
    const x = randArr([9, 12], 55), w = randArr([10, 12], 56), b = randArr([10], 57);
    gradcheck((p, q, r) => kiln.F.linear(p, q, r), lin, [x, w, b], { fwd: { rtol: 1e-5, atol: 1e-4 }, tol: { rtol: 1e-3, atol: 1e-3 } });
    const xt = randArr([12, 9], 58);
    gradcheck((p, q, r) => kiln.F.linear(p.t(), q, r), (p, q, r) => lin(ref.transpose(p, 0, 1), q, r), [xt, w, b],
      { fwd: { rtol: 1e-5, atol: 1e-4 }, tol: { rtol: 1e-3, atol: 1e-3 } });
  });
});

describe('CPU buffer cache', () => {
  it('released buffers are cached apart from live bytes; emptyCache() frees them', () => {
    kiln.emptyCache();
    const before = kiln.memory();
    expect(before.cachedBytes).toBe(0);
    const t = kiln.zeros([1000]);
    expect(kiln.memory().bytes).toBe(before.bytes + 4000);
    t.dispose();
    const after = kiln.memory();
    expect(after.bytes).toBe(before.bytes);
    expect(after.cachedBytes).toBeGreaterThanOrEqual(4000);
    // a same-sized tensor reuses the buffer: cache shrinks, live bytes grow, values are fresh
    const u = kiln.ones([1000]);
    expect(kiln.memory().cachedBytes).toBe(after.cachedBytes - 4032);
    const s = u.sum();
    expect(s.item()).toBe(1000);
    s.dispose();
    u.dispose();
    kiln.emptyCache();
    expect(kiln.memory().cachedBytes).toBe(0);
    expect(kiln.memory().bytes).toBe(before.bytes);
  });
  it('a disposed tensor still reports a KilnError after its buffer is reused', () => {
    const t = kiln.ones([4]);
    t.dispose();
    const u = kiln.zeros([4]);
    expect(() => t.toArray()).toThrow(kiln.KilnError);
    expect(() => t.toArray()).toThrow(/disposed/);
    u.dispose();
  });
});
