// F.scaledDotProductAttention: the fused kernel (and its composed fallback) against a float64
// reference, values and gradients, with causal, bool, float and padding masks, tiles crossed,
// strided inputs, fully masked rows, createGraph, and bad input.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectClose, expectMatches, gradcheck, gradgradcheck, toKiln } from '../helpers/gradcheck.js';
import { type R, arr, randArr, ravel, unravel } from '../helpers/reference.js';
import { trackedTensors } from '../helpers/memory.js';

const F = kiln.F;

/** softmax(q k^T * scale + mask) v over the last two dims; mask (additive, broadcast) or causal. */
function sdpaRef(q: R, k: R, v: R, opts: { mask?: R; causal?: boolean; scale?: number } = {}): R {
  const nd = q.shape.length;
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[nd - 2];
  const Ev = v.shape[nd - 1];
  const lead = q.shape.slice(0, -2);
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  const nb = lead.reduce((a, b) => a * b, 1);
  const out = arr([...lead, L, Ev], () => 0);
  for (let b = 0; b < nb; b++) {
    const bi = lead.length ? unravel(b, lead) : [];
    for (let i = 0; i < L; i++) {
      const s = new Array<number>(S);
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += q.data[(b * L + i) * E + e] * k.data[(b * S + j) * E + e];
        s[j] = dot * scale;
        if (opts.causal && j > i) s[j] = -Infinity;
        if (opts.mask) {
          const m = opts.mask;
          const full = [...bi, i, j];
          const idx = full.slice(full.length - m.shape.length).map((x, t) => (m.shape[t] === 1 ? 0 : x));
          s[j] += m.data[ravel(idx, m.shape)];
        }
      }
      const mx = Math.max(...s);
      const p = s.map((x) => Math.exp(x - mx));
      const z = p.reduce((a, c) => a + c, 0);
      for (let e = 0; e < Ev; e++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += (p[j] / z) * v.data[(b * S + j) * Ev + e];
        out.data[(b * L + i) * Ev + e] = acc;
      }
    }
  }
  return out;
}

const tol = { fwd: { rtol: 1e-5, atol: 2e-5 }, tol: { rtol: 1e-3 } };

/**
 * Gradients of sum(out * W) in float64 by the analytic formulas (for shapes too large for finite
 * differences): P = softmax(S), dV = P^T W, dP = W V^T, dS = P (dP - rowsum(dP P)), dQ = s dS K,
 * dK = s dS^T Q; rows are [B, T, D] with the leading dims flattened.
 */
function sdpaGradRef(q: R, k: R, v: R, w: R, causal: boolean): [R, R, R] {
  const nd = q.shape.length;
  const [L, E] = q.shape.slice(-2);
  const S = k.shape[nd - 2];
  const Ev = v.shape[nd - 1];
  const nb = q.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const scale = 1 / Math.sqrt(E);
  const dq = arr(q.shape, () => 0);
  const dk = arr(k.shape, () => 0);
  const dv = arr(v.shape, () => 0);
  for (let b = 0; b < nb; b++) {
    for (let i = 0; i < L; i++) {
      const s = new Array<number>(S);
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let e = 0; e < E; e++) dot += q.data[(b * L + i) * E + e] * k.data[(b * S + j) * E + e];
        s[j] = causal && j > i ? -Infinity : dot * scale;
      }
      const mx = Math.max(...s);
      const p = s.map((x) => Math.exp(x - mx));
      const z = p.reduce((a, c) => a + c, 0);
      for (let j = 0; j < S; j++) p[j] /= z;
      const dp = new Array<number>(S);
      for (let j = 0; j < S; j++) {
        let acc = 0;
        for (let e = 0; e < Ev; e++) {
          acc += w.data[(b * L + i) * Ev + e] * v.data[(b * S + j) * Ev + e];
          dv.data[(b * S + j) * Ev + e] += p[j] * w.data[(b * L + i) * Ev + e];
        }
        dp[j] = acc;
      }
      let rs = 0;
      for (let j = 0; j < S; j++) rs += dp[j] * p[j];
      for (let j = 0; j < S; j++) {
        const ds = p[j] * (dp[j] - rs) * scale;
        for (let e = 0; e < E; e++) {
          dq.data[(b * L + i) * E + e] += ds * k.data[(b * S + j) * E + e];
          dk.data[(b * S + j) * E + e] += ds * q.data[(b * L + i) * E + e];
        }
      }
    }
  }
  return [dq, dk, dv];
}

/** Forward against sdpaRef and the gradients against sdpaGradRef, for inputs built by make from leaves q, k, v. */
function checkLarge(q: R, k: R, v: R, causal: boolean, make?: (t: kiln.Tensor) => kiln.Tensor) {
  kiln.scope(() => {
    const ts = [q, k, v].map((r) => toKiln(r, { requiresGrad: true }));
    const ins = make ? ts.map(make) : ts;
    const out = F.scaledDotProductAttention(ins[0], ins[1], ins[2], { isCausal: causal });
    const refOut = sdpaRef(q, k, v, { causal });
    expectMatches(out, refOut, { rtol: 1e-5, atol: 2e-5 }, 'forward');
    const w = randArr(refOut.shape, 99, -1, 1, [], 0);
    out.mul(toKiln(w)).sum().backward();
    const grads = sdpaGradRef(q, k, v, w, causal);
    ts.forEach((t, i) => expectClose(t.grad!.toTypedArray(), grads[i].data, { rtol: 1e-4, atol: 1e-5 }, `gradient ${'qkv'[i]}`));
  });
}

describe('scaledDotProductAttention (fused kernel) against float64', () => {
  it('no mask, one tile (finite differences) and across tiles (L, S not multiples of 64)', () => {
    gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c), (a, b, c) => sdpaRef(a, b, c),
      [randArr([1, 2, 5, 4], 1), randArr([1, 2, 7, 4], 2), randArr([1, 2, 7, 3], 3)], tol);
    checkLarge(randArr([1, 2, 70, 8], 1), randArr([1, 2, 130, 8], 2), randArr([1, 2, 130, 6], 3), false);
  });
  it('causal, square and with fewer queries than keys (top-left aligned), across tiles', () => {
    for (const [L, S] of [[6, 6], [4, 7]]) {
      gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c, { isCausal: true }),
        (a, b, c) => sdpaRef(a, b, c, { causal: true }), [randArr([2, 1, L, 3], 4), randArr([2, 1, S, 3], 5), randArr([2, 1, S, 3], 6)], tol);
    }
    checkLarge(randArr([2, 1, 150, 8], 4), randArr([2, 1, 150, 8], 5), randArr([2, 1, 150, 8], 6), true);
    checkLarge(randArr([1, 2, 70, 8], 7), randArr([1, 2, 140, 8], 8), randArr([1, 2, 140, 4], 9), true);
  });
  it('float mask, bool mask and key padding broadcast over heads and queries; custom scale', () => {
    const q = randArr([2, 2, 5, 4], 7);
    const k = randArr([2, 2, 6, 4], 8);
    const v = randArr([2, 2, 6, 3], 9);
    const fm = randArr([5, 6], 10);
    gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c, { attnMask: toKiln(fm), scale: 0.3 }),
      (a, b, c) => sdpaRef(a, b, c, { mask: fm, scale: 0.3 }), [q, k, v], tol);
    // key padding: batch 0 sees 4 keys, batch 1 all 6; bool true = takes part
    const keep = [[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]];
    const pm = arr([2, 1, 1, 6], keep.flat().map((t) => (t ? 0 : -Infinity)));
    const boolMask = () => kiln.tensor(keep, { dtype: 'bool' }).reshape([2, 1, 1, 6]);
    gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c, { attnMask: boolMask() }),
      (a, b, c) => sdpaRef(a, b, c, { mask: pm }), [q, k, v], tol);
  });
  it('3-d inputs [N, L, E] and 5-d inputs reshape into the kernel', () => {
    gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c, { isCausal: true }),
      (a, b, c) => sdpaRef(a, b, c, { causal: true }), [randArr([3, 6, 4], 11), randArr([3, 6, 4], 12), randArr([3, 6, 2], 13)], tol);
    gradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c),
      (a, b, c) => sdpaRef(a, b, c), [randArr([2, 1, 2, 3, 4], 14), randArr([2, 1, 2, 5, 4], 15), randArr([2, 1, 2, 5, 4], 16)], tol);
  });
  it('strided q, k, v (heads split from [B, T, H, D] by transpose) read in place', () => {
    const B = 2, T = 67, H = 3, D = 8;
    const toBTHD = (r: R) => arr([B, T, H, D], (i) => {
      const [b, t, h, d] = unravel(i, [B, T, H, D]);
      return r.data[ravel([b, h, t, d], [B, H, T, D])];
    });
    const [q, k, v] = [10, 11, 12].map((s) => randArr([B, H, T, D], s));
    // the leaves are [B, T, H, D]; the op sees their transposed (strided) views
    const leaves = [q, k, v].map(toBTHD);
    kiln.scope(() => {
      const ts = leaves.map((r) => toKiln(r, { requiresGrad: true }));
      const views = ts.map((t) => t.transpose(1, 2));
      expect(views[0].isContiguous()).toBe(false);
      const out = F.scaledDotProductAttention(views[0], views[1], views[2], { isCausal: true });
      expectMatches(out, sdpaRef(q, k, v, { causal: true }), { rtol: 1e-5, atol: 2e-5 }, 'forward');
      const w = randArr(out.shape, 98, -1, 1, [], 0);
      out.mul(toKiln(w)).sum().backward();
      const grads = sdpaGradRef(q, k, v, w, true).map(toBTHD);
      ts.forEach((t, i) => expectClose(t.grad!.toTypedArray(), grads[i].data, { rtol: 1e-4, atol: 1e-5 }, `gradient ${i}`));
    });
  });
  it('a row with every key masked is NaN (as softmax over -inf), other rows unaffected', () => {
    const q = toKiln(randArr([1, 1, 2, 4], 18));
    const k = toKiln(randArr([1, 1, 3, 4], 19));
    const v = toKiln(randArr([1, 1, 3, 4], 20));
    const mask = kiln.tensor([[true, true, false], [false, false, false]], { dtype: 'bool' });
    const out = F.scaledDotProductAttention(q, k, v, { attnMask: mask }).toTypedArray();
    expect(Array.from(out.slice(4)).every(Number.isNaN)).toBe(true);
    expect(Array.from(out.slice(0, 4)).every(Number.isFinite)).toBe(true);
  });
  it('fused and composed (dropout path with p -> 0, mask needing grad) agree on a larger case', () => {
    const q = toKiln(randArr([2, 4, 150, 16], 21));
    const k = toKiln(randArr([2, 4, 150, 16], 22));
    const v = toKiln(randArr([2, 4, 150, 16], 23));
    const fused = F.scaledDotProductAttention(q, k, v, { isCausal: true });
    const ref = sdpaRef({ shape: [2, 4, 150, 16], data: Float64Array.from(q.toTypedArray()) },
      { shape: [2, 4, 150, 16], data: Float64Array.from(k.toTypedArray()) },
      { shape: [2, 4, 150, 16], data: Float64Array.from(v.toTypedArray()) }, { causal: true });
    expectMatches(fused, ref, { rtol: 1e-5, atol: 2e-5 }, 'fused T=150');
    const m = kiln.zeros([150, 150], { requiresGrad: true });
    const composed = F.scaledDotProductAttention(q, k, v, { attnMask: kiln.triu(kiln.full([150, 150], -Infinity), 1).add(m) });
    expectClose(composed.toTypedArray(), fused.toTypedArray(), { rtol: 1e-5, atol: 2e-5 }, 'composed vs fused');
  });
  it('createGraph: second derivatives through the composed rule', () => {
    const q = randArr([1, 1, 3, 2], 24);
    const k = randArr([1, 1, 4, 2], 25);
    const v = randArr([1, 1, 4, 2], 26);
    gradgradcheck((a, b, c) => F.scaledDotProductAttention(a, b, c), (a, b, c) => sdpaRef(a, b, c), [q, k, v], { tol: { rtol: 2e-3 } });
  });
  it('training with dropout zeroes some probabilities and keeps memory flat', () => {
    kiln.manualSeed(3);
    const q = kiln.randn([1, 1, 8, 4]);
    const a = F.scaledDotProductAttention(q, q, q, { dropoutP: 0.5 });
    const b = F.scaledDotProductAttention(q, q, q);
    expect(a.shape).toEqual([1, 1, 8, 4]);
    expect(Array.from(a.toTypedArray())).not.toEqual(Array.from(b.toTypedArray()));
    const before = trackedTensors();
    for (let i = 0; i < 3; i++) {
      kiln.scope(() => {
        const x = kiln.randn([2, 2, 70, 8], { requiresGrad: true });
        F.scaledDotProductAttention(x, x, x, { isCausal: true }).sum().backward();
        x.grad!.dispose();
      });
    }
    expect(trackedTensors()).toBe(before);
  });
  it('bad input', () => {
    const q = kiln.zeros([1, 2, 3, 4]);
    expect(() => F.scaledDotProductAttention(q, kiln.zeros([1, 2, 3, 5]), q)).toThrow(/key: expected last dim 4/);
    expect(() => F.scaledDotProductAttention(q, q, kiln.zeros([1, 2, 2, 4]))).toThrow(/value: expected 3 rows/);
    expect(() => F.scaledDotProductAttention(q, q, q, { isCausal: true, attnMask: kiln.zeros([3, 3]) })).toThrow(/not both/);
    expect(() => F.scaledDotProductAttention(q, q, q, { attnMask: kiln.zeros([4, 3]) })).toThrow(/attnMask/);
    expect(() => F.scaledDotProductAttention(q, q, q, { causal: true } as any)).toThrow(/unknown option 'causal'/);
    expect(() => F.scaledDotProductAttention(q, q, q, { dropoutP: 1 })).toThrow(/dropoutP/);
  });
});
