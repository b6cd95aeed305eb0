// The other layers of issue 13 against PyTorch 1.13 (tests/fixtures/transformer/make_fixtures.py,
// state dicts through safetensors) or float64 references: GroupNorm, RMSNorm, Conv1d,
// AdaptiveAvgPool2d, Upsample, PixelShuffle, Softplus, SiLU, Mish, bidirectional RNN/LSTM/GRU,
// variable lengths (PyTorch's packed sequences), batchNorm without running statistics.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectClose, gradcheck } from '../helpers/gradcheck.js';
import * as ref from '../helpers/reference.js';
import { randArr } from '../helpers/reference.js';

const { nn } = kiln;
const dir = join(__dirname, '..', 'fixtures', 'transformer');
const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
type Json = { shape: number[]; data: number[] };
const fromJson = (j: Json, requiresGrad = false) => kiln.tensor(Float32Array.from(j.data), { shape: j.shape, requiresGrad });

async function check(name: string, module: kiln.nn.Module, run: (m: any, xs: kiln.Tensor[]) => kiln.Tensor, tol = 1e-4) {
  const c = cases[name];
  const state = await kiln.load(join(dir, `${name}.safetensors`));
  module.loadStateDict(state as Record<string, kiln.Tensor>);
  await kiln.scope(async () => {
    const xs = c.inputs.map((j: Json) => fromJson(j, true));
    const out = run(module, xs);
    expect(out.shape).toEqual(c.out.shape);
    expectClose(out.toTypedArray(), c.out.data, { rtol: tol, atol: 1e-5 }, `${name}: output`);
    out.mul(fromJson(c.w)).sum().backward();
    xs.forEach((x: kiln.Tensor, i: number) => {
      if (c.gradInputs[i] !== null) expectClose(x.grad!.toTypedArray(), c.gradInputs[i].data, { rtol: 10 * tol, atol: 1e-5 }, `${name}: gradient of input ${i}`);
    });
    for (const [k, p] of module.namedParameters()) {
      const g = c.gradParams[k];
      if (g !== null) expectClose(p.grad!.toTypedArray(), g.data, { rtol: 10 * tol, atol: 1e-5 }, `${name}: gradient of ${k}`);
    }
    module.zeroGrad();
  });
}

describe('layers against PyTorch', () => {
  it('GroupNorm, Conv1d', async () => {
    await check('groupNorm', new nn.GroupNorm(2, 6), (m, [x]) => m.forward(x));
    await check('conv1d', new nn.Conv1d(3, 4, 3, { stride: 2, padding: 2, dilation: 2 }), (m, [x]) => m.forward(x));
  });
  it('AdaptiveAvgPool2d (uneven windows), Upsample (nearest, bilinear, alignCorners), PixelShuffle', async () => {
    await check('adaptiveAvgPool2d', new nn.AdaptiveAvgPool2d([3, 2]), (m, [x]) => m.forward(x));
    await check('upsampleNearest', new nn.Upsample({ scaleFactor: 2, mode: 'nearest' }), (m, [x]) => m.forward(x));
    await check('upsampleBilinear', new nn.Upsample({ size: [7, 9], mode: 'bilinear', alignCorners: false }), (m, [x]) => m.forward(x));
    await check('upsampleBilinearCorners', new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true }), (m, [x]) => m.forward(x));
    await check('pixelShuffle', new nn.PixelShuffle(2), (m, [x]) => m.forward(x));
  });
  it('Softplus (beta, threshold), SiLU, Mish', async () => {
    await check('softplus', new nn.Softplus(2, 5), (m, [x]) => m.forward(x));
    await check('silu', new nn.SiLU(), (m, [x]) => m.forward(x));
    await check('mish', new nn.Mish(), (m, [x]) => m.forward(x));
  });
  it('bidirectional LSTM (2 layers), GRU (final states, batchFirst), RNN (relu, 2 layers)', async () => {
    await check('lstmBidirectional', new nn.LSTM(3, 4, { numLayers: 2, bidirectional: true }), (m, [x]) => m.forward(x)[0]);
    await check('gruBidirectionalFinal', new nn.GRU(3, 4, { bidirectional: true, batchFirst: true }), (m, [x]) => m.forward(x)[1]);
    await check('rnnBidirectional', new nn.RNN(3, 4, { numLayers: 2, bidirectional: true, nonlinearity: 'relu' }), (m, [x]) => m.forward(x)[0]);
  });
  it('variable lengths match packed sequences: outputs zero past each length, final states at each last step', async () => {
    await check('lstmPacked', new nn.LSTM(3, 4, { bidirectional: true }), (m, [x]) => {
      const [out, [h, c]] = m.forward(x, null, { lengths: [5, 2, 4] });
      return kiln.cat([out.reshape([-1]), h.reshape([-1]), c.reshape([-1])]);
    });
    await check('gruPacked', new nn.GRU(3, 4, { numLayers: 2, batchFirst: true }), (m, [x]) => {
      const [out, h] = m.forward(x, null, { lengths: Int32Array.from([5, 2, 4]) });
      return kiln.cat([out.reshape([-1]), h.reshape([-1])]);
    });
    const lstm = new nn.LSTM(3, 4);
    expect(() => lstm.forward(kiln.zeros([5, 2, 3]), null, { lengths: [5, 6] })).toThrow(/lengths\[1\]: expected an integer in \[1, 5\]/);
    expect(() => lstm.forward(kiln.zeros([5, 2, 3]), null, { lengths: [5] })).toThrow(/one length per sequence/);
    expect(() => new nn.LSTM(3, 4, { bidirectonal: true } as any)).toThrow(/unknown option 'bidirectonal'/);
  });
  it('F.batchNorm with null running statistics in training (PyTorch allows it)', () => {
    const c = cases.batchNormNoStats;
    const out = kiln.F.batchNorm(fromJson(c.input), null, null, fromJson(c.weight), fromJson(c.bias), { training: true });
    expectClose(out.toTypedArray(), c.out.data, { rtol: 1e-4, atol: 1e-5 }, 'batchNorm');
    expect(() => kiln.F.batchNorm(fromJson(c.input), null, null, null, null, { traning: true } as any)).toThrow(/unknown option 'traning'/);
    expect(() => kiln.F.batchNorm(fromJson(c.input), null, null)).toThrow(/runningMean/);
  });
});

describe('RMSNorm and the functional forms against float64', () => {
  it('RMSNorm over one and two trailing dims, with and without weight', () => {
    const rms = (r: ref.R, k: number, eps: number) => {
      const dims = Array.from({ length: k }, (_, i) => r.shape.length - k + i);
      const ms = ref.reduce(r, dims, true, (v) => ref.sumOf(v.map((e) => e * e)) / v.length);
      return ref.zip(r, ms, (a, m) => a / Math.sqrt(m + eps));
    };
    gradcheck((x) => kiln.F.rmsNorm(x, [4]), (x) => rms(x, 1, 1.1920928955078125e-7), [randArr([3, 4], 1)]);
    gradcheck((x, w) => kiln.F.rmsNorm(x, [3, 4], w, 1e-3), (x, w) => ref.mul(rms(x, 2, 1e-3), w), [randArr([2, 3, 4], 2), randArr([3, 4], 3)]);
    const m = new nn.RMSNorm(4);
    expect(Object.keys(m.stateDict())).toEqual(['weight']);
    expect(() => new nn.GroupNorm(4, 6)).toThrow(/not divisible by numGroups/);
  });
  it('softplus, silu, mish gradients', () => {
    const sp = (v: number) => ref.softplus(v);
    gradcheck((x) => kiln.F.softplus(x), (x) => ref.map(x, sp), [randArr([5], 4, -30, 30)]);
    gradcheck((x) => kiln.F.silu(x), (x) => ref.map(x, (v) => v / (1 + Math.exp(-v))), [randArr([5], 5)]);
    gradcheck((x) => kiln.F.mish(x), (x) => ref.map(x, (v) => v * Math.tanh(sp(v))), [randArr([5], 6)]);
  });
});
