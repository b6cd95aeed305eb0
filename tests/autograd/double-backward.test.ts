// Second derivatives of every op in the rule table that has them, against float64 central
// differences of the reference (tests/helpers/gradcheck.ts gradgradcheck): the gradient of
// sum(grad(sum(out * W), x) . V) with respect to x and to W.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { crossEntropyRows } from '../../src/ops/nn.js';
import { gradgradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { type R, distinctArr, randArr } from '../helpers/reference.js';

const ints = (values: number[]) => kiln.tensor(Int32Array.from(values), { shape: [values.length] });
const scalar = (f: (v: number) => number) => (r: R) => ref.map(r, f);

describe('unary ops', () => {
  const x = randArr([2, 3], 1, -1.5, 1.5);
  const pos = randArr([2, 3], 2, 0.3, 2);
  const cases: [string, (t: Tensor) => Tensor, (r: R) => R, R][] = [
    ['neg', (t) => t.neg(), scalar((v) => -v), x],
    ['exp', (t) => t.exp(), scalar(Math.exp), x],
    ['log', (t) => t.log(), scalar(Math.log), pos],
    ['sqrt', (t) => t.sqrt(), scalar(Math.sqrt), pos],
    ['rsqrt', (t) => t.rsqrt(), scalar((v) => 1 / Math.sqrt(v)), pos],
    ['abs', (t) => t.abs(), scalar(Math.abs), x],
    ['sign', (t) => t.sign().add(t), scalar((v) => Math.sign(v) + v), x],
    ['relu', (t) => t.relu(), scalar(ref.fn.relu), x],
    ['sigmoid', (t) => t.sigmoid(), scalar(ref.fn.sigmoid), x],
    ['tanh', (t) => t.tanh(), scalar(Math.tanh), x],
    ['gelu', (t) => t.gelu(), scalar(ref.fn.gelu), x],
    ['leakyRelu', (t) => t.leakyRelu(0.1), scalar(ref.fn.leakyRelu(0.1)), x],
    ['clamp', (t) => t.clamp(-0.5, 0.7), scalar(ref.fn.clamp(-0.5, 0.7)), randArr([2, 3], 3, -1.5, 1.5, [-0.5, 0.7])],
    ['pow 3', (t) => t.pow(3), scalar((v) => v ** 3), x],
    ['pow 0.5', (t) => t.pow(0.5), scalar(Math.sqrt), pos],
    ['pow -1.5', (t) => t.pow(-1.5), scalar((v) => v ** -1.5), pos],
    ['add scalar', (t) => t.add(2.5), scalar((v) => v + 2.5), x],
    ['mul scalar', (t) => t.mul(-1.5), scalar((v) => -1.5 * v), x],
    ['rsub', (t) => t.rsub(2), scalar((v) => 2 - v), x],
    ['square', (t) => t.square(), scalar((v) => v * v), x],
    ['reciprocal', (t) => t.reciprocal(), scalar((v) => 1 / v), pos],
    ['sin', (t) => t.sin(), scalar(Math.sin), x],
    ['cos', (t) => t.cos(), scalar(Math.cos), x],
  ];
  for (const [name, k, r, input] of cases) it(name, () => gradgradcheck(k, r, [input]));
});

describe('binary ops (with broadcasting)', () => {
  const a = randArr([2, 3], 10, -1.5, 1.5);
  const b = randArr([3], 11, -1.5, 1.5);
  const bPos = randArr([3], 12, 0.5, 2);
  const aPos = randArr([2, 3], 13, 0.5, 2);
  it('add', () => gradgradcheck((x, y) => x.add(y), ref.add, [a, b]));
  it('sub', () => gradgradcheck((x, y) => x.sub(y), ref.sub, [a, b]));
  it('mul', () => gradgradcheck((x, y) => x.mul(y), ref.mul, [a, b]));
  it('div', () => gradgradcheck((x, y) => x.div(y), ref.div, [a, bPos]));
  it('pow', () => gradgradcheck((x, y) => x.pow(y), ref.pow, [aPos, b]));
  it('maximum, minimum', () => {
    const c = distinctArr([2, 3], 14);
    const d = distinctArr([2, 3], 15, 0.11);
    gradgradcheck((x, y) => x.maximum(y).mul(x), (x, y) => ref.mul(ref.zip(x, y, Math.max), x), [c, d]);
    gradgradcheck((x, y) => x.minimum(y).square(), (x, y) => ref.map(ref.zip(x, y, Math.min), (v) => v * v), [c, d]);
  });
  it('where', () => {
    const cond = ref.arr([2, 3], [1, 0, 1, 0, 0, 1]);
    gradgradcheck((x, y) => kiln.where(toKiln(cond), x.square(), y.mul(x)),
      (x, y) => ref.where(cond, ref.mul(x, x), ref.mul(y, x)), [a, randArr([2, 3], 16)]);
  });
  it('a product of three (x y z): cross terms of the Hessian', () => {
    gradgradcheck((x, y, z) => x.mul(y).mul(z), (x, y, z) => ref.mul(ref.mul(x, y), z), [a, randArr([2, 3], 17), b]);
  });
});

describe('reductions', () => {
  const x = randArr([2, 3, 4], 20, -1, 1);
  it('sum over dims, keepdim', () => gradgradcheck((t) => t.square().sum([0, 2], true), (r) => ref.sum(ref.map(r, (v) => v * v), [0, 2], true), [x]));
  it('mean', () => gradgradcheck((t) => t.mean(1).exp(), (r) => ref.map(ref.mean(r, [1]), Math.exp), [x]));
  it('max and min over a dim', () => {
    const d = distinctArr([3, 4], 21);
    gradgradcheck((t) => t.square().max(1), (r) => ref.reduce(ref.map(r, (v) => v * v), [1], false, ref.maxOf), [d]);
    gradgradcheck((t) => t.mul(t).min(0, true), (r) => ref.reduce(ref.map(r, (v) => v * v), [0], true, ref.minOf), [d]);
  });
  it('var and std', () => {
    gradgradcheck((t) => t.var(1), (r) => ref.reduce(r, [1], false, ref.varOf(true)), [x]);
    gradgradcheck((t) => t.std(2, { unbiased: false }), (r) => ref.map(ref.reduce(r, [2], false, ref.varOf(false)), Math.sqrt), [x]);
  });
  it('logsumexp', () => gradgradcheck((t) => t.logsumexp(1), (r) => ref.reduce(r, [1], false, ref.logsumexpOf), [x]));
});

describe('shape ops', () => {
  const x = randArr([2, 3, 4], 30, -1, 1);
  const sq = (r: R) => ref.map(r, (v) => v * v);
  it('reshape, permute, transpose', () => {
    gradgradcheck((t) => t.square().reshape([4, 6]), (r) => ref.reshape(sq(r), [4, 6]), [x]);
    gradgradcheck((t) => t.square().permute([2, 0, 1]), (r) => ref.permute(sq(r), [2, 0, 1]), [x]);
  });
  it('expand', () => {
    const b = randArr([3, 1], 31);
    gradgradcheck((t) => t.square().expand([2, 3, 4]), (r) => ref.expand(sq(r), [2, 3, 4]), [b]);
  });
  it('slice with a step, narrow, select', () => {
    gradgradcheck((t) => t.square().slice(2, 1, 4, 2), (r) => ref.slice(sq(r), 2, 1, 4, 2), [x]);
    gradgradcheck((t) => t.narrow(1, 1, 2).square(), (r) => sq(ref.slice(r, 1, 1, 3)), [x]);
    gradgradcheck((t) => t.select(0, 1).exp(), (r) => ref.map(ref.reshape(ref.slice(r, 0, 1, 2), [3, 4]), Math.exp), [x]);
  });
  it('clone, cat, stack', () => {
    const y = randArr([2, 2, 4], 32);
    gradgradcheck((t) => t.clone().square(), sq, [x]);
    gradgradcheck((t, u) => kiln.cat([t.square(), u.mul(t.narrow(1, 0, 2))], 1),
      (r, u) => ref.cat([sq(r), ref.mul(u, ref.slice(r, 1, 0, 2))], 1), [x, y]);
    gradgradcheck((t, u) => kiln.stack([t.square(), u.exp()], 0), (r, u) => ref.stack([sq(r), ref.map(u, Math.exp)], 0),
      [randArr([3, 2], 33), randArr([3, 2], 34)]);
  });
});

describe('linear algebra', () => {
  it('matmul: 2-D, batched with broadcasting, 1-D', () => {
    gradgradcheck((a, b) => a.matmul(b), ref.matmul, [randArr([3, 4], 40), randArr([4, 2], 41)]);
    gradgradcheck((a, b) => a.matmul(b), ref.matmul, [randArr([2, 3, 4], 42), randArr([4, 2], 43)]);
    gradgradcheck((a, b) => a.matmul(b), ref.matmul, [randArr([4], 44), randArr([2, 4, 3], 45)]);
  });
  it('linear: fused (2-D), unfused (3-D), without bias', () => {
    const x = randArr([3, 4], 46);
    const w = randArr([5, 4], 47, -0.5, 0.5);
    const b = randArr([5], 48);
    const lin = (xs: R, ws: R, bs?: R) => {
      const y = ref.matmul(xs, ref.transpose(ws, 0, 1));
      return bs ? ref.add(y, bs) : y;
    };
    gradgradcheck((a, c, d) => kiln.F.linear(a, c, d).tanh(), (a, c, d) => ref.map(lin(a, c, d), Math.tanh), [x, w, b]);
    gradgradcheck((a, c) => kiln.F.linear(a, c).square(), (a, c) => ref.map(lin(a, c), (v) => v * v), [x, w]);
    gradgradcheck((a, c, d) => kiln.F.linear(a, c, d).sigmoid(), (a, c, d) => ref.map(lin(a, c, d), ref.fn.sigmoid),
      [randArr([2, 3, 4], 49), w, b]);
  });
});

describe('indexing', () => {
  it('indexSelect, embedding', () => {
    const rows = [2, 0, 2, 1];
    gradgradcheck((t) => t.indexSelect(0, ints(rows)).square(), (r) => ref.map(ref.indexSelect(r, 0, rows), (v) => v * v),
      [randArr([3, 4], 50)]);
    gradgradcheck((t) => kiln.F.embedding(ints(rows), t).exp(), (r) => ref.map(ref.indexSelect(r, 0, rows), Math.exp),
      [randArr([3, 2], 51)]);
  });
  it('gather, scatterAdd', () => {
    const index = ref.arr([2, 3], [2, 0, 1, 1, 1, 0]);
    const ik = () => toKiln(index, { dtype: 'int32' });
    gradgradcheck((t) => t.gather(1, ik()).square(), (r) => ref.map(ref.gather(r, 1, index), (v) => v * v), [randArr([2, 4], 52)]);
    gradgradcheck((t, s) => t.scatterAdd(1, ik(), s.square()).mul(t),
      (r, s) => ref.mul(ref.scatterAdd(r, 1, index, ref.map(s, (v) => v * v)), r), [randArr([2, 4], 53), randArr([2, 3], 54)]);
  });
});

describe('nn ops', () => {
  it('softmax and logSoftmax', () => {
    const x = randArr([2, 3, 4], 60, -2, 2);
    gradgradcheck((t) => t.softmax(1), (r) => ref.softmax(r, 1), [x]);
    gradgradcheck((t) => t.logSoftmax(-1), (r) => ref.softmax(r, 2, true), [x]);
  });
  it('cross-entropy rows: plain, label smoothing, ignored rows', () => {
    const x = randArr([4, 3], 61, -2, 2);
    const t = [2, 0, 1, 1];
    gradgradcheck((l) => crossEntropyRows(l, ints(t)), (r) => ref.crossEntropyRows(r, t), [x]);
    gradgradcheck((l) => crossEntropyRows(l, ints(t), -100, 0.2), (r) => ref.crossEntropyRows(r, t, -100, 0.2), [x]);
    const ti = [2, -100, 1, -100];
    gradgradcheck((l) => crossEntropyRows(l, ints(ti)), (r) => ref.crossEntropyRows(r, ti), [x]);
  });
  const geoms: [string, number[], number[], { stride?: [number, number]; padding?: [number, number]; dilation?: [number, number] }][] = [
    ['3x3', [2, 2, 5, 5], [3, 2, 3, 3], {}],
    ['stride 2, padding (1, 0), dilation (1, 2)', [1, 2, 6, 7], [2, 2, 2, 3], { stride: [2, 2], padding: [1, 0], dilation: [1, 2] }],
  ];
  for (const [name, xs, ws, g] of geoms) {
    it(`conv2d ${name}`, () => {
      const x = randArr(xs, 62, -1, 1);
      const w = randArr(ws, 63, -0.5, 0.5);
      const b = randArr([ws[0]], 64);
      gradgradcheck((a, c, d) => kiln.F.conv2d(a, c, d, g).tanh(), (a, c, d) => ref.map(ref.conv2d(a, c, d, g), Math.tanh), [x, w, b]);
      // bilinear in x and w: the second derivative is all cross terms
      gradgradcheck((a, c) => kiln.F.conv2d(a, c, null, g), (a, c) => ref.conv2d(a, c, null, g), [x, w]);
    });
  }
  it('convTranspose2d (stride 2, padding 1, outputPadding 1)', () => {
    const g = { stride: [2, 2] as [number, number], padding: [1, 1] as [number, number], outputPadding: [1, 1] as [number, number] };
    gradgradcheck((a, c, d) => kiln.F.convTranspose2d(a, c, d, g).tanh(), (a, c, d) => ref.map(ref.convTranspose2d(a, c, d, g), Math.tanh),
      [randArr([1, 2, 3, 3], 65, -1, 1), randArr([2, 3, 3, 3], 66, -0.5, 0.5), randArr([3], 67)]);
  });
  it('maxPool2d and avgPool2d (count_include_pad on and off)', () => {
    const x = distinctArr([1, 2, 4, 5], 68, 0.05);
    const sq = (r: R) => ref.map(r, (v) => v * v);
    gradgradcheck((t) => kiln.F.maxPool2d(t.square(), 2, { stride: 1 }), (r) => ref.maxPool2d(sq(r), { kernel: [2, 2], stride: [1, 1] }), [x]);
    gradgradcheck((t) => kiln.F.avgPool2d(t.square(), 3, { stride: 2, padding: 1 }),
      (r) => ref.avgPool2d(sq(r), { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }), [x]);
    gradgradcheck((t) => kiln.F.avgPool2d(t.exp(), 3, { stride: 2, padding: 1, countIncludePad: false }),
      (r) => ref.avgPool2d(ref.map(r, Math.exp), { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, false), [x]);
  });
  it('layerNorm and batchNorm (training statistics)', () => {
    const x = randArr([3, 4], 69, -1, 1);
    const w = randArr([4], 70, 0.5, 1.5);
    const b = randArr([4], 71);
    gradgradcheck((a, c, d) => kiln.F.layerNorm(a, [4], c, d), (a, c, d) => ref.layerNorm(a, 1, c, d), [x, w, b]);
    gradgradcheck((a, c, d) => kiln.F.batchNorm(a, { weight: c, bias: d, training: true }), (a, c, d) => ref.batchNormTrain(a, c, d),
      [randArr([4, 3], 72, -1, 1), randArr([3], 73, 0.5, 1.5), randArr([3], 74)]);
  });
});

describe('losses', () => {
  const x = randArr([3, 4], 80, -1.5, 1.5);
  const y = randArr([3, 4], 81, -1, 1);
  it('mse, l1, huber, smoothL1', () => {
    gradgradcheck((a, b) => kiln.F.mseLoss(a, b), (a, b) => ref.mean(ref.map(ref.sub(a, b), (v) => v * v)), [x, y]);
    gradgradcheck((a) => kiln.F.l1Loss(a.tanh(), toKiln(y)), (a) => ref.mean(ref.map(ref.sub(ref.map(a, Math.tanh), y), Math.abs)), [x]);
    const huber = (d: number) => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5);
    gradgradcheck((a, b) => kiln.F.huberLoss(a, b, { reduction: 'sum' }), (a, b) => ref.sum(ref.map(ref.sub(a, b), huber)), [x, y]);
    gradgradcheck((a, b) => kiln.F.smoothL1Loss(a, b, { beta: 0.5 }),
      (a, b) => ref.mean(ref.map(ref.sub(a, b), (d) => (Math.abs(d) < 0.5 ? (d * d) / 1 : Math.abs(d) - 0.25))), [x, y]);
  });
  it('crossEntropy with class weights; with probability targets', () => {
    const t = [1, 3, 0];
    const w = randArr([4], 82, 0.5, 2);
    gradgradcheck((a) => kiln.F.crossEntropy(a, ints(t), { weight: toKiln(w) }), (a) => {
      const rows = ref.crossEntropyRows(a, t);
      const ws = t.map((c) => w.data[c]);
      return ref.scalar(rows.data.reduce((s, v, i) => s + v * ws[i], 0) / ws.reduce((s, v) => s + v, 0));
    }, [x]);
    const p = ref.softmax(randArr([3, 4], 83), 1);
    gradgradcheck((a, q) => kiln.F.crossEntropy(a, q), (a, q) => ref.scalar(-ref.sum(ref.mul(ref.softmax(a, 1, true), q)).data[0] / 3), [x, p]);
  });
  it('nllLoss', () => {
    const t = [1, 3, 0];
    gradgradcheck((a) => kiln.F.nllLoss(a.logSoftmax(1), ints(t)), (a) => ref.mean(ref.crossEntropyRows(a, t)), [x]);
  });
  it('binaryCrossEntropy (input, target and weight) and with logits', () => {
    const p = randArr([3, 4], 84, 0.1, 0.9);
    const q = randArr([3, 4], 85, 0, 1);
    const w = randArr([4], 86, 0.5, 1.5);
    gradgradcheck((a, b, c) => kiln.F.binaryCrossEntropy(a, b, { weight: c }), (a, b, c) => ref.mean(ref.bce(a, b, c)), [p, q, w]);
    gradgradcheck((a, b) => kiln.F.binaryCrossEntropyWithLogits(a, b), (a, b) => ref.mean(ref.bceWithLogits(a, b)), [x, q]);
  });
});

describe('third order and the ops that only appear in gradients', () => {
  it('d3/dx3 of x tanh(x) and of sin(x) exp(x), against closed forms', () => {
    const xs = [0.3, -0.8, 1.4];
    const x = kiln.tensor(xs, { requiresGrad: true });
    let g = x.mul(x.tanh()).sum();
    for (let k = 0; k < 3; k++) [g] = kiln.autograd.grad(k === 0 ? g : g.sum(), x, { createGraph: true }) as Tensor[];
    // finite differences of the float64 second derivative instead of a long closed form
    const f2 = (v: number) => { const t = Math.tanh(v), s = 1 - t * t; return 2 * s - 2 * v * t * s; };
    const fd = xs.map((v) => (f2(v + 1e-5) - f2(v - 1e-5)) / 2e-5);
    const got = Array.from(g.toTypedArray());
    got.forEach((v, i) => expect(Math.abs(v - fd[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(fd[i]))));
    const y = kiln.tensor(xs, { requiresGrad: true });
    let h = y.sin().mul(y.exp()).sum();
    for (let k = 0; k < 3; k++) [h] = kiln.autograd.grad(k === 0 ? h : h.sum(), y, { createGraph: true }) as Tensor[];
    // (sin x e^x)''' = 2 e^x (cos x - sin x)
    Array.from(h.toTypedArray()).forEach((v, i) => {
      const e = 2 * Math.exp(xs[i]) * (Math.cos(xs[i]) - Math.sin(xs[i]));
      expect(Math.abs(v - e)).toBeLessThan(1e-5 * Math.max(1, Math.abs(e)));
    });
  });

  it('third order through conv2d, pooling, slicing and indexing (the recorded backward ops)', () => {
    // d/dx of sum(d/dx [sum(d/dx F . V1)] . V2): the gradients of im2col/col2im, avgPool2dBackward,
    // placeInto, scatterAddInto and unaryBackward are themselves differentiated
    const xr = randArr([1, 1, 4, 4], 90, -1, 1);
    const wr = randArr([2, 1, 2, 2], 91, -0.7, 0.7);
    const F = (x: Tensor, w: Tensor) =>
      kiln.F.avgPool2d(kiln.F.conv2d(x.tanh(), w, null, { padding: [1, 1] }).tanh(), 2).narrow(2, 0, 1).gather(3, toKiln(ref.arr([1, 2, 1, 1], [1, 0]), { dtype: 'int32' })).sum();
    const Fref = (x: R, w: R) => {
      const c = ref.map(ref.conv2d(ref.map(x, Math.tanh), w, null, { padding: [1, 1] }), Math.tanh);
      const p = ref.slice(ref.avgPool2d(c, { kernel: [2, 2] }), 2, 0, 1);
      return ref.sum(ref.gather(p, 3, ref.arr([1, 2, 1, 1], [1, 0]))).data[0];
    };
    const V1 = randArr(xr.shape, 92, -1, 1);
    const V2 = randArr(xr.shape, 93, -1, 1);
    const x = toKiln(xr, { requiresGrad: true });
    const w = toKiln(wr);
    const [g1] = kiln.autograd.grad(F(x, w), x, { createGraph: true }) as Tensor[];
    const [g2] = kiln.autograd.grad(g1.mul(toKiln(V1)).sum(), x, { createGraph: true }) as Tensor[];
    const [g3] = kiln.autograd.grad(g2.mul(toKiln(V2)).sum(), x) as Tensor[];
    // reference: d/dx_j of D_V2 D_V1 F by central differences (third differences in float64)
    const a = 1e-3;
    const at = (d1: number, d2: number, j: number, d3: number) =>
      Fref(ref.arr(xr.shape, (i) => xr.data[i] + d1 * V1.data[i] + d2 * V2.data[i] + (i === j ? d3 : 0)), wr);
    const expected = xr.data.map((_, j) => {
      let s = 0;
      for (const [s1, s2, s3] of [[1, 1, 1], [1, 1, -1], [1, -1, 1], [1, -1, -1], [-1, 1, 1], [-1, 1, -1], [-1, -1, 1], [-1, -1, -1]]) {
        s += s1 * s2 * s3 * at(s1 * a, s2 * a, j, s3 * a);
      }
      return s / (8 * a * a * a);
    });
    const got = g3.toTypedArray();
    const scale = Math.max(1, ...expected.map(Math.abs));
    expected.forEach((e, j) => expect(Math.abs(got[j] - e), `element ${j}: ${got[j]} vs ${e}`).toBeLessThan(2e-3 * scale));
  });
});

describe('ops without a second derivative', () => {
  it('createGraph through the native recurrences is a KilnError naming the op', () => {
    kiln.manualSeed(1);
    for (const [Layer, name] of [[kiln.nn.LSTM, 'lstmSequence'], [kiln.nn.GRU, 'gruSequence'], [kiln.nn.RNN, 'rnnSequence']] as const) {
      const layer = new Layer(3, 4);
      const x = kiln.randn([2, 1, 3], { requiresGrad: true });
      const [out] = layer.forward(x);
      expect(() => kiln.autograd.grad(out.sum(), x, { createGraph: true })).toThrow(new RegExp(`createGraph: ${name}`));
      // first order through the same graph still works
      const [g] = kiln.autograd.grad(out.sum(), x);
      expect(g!.shape).toEqual([2, 1, 3]);
    }
  });
});

describe('kiln.autograd.gradgradcheck (float32 evaluation, float64 differences) over the rule table', () => {
  const leaf = (r: R) => toKiln(r, { requiresGrad: true });
  const idx = (values: number[], shape = [values.length]) => kiln.tensor(Int32Array.from(values), { shape });
  const cases: [string, (...xs: Tensor[]) => Tensor, () => Tensor[]][] = [
    ['unary: exp, log, sqrt, rsqrt, sigmoid, tanh, gelu, sin, cos, reciprocal, pow',
      (t) => kiln.cat([t.exp(), t.log(), t.sqrt(), t.rsqrt(), t.sigmoid(), t.tanh(), t.gelu(), t.sin(), t.cos(), t.reciprocal(), t.pow(2.5)]),
      () => [leaf(randArr([3], 100, 0.5, 1.5))]],
    ['unary: abs, relu, leakyRelu, clamp, square, neg, add/mul/rsub scalars',
      (t) => kiln.cat([t.abs(), t.relu(), t.leakyRelu(0.2), t.clamp(-0.5, 0.5), t.square(), t.neg(), t.add(1), t.mul(3), t.rsub(1)]).square(),
      () => [leaf(randArr([4], 101, -1, 1, [0, -0.5, 0.5], 0.1))]],
    ['add, sub, mul, div, pow with broadcasting', (a, b) => a.add(b).mul(a.sub(b)).div(b).add(a.pow(b)),
      () => [leaf(randArr([2, 3], 102, 0.5, 1.5)), leaf(randArr([3], 103, 0.5, 1.5))]],
    ['maximum, minimum, where', (a, b) => a.maximum(b).mul(a).add(kiln.where(a.gt(0), a.square(), b.minimum(a).mul(b))),
      () => [leaf(distinctArr([2, 3], 104)), leaf(distinctArr([2, 3], 105, 0.13))]],
    ['sum, mean, max, var, logsumexp', (t) => kiln.cat([t.square().sum(1), t.mean(0).exp(), t.square().max(1), t.var(1), t.logsumexp(1)]),
      () => [leaf(distinctArr([3, 3], 106))]],
    ['reshape, permute, expand, slice, select, cat, stack', (t) =>
      kiln.stack([t.reshape([3, 2]).t().square().slice(1, 0, 3, 2).reshape([4]), t.expand([2, 2, 3]).select(0, 1).narrow(1, 1, 2).reshape([4])], 0).exp(),
      () => [leaf(randArr([2, 3], 107, -1, 1))]],
    ['matmul (batched), linear', (a, w, b) => kiln.F.linear(a.matmul(a.transpose(1, 2)).reshape([4, 2]), w, b).tanh(),
      () => [leaf(randArr([2, 2, 3], 108, -1, 1)), leaf(randArr([3, 2], 109, -1, 1)), leaf(randArr([3], 110))]],
    ['indexSelect, gather, scatterAdd', (t, s) =>
      t.indexSelect(0, idx([1, 0, 1])).square().sum(0).add(t.gather(1, idx([1, 0, 2, 2], [2, 2])).exp().sum(0).sum()).add(t.scatterAdd(1, idx([0, 2, 1, 1], [2, 2]), s.square()).sum(0)),
      () => [leaf(randArr([2, 3], 111, -1, 1)), leaf(randArr([2, 2], 112, -1, 1))]],
    ['softmax, logSoftmax, cross-entropy (smoothing, ignored rows)', (t) =>
      kiln.cat([t.softmax(1).reshape([-1]), t.logSoftmax(0).reshape([-1]), crossEntropyRows(t, idx([2, -100, 1]), -100, 0.1)]),
      () => [leaf(randArr([3, 3], 113, -1, 1))]],
    ['conv2d, convTranspose2d, maxPool2d, avgPool2d', (x, w) => {
      const c = kiln.F.conv2d(x, w, null, { padding: 1 }).tanh();
      return kiln.F.maxPool2d(kiln.F.avgPool2d(kiln.F.convTranspose2d(c, w, null, { stride: 2 }), 2), 2).reshape([-1]);
    }, () => [leaf(randArr([1, 1, 4, 4], 114, -1, 1)), leaf(randArr([2, 1, 2, 2], 115, -0.8, 0.8))]],
    ['layerNorm, batchNorm', (x, g, b) => kiln.F.layerNorm(x, [3], g, b).add(kiln.F.batchNorm(x, { training: true })).tanh(),
      () => [leaf(randArr([4, 3], 116, -1, 1)), leaf(randArr([3], 117, 0.5, 1.5)), leaf(randArr([3], 118))]],
    ['losses: mse, huber, bce, bce with logits, nll', (a, p) => kiln.stack([
      kiln.F.mseLoss(a, p), kiln.F.huberLoss(a, p, { delta: 0.5 }), kiln.F.binaryCrossEntropy(a.sigmoid(), p),
      kiln.F.binaryCrossEntropyWithLogits(a, p), kiln.F.nllLoss(a.logSoftmax(1), idx([1, 0]))]),
    () => [leaf(randArr([2, 3], 119, -1, 1)), leaf(randArr([2, 3], 120, 0.1, 0.9))]],
  ];
  for (const [name, fn, inputs] of cases) {
    it(name, () => kiln.scope(() => expect(kiln.autograd.gradgradcheck(fn, inputs())).toBe(true)));
  }
});
