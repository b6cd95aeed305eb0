// kiln.onnx.export round trips: every layer type exported, run in onnxruntime-node on random
// inputs (at the sample's size and, with dynamic axes, at other sizes) and compared with Kiln's
// forward within 1e-5 relative to each output's scale. Skipped when onnxruntime-node is absent;
// the error cases and the python3-onnx checker run without it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { hasPythonOnnx, loadOrt, pythonCheck, roundTrip } from './helpers.js';

const { nn, F } = kiln;
const ort = await loadOrt();
const withOrt = describe.skipIf(ort === null);
const errors: Record<string, number> = {};
const batchDyn = { dynamicAxes: { input: { 0: 'batch' } } };

class Misc extends nn.Module {
  lin = new nn.Linear(6, 6);
  forward(x: kiln.Tensor, y: kiln.Tensor): kiln.Tensor[] {
    const a = x.clamp(-0.5, 0.7).add(x.abs().exp().log()).sub(x.abs().add(1).sqrt());
    const b = x.abs().add(0.5).pow(y.sigmoid()).mul(x.maximum(y)).div(y.minimum(x).abs().add(1));
    const c = kiln.where(x.gt(y), x.square(), y.neg()).add(x.sin().mul(y.cos())).add(x.abs().add(1).rsqrt());
    const d = x.sign().add(x.le(0.1)).add(x.ne(y)).add(x.eq(x)).rsub(2).mul(x.reciprocal().clamp(-3, 3));
    const e = this.lin.forward(a.add(b).add(c).add(d)).add(kiln.tensor([1, 2, 3, 4, 5, 6]));
    const m = e.max(1, true).add(e.min(1, true)).add(e.mean(1, true)).add(e.sum(1, true)).add(e.logsumexp(1, true));
    const v = e.var(1, { keepdim: true }).add(e.std(1, { keepdim: true }));
    return [e.sub(m).mul(v), e.argmax(1), e.sum(), x.pow(2).add(x.pow(3))];
  }
}

class Shapes extends nn.Module {
  emb = new nn.Embedding(30, 4);
  forward(ids: kiln.Tensor): kiln.Tensor[] {
    const [B, T] = ids.shape;
    const e = this.emb.forward(ids); // [B, T, 4]
    const p = e.permute([0, 2, 1]); // [B, 4, T]
    const ends = kiln.cat([e.narrow(1, 0, 2), e.narrow(1, T - 2, 2), e.select(1, -1).unsqueeze(1)], 1); // [B, 5, 4]
    const flatEnds = ends.reshape([B, -1]).softmax(1); // [B, 20]
    const every = e.slice(1, 1, undefined, 2).mean([1, 2]); // odd steps
    const gathered = p.transpose(1, 2).flatten(1).gather(1, ids.narrow(1, 0, 1)); // [B, 1]
    const idsOut = kiln.cat([ids, ids.add(1).mul(2)], 1).flatten(); // int32 path
    return [flatEnds, every.unsqueeze(1).add(gathered).squeeze(1), e.sum(2).max(1), idsOut, ids.float().mean(1).div(ids.float().add(1).sum(1))];
  }
}

class LastStep extends nn.Module {
  lstm = new nn.LSTM(7, 9, { batchFirst: true });
  head = new nn.Linear(9, 4);
  forward(x: kiln.Tensor): kiln.Tensor {
    const [out] = this.lstm.forward(x);
    return this.head.forward(out.select(1, out.shape[1] - 1));
  }
}

class WithState extends nn.Module {
  lstm = new nn.LSTM(5, 6, { numLayers: 2 });
  forward(x: kiln.Tensor, h0: kiln.Tensor, c0: kiln.Tensor) {
    return this.lstm.forward(x, [h0, c0]);
  }
}

class GruState extends nn.Module {
  gru = new nn.GRU(5, 6, { numLayers: 2, batchFirst: true });
  forward(x: kiln.Tensor, h0: kiln.Tensor) {
    return this.gru.forward(x, h0);
  }
}

function trainBatchNorm(model: kiln.nn.Module, shape: number[]): void {
  // a few training-mode passes, so the running statistics are not the defaults
  model.train();
  kiln.noGrad(() => kiln.scope(() => { for (let i = 0; i < 3; i++) model.forward(kiln.randn(shape).mul(2).add(0.5)); }));
}

withOrt('onnx.export round trips in onnxruntime-node', () => {
  it('Linear and every activation, with a dynamic batch', async () => {
    kiln.manualSeed(1);
    const model = new nn.Sequential(new nn.Linear(12, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.Sigmoid(), new nn.Linear(16, 16),
      new nn.Tanh(), new nn.Linear(16, 16), new nn.GELU(), new nn.Linear(16, 16), new nn.LeakyReLU(0.2), new nn.Dropout(0.3),
      new nn.Linear(16, 5), new nn.LogSoftmax(-1));
    errors.activations = await roundTrip(ort!, model, [[kiln.randn([4, 12])], [kiln.randn([9, 12])], [kiln.randn([1, 12])]], batchDyn);
  });

  it('Linear on 3-D input, Softmax over a middle dim, Identity, a detached tensor', async () => {
    kiln.manualSeed(2);
    class Detach extends nn.Module {
      forward(x: kiln.Tensor) { return x.detach().mul(2); }
    }
    const model = new nn.Sequential(new nn.Linear(6, 5), new nn.Softmax(1), new nn.Identity(), new Detach(), new nn.Linear(5, 3, { bias: false }));
    errors.linear3d = await roundTrip(ort!, model, [[kiln.randn([2, 4, 6])], [kiln.randn([3, 4, 6])]], batchDyn);
  });

  it('the demo CNN (conv-relu-pool x2, flatten, linear) at batch 2 and 5', async () => {
    kiln.manualSeed(3);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(64 * 7 * 7, 10));
    errors.demoCnn = await roundTrip(ort!, model, [[kiln.randn([2, 1, 28, 28])], [kiln.randn([5, 1, 28, 28])]], batchDyn);
  });

  it('Conv2d geometry (stride, padding, dilation, no bias), BatchNorm2d, MaxPool2d, AvgPool2d without padding counted', async () => {
    kiln.manualSeed(4);
    const model = new nn.Sequential(
      new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 6, [3, 2], { stride: [2, 1], padding: [1, 0], dilation: [1, 2], bias: false }),
      new nn.AvgPool2d(2, { stride: 1, padding: 1, countIncludePad: false }), new nn.AvgPool2d([2, 3]), new nn.Flatten(), new nn.Linear(24, 10));
    trainBatchNorm(model, [8, 3, 16, 16]);
    errors.conv = await roundTrip(ort!, model, [[kiln.randn([2, 3, 16, 16])], [kiln.randn([3, 3, 16, 16])]], batchDyn);
  });

  it('ConvTranspose2d with stride, padding and output padding, and without bias', async () => {
    kiln.manualSeed(5);
    const model = new nn.Sequential(new nn.ConvTranspose2d(4, 3, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.Tanh(),
      new nn.ConvTranspose2d(3, 2, [2, 3], { dilation: [2, 1], bias: false }));
    errors.convTranspose = await roundTrip(ort!, model, [[kiln.randn([2, 4, 5, 6])], [kiln.randn([1, 4, 5, 6])]], batchDyn);
  });

  it('BatchNorm1d on [N, C] and [N, C, L], LayerNorm with and without affine', async () => {
    kiln.manualSeed(6);
    const flatModel = new nn.Sequential(new nn.Linear(5, 8), new nn.BatchNorm1d(8), new nn.LayerNorm(8));
    trainBatchNorm(flatModel, [16, 5]);
    errors.batchNorm1d = await roundTrip(ort!, flatModel, [[kiln.randn([4, 5])], [kiln.randn([7, 5])]], batchDyn);
    const seqModel = new nn.Sequential(new nn.BatchNorm1d(3, { affine: false }), new nn.LayerNorm([3, 7], { elementwiseAffine: false }),
      new nn.LayerNorm(7));
    trainBatchNorm(seqModel, [16, 3, 7]);
    errors.norms = await roundTrip(ort!, seqModel, [[kiln.randn([4, 3, 7])], [kiln.randn([2, 3, 7])]], batchDyn);
  });

  it('Embedding, permute, cat, narrow, select, slice, reshape, gather, int32 ops, with dynamic batch and length', async () => {
    kiln.manualSeed(7);
    const model = new Shapes();
    const ids = (b: number, t: number) => kiln.randint(0, 16, [b, t]); // < 4 x the shortest length: valid gather indices
    errors.shapes = await roundTrip(ort!, model, [[ids(3, 6)], [ids(2, 9)], [ids(5, 4)]],
      { dynamicAxes: { input: { 0: 'batch', 1: 'time' } }, outputNames: ['ends', 'mixed', 'maxsum', 'ids', 'ratio'] });
  });

  it('elementwise ops, comparisons, where, reductions, argmax (int32 output), two inputs', async () => {
    kiln.manualSeed(8);
    const model = new Misc();
    const pair = (b: number) => [kiln.randn([b, 6]), kiln.randn([b, 6])];
    errors.elementwise = await roundTrip(ort!, model, [pair(5), pair(3)],
      { inputNames: ['x', 'y'], dynamicAxes: { x: [0], y: [0] } });
  });

  it('LSTM: the W6 model (batch first, last step to a linear head), 2 layers with a given state', async () => {
    kiln.manualSeed(9);
    const seq = (b: number, t: number) => [kiln.randn([b, t, 7])];
    errors.lstmLastStep = await roundTrip(ort!, new LastStep(), [seq(3, 5), seq(2, 8)], { dynamicAxes: { input: { 0: 'batch', 1: 'time' } } });
    const m = new WithState();
    const args = (t: number, b: number) => [kiln.randn([t, b, 5]), kiln.randn([2, b, 6]), kiln.randn([2, b, 6])];
    errors.lstmState = await roundTrip(ort!, m, [args(4, 3), args(6, 2)],
      { inputNames: ['x', 'h0', 'c0'], outputNames: ['y', 'hN', 'cN'], dynamicAxes: { x: [0, 1], h0: [1], c0: [1] } });
  });

  it('GRU (2 layers, batch first, given state) and RNN (tanh; relu without bias)', async () => {
    kiln.manualSeed(10);
    const args = (b: number, t: number) => [kiln.randn([b, t, 5]), kiln.randn([2, b, 6])];
    errors.gru = await roundTrip(ort!, new GruState(), [args(3, 4), args(2, 7)], { inputNames: ['x', 'h0'], dynamicAxes: { x: [0, 1], h0: [1] } });
    const rnnTanh = new nn.RNN(5, 6, { numLayers: 2 });
    errors.rnnTanh = await roundTrip(ort!, rnnTanh, [[kiln.randn([4, 3, 5])], [kiln.randn([2, 3, 5])]], { dynamicAxes: { input: [0] } });
    const rnnRelu = new nn.RNN(5, 6, { nonlinearity: 'relu', bias: false });
    errors.rnnRelu = await roundTrip(ort!, rnnRelu, [[kiln.randn([4, 3, 5])]]);
  });

  it('opset 18 (reduction axes as inputs) and 21', async () => {
    kiln.manualSeed(11);
    const model = new Misc();
    errors.opset18 = await roundTrip(ort!, model, [[kiln.randn([3, 6]), kiln.randn([3, 6])]], { opsetVersion: 18 });
    errors.opset21 = await roundTrip(ort!, new nn.Sequential(new nn.Linear(3, 4), new nn.LayerNorm(4)), [[kiln.randn([2, 3])]], { opsetVersion: 21 });
  });

  it('reports the largest relative error per case', () => {
    console.log('onnx round-trip relative errors:', JSON.stringify(errors));
    expect(Object.keys(errors).length).toBeGreaterThanOrEqual(16);
  });
});

describe('onnx.export errors', () => {
  it('names an op that cannot be exported', () => {
    kiln.manualSeed(0);
    const w = kiln.randn([3, 2, 2, 2]);
    class FunctionalUp extends nn.Module {
      forward(x: kiln.Tensor) { return F.convTranspose2d(x, w); }
    }
    expect(() => kiln.onnx.exportBytes(new FunctionalUp(), kiln.randn([1, 3, 4, 4]))).toThrow(/op 'col2im'.*nn\.ConvTranspose2d/);
    class Loss extends nn.Module {
      forward(x: kiln.Tensor) { return F.crossEntropy(x, kiln.tensor([0, 1], { dtype: 'int32' })); }
    }
    expect(() => kiln.onnx.exportBytes(new Loss(), kiln.randn([2, 3]))).toThrow(/op 'crossEntropy'/);
    w.dispose();
  });

  it('refuses values read on the host, in-place writes and untraced views instead of baking them in', () => {
    class HostRead extends nn.Module {
      forward(x: kiln.Tensor) { return x.mul(x.mean().item()); }
    }
    expect(() => kiln.onnx.exportBytes(new HostRead(), kiln.randn([4, 3]))).toThrow(/attribute 'alpha' of unary takes another value/);
    class HostTensor extends nn.Module {
      forward(x: kiln.Tensor) { return x.sub(kiln.tensor([x.max().item()])); }
    }
    expect(() => kiln.onnx.exportBytes(new HostTensor(), kiln.randn([4, 3]))).toThrow(/sub reads a tensor \[1\] made inside forward whose values/);
    class Branch extends nn.Module {
      forward(x: kiln.Tensor) { return x.sum().item() > 0 ? x.relu() : x.neg().exp().add(1); }
    }
    // the shuffled second input may take the other branch: either the ops or a constant differs
    const x = kiln.tensor([[3, -1], [2, -5]]);
    expect(() => kiln.onnx.exportBytes(new Branch(), x, batchDyn)).toThrow(/onnx\.export/);
    class InPlace extends nn.Module {
      forward(x: kiln.Tensor) { const y = x.mul(2); y.add_(1); return y.relu(); }
    }
    expect(() => kiln.onnx.exportBytes(new InPlace(), kiln.randn([2, 3]))).toThrow(/modified in place/);
    class SizedFromInput extends nn.Module {
      forward(x: kiln.Tensor) { return x.add(kiln.ones([x.shape[0], 1])); }
    }
    expect(() => kiln.onnx.exportBytes(new SizedFromInput(), kiln.randn([2, 3]), batchDyn)).toThrow(/made inside forward/);
  });

  it('checks its arguments', () => {
    const m = new nn.Linear(3, 2);
    const x = kiln.randn([2, 3]);
    expect(() => kiln.onnx.exportBytes(m, x, { opset: 17 } as any)).toThrow(/unknown option 'opset'/);
    expect(() => kiln.onnx.exportBytes(m, x, { opsetVersion: 13 })).toThrow(/opsetVersion/);
    expect(() => kiln.onnx.exportBytes(m, x, { inputNames: ['a', 'b'] })).toThrow(/inputNames: expected 1 names/);
    expect(() => kiln.onnx.exportBytes(m, x, { outputNames: ['a', 'b'] })).toThrow(/outputNames: expected 1 names/);
    expect(() => kiln.onnx.exportBytes(m, x, { dynamicAxes: { input: [2] } })).toThrow(/axis 2 is out of range/);
    expect(() => kiln.onnx.exportBytes(m, x, { dynamicAxes: { nope: [0] } })).toThrow(/'nope' is not an input or output name/);
    expect(() => kiln.onnx.exportBytes(m, x, { dynamicAxes: { output: [1] } })).toThrow(/axis 1 does not change size/);
    expect(() => kiln.onnx.exportBytes({} as any, x)).toThrow(/model: expected an nn.Module/);
    expect(() => kiln.onnx.exportBytes(m, kiln.zeros([0, 3]))).toThrow(/non-empty/);
  });
});

describe.skipIf(!hasPythonOnnx())('python3-onnx checker', () => {
  it('accepts the exported files (full check, shape inference included)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
    kiln.manualSeed(12);
    const cnn = new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.ConvTranspose2d(4, 2, 2, { stride: 2 }), new nn.Flatten(), new nn.Linear(2 * 8 * 8, 3), new nn.LayerNorm(3), new nn.Softmax(1));
    const cases: [string, kiln.nn.Module, kiln.Tensor[], kiln.onnx.ExportOptions][] = [
      ['cnn', cnn, [kiln.randn([2, 1, 8, 8])], batchDyn],
      ['lstm', new WithState(), [kiln.randn([4, 3, 5]), kiln.randn([2, 3, 6]), kiln.randn([2, 3, 6])],
        { dynamicAxes: { input_0: [0, 1], input_1: [1], input_2: [1] } }],
      ['gru', new GruState(), [kiln.randn([3, 4, 5]), kiln.randn([2, 3, 6])], {}],
      ['shapes', new Shapes(), [kiln.randint(0, 16, [3, 6])], { dynamicAxes: { input: [0, 1] } }],
      ['misc', new Misc(), [kiln.randn([3, 6]), kiln.randn([3, 6])], {}],
    ];
    const paths = [];
    for (const [name, model, inputs, opts] of cases) {
      const path = join(dir, `${name}.onnx`);
      await kiln.onnx.export(model, inputs, path, opts);
      paths.push(path);
    }
    expect(pythonCheck(paths)).toEqual(cases.map(() => 'ok'));
    // and a broken file is not
    writeFileSync(join(dir, 'bad.onnx'), Buffer.from([8, 8, 0x12, 3, 1, 2, 3]));
    expect(pythonCheck([join(dir, 'bad.onnx')])[0]).not.toBe('ok');
  });
});
