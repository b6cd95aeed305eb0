// Hessian-vector products of small models, and a WGAN-GP gradient penalty, against float64
// finite differences of the same models written with the reference ops.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { type R, randArr } from '../helpers/reference.js';

const { F } = kiln;

/** ||a - b|| / ||b||. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

const flat = (rs: R[]) => Float64Array.from(rs.flatMap((r) => Array.from(r.data)));
const unflat = (like: R[], v: Float64Array): R[] => {
  let o = 0;
  return like.map((r) => {
    const out = ref.arr(r.shape, v.subarray(o, o + r.data.length));
    o += r.data.length;
    return out;
  });
};

/**
 * H v of the loss at params, by Kiln (grad with createGraph, then the gradient of g . v) and by
 * mixed central differences of the float64 loss; checks ||Kiln - ref|| / ||ref|| <= 1e-3.
 */
function checkHvp(params: R[], kilnLoss: (ps: Tensor[]) => Tensor, refLoss: (ps: R[]) => number, seed: number): number {
  const v = params.map((p, i) => randArr(p.shape, seed + i, -1, 1, [], 0));
  const got = kiln.scope(() => {
    const ps = params.map((p) => toKiln(p, { requiresGrad: true }));
    const gs = kiln.autograd.grad(kilnLoss(ps), ps, { createGraph: true }) as Tensor[];
    let gv = gs[0].mul(toKiln(v[0])).sum();
    for (let i = 1; i < gs.length; i++) gv = gv.add(gs[i].mul(toKiln(v[i])).sum());
    const hv = kiln.autograd.grad(gv, ps) as Tensor[];
    return Float64Array.from(hv.flatMap((t) => Array.from(t.toTypedArray())));
  });
  const theta = flat(params);
  const dir = flat(v);
  const a = 1e-4;
  const L = (da: number, j: number, db: number) => {
    const t = theta.map((x, i) => x + da * dir[i] + (i === j ? db : 0));
    return refLoss(unflat(params, t));
  };
  const expected = theta.map((x, j) => {
    const b = 1e-4 * Math.max(1, Math.abs(x));
    return (L(a, j, b) - L(a, j, -b) - L(-a, j, b) + L(-a, j, -b)) / (4 * a * b);
  });
  const err = relError(got, expected);
  expect(err, `relative error of H v: ${err}`).toBeLessThanOrEqual(1e-3);
  // the check is not vacuous: H v is far from zero
  expect(Math.hypot(...expected)).toBeGreaterThan(1e-2);
  return err;
}

const linRef = (x: R, w: R, b: R) => ref.add(ref.matmul(x, ref.transpose(w, 0, 1)), b);

describe('Hessian-vector products', () => {
  it('MLP with tanh, gelu and softplus (log(1 + exp)), MSE loss', () => {
    const x = randArr([4, 3], 1, -1, 1);
    const y = randArr([4, 3], 2, -1, 1);
    const params = [randArr([5, 3], 3, -0.8, 0.8), randArr([5], 4, -0.3, 0.3), randArr([4, 5], 5, -0.8, 0.8),
      randArr([4], 6, -0.3, 0.3), randArr([3, 4], 7, -0.8, 0.8), randArr([3], 8, -0.3, 0.3)];
    checkHvp(params, ([w1, b1, w2, b2, w3, b3]) => {
      const h = F.gelu(F.linear(F.tanh(F.linear(toKiln(x), w1, b1)), w2, b2));
      const out = F.linear(h, w3, b3).exp().add(1).log();
      return F.mseLoss(out, toKiln(y));
    }, ([w1, b1, w2, b2, w3, b3]) => {
      const h = ref.map(linRef(ref.map(linRef(x, w1, b1), Math.tanh), w2, b2), ref.fn.gelu);
      const out = ref.map(linRef(h, w3, b3), ref.softplus);
      return ref.mean(ref.map(ref.sub(out, y), (d) => d * d)).data[0];
    }, 10);
  });

  it('a conv net: conv (padding 1), tanh, avg pool, max pool, linear, cross-entropy', () => {
    const x = randArr([2, 1, 6, 6], 11, -1, 1);
    const target = [2, 0];
    const params = [randArr([3, 1, 3, 3], 12, -0.6, 0.6), randArr([3], 13, -0.2, 0.2), randArr([3, 12], 14, -0.6, 0.6), randArr([3], 15, -0.2, 0.2)];
    checkHvp(params, ([w, b, lw, lb]) => {
      const c = F.conv2d(toKiln(x), w, b, { padding: 1 }).tanh();
      const p = F.maxPool2d(F.avgPool2d(c, 2), 2, { stride: 1 });
      return F.crossEntropy(F.linear(p.flatten(1), lw, lb), kiln.tensor(Int32Array.from(target), { shape: [2] }));
    }, ([w, b, lw, lb]) => {
      const c = ref.map(ref.conv2d(x, w, b, { padding: [1, 1] }), Math.tanh);
      const p = ref.maxPool2d(ref.avgPool2d(c, { kernel: [2, 2] }), { kernel: [2, 2], stride: [1, 1] });
      return ref.mean(ref.crossEntropyRows(linRef(ref.reshape(p, [2, 12]), lw, lb), target)).data[0];
    }, 20);
  });

  it('LayerNorm between linear layers', () => {
    const x = randArr([3, 6], 21, -1, 1);
    const params = [randArr([6, 6], 22, -0.6, 0.6), randArr([6], 23, -0.2, 0.2), randArr([6], 24, 0.5, 1.5), randArr([6], 25, -0.3, 0.3)];
    const t = randArr([3, 6], 26, -1, 1);
    checkHvp(params, ([w, b, g, beta]) => {
      const h = F.layerNorm(F.linear(toKiln(x), w, b), [6], g, beta).tanh();
      return h.mul(toKiln(t)).sum().add(h.square().mean());
    }, ([w, b, g, beta]) => {
      const h = ref.map(ref.layerNorm(linRef(x, w, b), 1, g, beta), Math.tanh);
      return ref.sum(ref.mul(h, t)).data[0] + ref.mean(ref.map(h, (v) => v * v)).data[0];
    }, 30);
  });

  it('an LSTM cell composed of linear, sigmoid and tanh ops, two steps', () => {
    const H = 3;
    const x = [randArr([2, 2], 31, -1, 1), randArr([2, 2], 32, -1, 1)];
    const h0 = randArr([2, H], 33, -0.5, 0.5);
    const c0 = randArr([2, H], 34, -0.5, 0.5);
    const target = randArr([2, H], 35, -1, 1);
    const params = [randArr([4 * H, 2], 36, -0.6, 0.6), randArr([4 * H], 37, -0.3, 0.3), randArr([4 * H, H], 38, -0.6, 0.6), randArr([4 * H], 39, -0.3, 0.3)];
    const kilnCell = (xt: Tensor, h: Tensor, c: Tensor, [wi, bi, wh, bh]: Tensor[]): [Tensor, Tensor] => {
      const gates = F.linear(xt, wi, bi).add(F.linear(h, wh, bh));
      const i = gates.narrow(1, 0, H).sigmoid();
      const f = gates.narrow(1, H, H).sigmoid();
      const g = gates.narrow(1, 2 * H, H).tanh();
      const o = gates.narrow(1, 3 * H, H).sigmoid();
      const c1 = f.mul(c).add(i.mul(g));
      return [o.mul(c1.tanh()), c1];
    };
    const refCell = (xt: R, h: R, c: R, [wi, bi, wh, bh]: R[]): [R, R] => {
      const gates = ref.add(linRef(xt, wi, bi), linRef(h, wh, bh));
      const part = (k: number, f: (v: number) => number) => ref.map(ref.slice(gates, 1, k * H, (k + 1) * H), f);
      const [i, f, g, o] = [part(0, ref.fn.sigmoid), part(1, ref.fn.sigmoid), part(2, Math.tanh), part(3, ref.fn.sigmoid)];
      const c1 = ref.add(ref.mul(f, c), ref.mul(i, g));
      return [ref.mul(o, ref.map(c1, Math.tanh)), c1];
    };
    checkHvp(params, (ps) => {
      let h = toKiln(h0);
      let c = toKiln(c0);
      for (const xt of x) [h, c] = kilnCell(toKiln(xt), h, c, ps);
      return h.mul(toKiln(target)).sum().add(c.square().sum());
    }, (ps) => {
      let h = h0;
      let c = c0;
      for (const xt of x) [h, c] = refCell(xt, h, c, ps);
      return ref.sum(ref.mul(h, target)).data[0] + ref.sum(ref.map(c, (v) => v * v)).data[0];
    }, 40);
  });
});

describe('WGAN-GP gradient penalty', () => {
  it('((||dD(x)/dx|| - 1)^2).mean() on a small conv critic: parameter gradients against finite differences', () => {
    const N = 2;
    const xhat = randArr([N, 1, 5, 5], 50, -1, 1);
    const params = [randArr([2, 1, 3, 3], 51, -0.7, 0.7), randArr([2], 52, -0.2, 0.2), randArr([1, 18], 53, -0.7, 0.7), randArr([1], 54, -0.2, 0.2)];
    const critic = (x: Tensor, [w, b, lw, lb]: Tensor[]) =>
      F.linear(F.conv2d(x, w, b, { stride: 2, padding: 1 }).tanh().flatten(1), lw, lb);
    const criticRef = (x: R, [w, b, lw, lb]: R[]) =>
      linRef(ref.reshape(ref.map(ref.conv2d(x, w, b, { stride: [2, 2], padding: [1, 1] }), Math.tanh), [N, 18]), lw, lb);

    // Kiln: the penalty's gradient with respect to the critic's parameters (backward of a createGraph gradient)
    const got = kiln.scope(() => {
      const ps = params.map((p) => toKiln(p, { requiresGrad: true }));
      const x = toKiln(xhat, { requiresGrad: true });
      const [dx] = kiln.autograd.grad(critic(x, ps).sum(), x, { createGraph: true }) as Tensor[];
      const penalty = dx.reshape([N, -1]).square().sum(1).sqrt().sub(1).square().mean();
      penalty.backward();
      expect(x.grad).not.toBeNull(); // backward also reaches x through the penalty
      // the output bias does not change dD/dx: it gets no gradient, as in PyTorch
      expect(ps[3].grad).toBeNull();
      return Float64Array.from(ps.flatMap((p) => (p.grad ? Array.from(p.grad.toTypedArray()) : new Array(p.numel).fill(0))));
    });

    // float64: dD/dx by central differences (h = 1e-6), the penalty, then its parameter gradient by central differences
    const penaltyRef = (ps: R[]) => {
      const hIn = 1e-6;
      const grads = new Float64Array(xhat.data.length);
      for (let j = 0; j < xhat.data.length; j++) {
        const up = ref.arr(xhat.shape, xhat.data);
        const down = ref.arr(xhat.shape, xhat.data);
        up.data[j] += hIn;
        down.data[j] -= hIn;
        grads[j] = (ref.sum(criticRef(up, ps)).data[0] - ref.sum(criticRef(down, ps)).data[0]) / (2 * hIn);
      }
      const per = xhat.data.length / N;
      let acc = 0;
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < per; k++) s += grads[n * per + k] ** 2;
        acc += (Math.sqrt(s) - 1) ** 2;
      }
      return acc / N;
    };
    const theta = flat(params);
    const expected = theta.map((t, j) => {
      const h = 1e-4 * Math.max(1, Math.abs(t));
      const at = (d: number) => penaltyRef(unflat(params, theta.map((v, i) => (i === j ? v + d : v))));
      return (at(h) - at(-h)) / (2 * h);
    });
    const err = relError(got, expected);
    expect(err, `relative error ${err}`).toBeLessThanOrEqual(1e-3);
    expect(Math.hypot(...expected)).toBeGreaterThan(1e-2);
  });
});
