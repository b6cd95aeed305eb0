// softmax/logSoftmax, fused cross-entropy rows, conv2d, pools, dropout, layerNorm, batchNorm.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { crossEntropyRows } from '../../src/ops/nn.js';
import { expectClose, expectMatches, gradcheck, toKiln } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { distinctArr, randArr } from '../helpers/reference.js';

const ints = (values: number[]) => kiln.tensor(Int32Array.from(values), { shape: [values.length] });

describe('softmax / logSoftmax', () => {
  for (const dim of [0, 1, 2, -1]) {
    it(`softmax and logSoftmax over dim ${dim}`, () => {
      const x = randArr([2, 3, 4], 1 + dim, -3, 3);
      gradcheck((t) => t.softmax(dim), (r) => ref.softmax(r, dim), [x]);
      gradcheck((t) => kiln.F.logSoftmax(t, dim), (r) => ref.softmax(r, dim, true), [x]);
    });
  }

  it('default dim is the last; large logits stay finite', () => {
    const x = ref.arr([2, 3], [1000, 1001, 1002, -1000, 0, 1000]);
    expectMatches(toKiln(x).softmax(), ref.softmax(x, 1), { rtol: 1e-5, atol: 1e-7 });
    expectMatches(kiln.F.softmax(toKiln(x)), ref.softmax(x, 1), { rtol: 1e-5, atol: 1e-7 });
    expectMatches(toKiln(x).logSoftmax(), ref.softmax(x, 1, true), { rtol: 1e-6 });
  });

  it('on a transposed view', () => {
    const x = randArr([4, 3], 9);
    gradcheck((t) => t.t().softmax(-1), (r) => ref.softmax(ref.transpose(r, 0, 1), 1), [x]);
  });
});

describe('crossEntropyRows', () => {
  const target = [2, 0, 4, 1, 3];
  for (const smoothing of [0, 0.1, 0.35]) {
    it(`label smoothing ${smoothing}`, () => {
      const logits = randArr([5, 5], 10, -3, 3);
      gradcheck((t) => crossEntropyRows(t, ints(target), -100, smoothing), (r) => ref.crossEntropyRows(r, target, -100, smoothing), [logits]);
    });
  }

  it('ignoreIndex rows give 0 loss and 0 gradient (default -100 and a custom one)', () => {
    const logits = randArr([4, 3], 11, -2, 2);
    const t1 = [1, -100, 2, -100];
    gradcheck((t) => crossEntropyRows(t, ints(t1)), (r) => ref.crossEntropyRows(r, t1), [logits]);
    const t2 = [1, 0, 2, 0];
    gradcheck((t) => crossEntropyRows(t, ints(t2), 0, 0.2), (r) => ref.crossEntropyRows(r, t2, 0, 0.2), [logits]);
    const x = toKiln(logits, { requiresGrad: true });
    crossEntropyRows(x, ints(t1)).sum().backward();
    const g = x.grad!.toArray() as number[][];
    expect(g[1]).toEqual([0, 0, 0]);
    expect(g[3]).toEqual([0, 0, 0]);
  });

  it('extreme logits give a finite loss', () => {
    const logits = ref.arr([2, 3], [1000, -1000, 0, -50, 60, 10]);
    expectMatches(crossEntropyRows(toKiln(logits), ints([1, 0])), ref.crossEntropyRows(logits, [1, 0]), { rtol: 1e-6 });
  });
});

describe('conv2d', () => {
  const cases: [string, number[], number[], boolean, { stride?: [number, number]; padding?: [number, number]; dilation?: [number, number] }][] = [
    ['3x3, no padding', [2, 3, 5, 5], [4, 3, 3, 3], false, {}],
    ['bias, padding 1', [2, 2, 5, 4], [3, 2, 3, 3], true, { padding: [1, 1] }],
    ['stride 2, padding (1, 0)', [1, 2, 7, 6], [2, 2, 3, 2], true, { stride: [2, 2], padding: [1, 0] }],
    ['dilation 2', [1, 2, 7, 7], [2, 2, 3, 3], true, { dilation: [2, 2] }],
    ['stride (2, 1), dilation (1, 2), padding 2', [2, 1, 6, 7], [3, 1, 2, 3], true, { stride: [2, 1], dilation: [1, 2], padding: [2, 2] }],
    ['1x1 kernel', [2, 3, 3, 3], [2, 3, 1, 1], true, {}],
    ['batch of 5 (the weight gradient sums 5 images)', [5, 2, 4, 4], [3, 2, 3, 3], true, { padding: [1, 1] }],
  ];
  for (const [name, xs, ws, bias, g] of cases) {
    it(name, () => {
      const x = randArr(xs, xs[2] * 3 + 1);
      const w = randArr(ws, ws[0] * 5 + 2, -0.5, 0.5);
      const inputs = bias ? [x, w, randArr([ws[0]], 3)] : [x, w];
      gradcheck(
        (a, b, c) => kiln.F.conv2d(a, b, c ?? null, g),
        (a, b, c) => ref.conv2d(a, b, c ?? null, g),
        inputs,
      );
    });
  }

  it('scalar stride/padding/dilation arguments', () => {
    const x = randArr([1, 1, 6, 6], 4);
    const w = randArr([1, 1, 3, 3], 5);
    expectMatches(kiln.F.conv2d(toKiln(x), toKiln(w), null, { stride: 2, padding: 1, dilation: 1 }),
      ref.conv2d(x, w, null, { stride: [2, 2], padding: [1, 1] }));
  });
});

describe('pooling', () => {
  const maxCases: [string, number[], ref.PoolGeom][] = [
    ['2x2', [2, 2, 4, 6], { kernel: [2, 2] }],
    ['3x3 stride 2 padding 1', [1, 2, 7, 5], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }],
    ['(2, 3) stride 1', [1, 1, 4, 5], { kernel: [2, 3], stride: [1, 1] }],
  ];
  for (const [name, xs, g] of maxCases) {
    it(`maxPool2d ${name}`, () => {
      const x = distinctArr(xs, xs[3]); // distinct values: no ties for the max
      gradcheck((t) => kiln.F.maxPool2d(t, g.kernel, { stride: g.stride, padding: g.padding }), (r) => ref.maxPool2d(r, g), [x]);
    });
  }

  const avgCases: [string, number[], ref.PoolGeom, boolean][] = [
    ['2x2', [2, 2, 4, 6], { kernel: [2, 2] }, true],
    ['3x3 stride 2 padding 1, countIncludePad', [1, 2, 7, 5], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, true],
    ['3x3 stride 2 padding 1, countIncludePad false', [1, 2, 7, 5], { kernel: [3, 3], stride: [2, 2], padding: [1, 1] }, false],
    ['(2, 4) stride (1, 2) padding (1, 2), countIncludePad false', [1, 1, 5, 6], { kernel: [2, 4], stride: [1, 2], padding: [1, 2] }, false],
  ];
  for (const [name, xs, g, cip] of avgCases) {
    it(`avgPool2d ${name}`, () => {
      gradcheck(
        (t) => kiln.F.avgPool2d(t, g.kernel, { stride: g.stride, padding: g.padding, countIncludePad: cip }),
        (r) => ref.avgPool2d(r, g, cip),
        [randArr(xs, xs[2] + 7)],
      );
    });
  }

  it('scalar kernel size defaults the stride to the kernel', () => {
    const x = distinctArr([1, 1, 4, 4], 3);
    expectMatches(kiln.F.maxPool2d(toKiln(x), 2), ref.maxPool2d(x, { kernel: [2, 2] }));
    expectMatches(kiln.F.avgPool2d(toKiln(x), 2), ref.avgPool2d(x, { kernel: [2, 2] }));
  });
});

describe('dropout', () => {
  it('training: zero fraction ≈ p, survivors scaled by 1/(1-p), mean preserved', () => {
    kiln.manualSeed(123);
    const n = 200_000;
    const p = 0.3;
    const y = kiln.F.dropout(kiln.ones([n]), p, true).toTypedArray();
    let zeros = 0;
    let sum = 0;
    for (const v of y) {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(1 / (1 - p), 5);
      sum += v;
    }
    // binomial std of the fraction is sqrt(p(1-p)/n) ≈ 0.001: 5 sigma
    expect(Math.abs(zeros / n - p)).toBeLessThan(0.005);
    expect(Math.abs(sum / n - 1)).toBeLessThan(0.01);
  });

  it('gradient is the same mask and scale', () => {
    kiln.manualSeed(7);
    const x = kiln.ones([1000], { requiresGrad: true });
    const y = kiln.F.dropout(x, 0.5, true);
    y.sum().backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual(Array.from(y.toTypedArray()));
  });

  it('eval mode and p = 0 are the identity; p = 1 zeroes', () => {
    const x = randArr([3, 4], 1);
    const t = toKiln(x);
    expectMatches(kiln.F.dropout(t, 0.5, false), x, { atol: 0 });
    expectMatches(kiln.F.dropout(t, 0, true), x, { atol: 0 });
    expectMatches(kiln.F.dropout(t, 1, true), ref.map(x, () => 0), { atol: 0 });
  });

  it('the same seed gives the same mask', () => {
    kiln.manualSeed(5);
    const a = kiln.F.dropout(kiln.ones([64]), 0.5).toTypedArray();
    kiln.manualSeed(5);
    const b = kiln.F.dropout(kiln.ones([64]), 0.5).toTypedArray();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('layerNorm / batchNorm', () => {
  it('layerNorm over the last dim with weight and bias', () => {
    const x = randArr([3, 6], 1);
    const w = randArr([6], 2);
    const b = randArr([6], 3);
    gradcheck((p, q, r) => kiln.F.layerNorm(p, [6], q, r), (p, q, r) => ref.layerNorm(p, 1, q, r), [x, w, b]);
  });

  it('layerNorm over the last two dims, no affine', () => {
    gradcheck((p) => kiln.F.layerNorm(p, [3, 4]), (p) => ref.layerNorm(p, 2, null, null), [randArr([2, 3, 4], 4)]);
  });

  it('batchNorm training on [N, C] and [N, C, H, W] with affine', () => {
    gradcheck((p, q, r) => kiln.F.batchNorm(p, { weight: q, bias: r, training: true }),
      (p, q, r) => ref.batchNormTrain(p, q, r), [randArr([6, 3], 5), randArr([3], 6), randArr([3], 7)]);
    gradcheck((p, q, r) => kiln.F.batchNorm(p, { weight: q, bias: r, training: true }),
      (p, q, r) => ref.batchNormTrain(p, q, r), [randArr([2, 3, 2, 3], 8), randArr([3], 9), randArr([3], 10)]);
  });

  it('batchNorm updates running stats (unbiased variance, momentum) and eval uses them', () => {
    const x = randArr([5, 2], 11);
    const rm = kiln.zeros([2]);
    const rv = kiln.ones([2]);
    kiln.F.batchNorm(toKiln(x), { runningMean: rm, runningVar: rv, training: true, momentum: 0.2 });
    const mu = ref.mean(x, [0]);
    const uv = ref.reduce(x, [0], false, ref.varOf(true));
    expectClose(rm.toTypedArray(), Array.from(mu.data, (m) => 0.2 * m), { rtol: 1e-5 }, 'runningMean');
    expectClose(rv.toTypedArray(), Array.from(uv.data, (v) => 0.8 + 0.2 * v), { rtol: 1e-5 }, 'runningVar');
    const y = randArr([3, 2], 12);
    const w = randArr([2], 13);
    const rmR = ref.arr([2], rm.toTypedArray());
    const rvR = ref.arr([2], rv.toTypedArray());
    gradcheck((p, q) => kiln.F.batchNorm(p, { runningMean: rm, runningVar: rv, weight: q, training: false }),
      (p, q) => ref.mul(ref.zipN([p, rmR, rvR], (a, m, v) => (a - m) / Math.sqrt(v + 1e-5)), q), [y, w]);
  });
});
