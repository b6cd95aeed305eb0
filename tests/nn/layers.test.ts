// Each layer's forward and gradients against PyTorch (tests/fixtures/nn/make_fixtures.py, float64):
// the same state dict and input, gradients of sum(output * W).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn } = kiln;
type Arr = { shape: number[]; data: number[] };
const cases = JSON.parse(readFileSync(new URL('../fixtures/nn/layers.json', import.meta.url), 'utf8'));
const rnnStates = JSON.parse(readFileSync(new URL('../fixtures/nn/rnn_states.json', import.meta.url), 'utf8'));

const toTensor = (a: Arr, dtype: 'float32' | 'int32' = 'float32') => kiln.tensor(a.data, { shape: a.shape, dtype });

function expectClose(got: kiln.Tensor, want: Arr, tol: number, what: string) {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const g = got.toTypedArray();
  const scale = Math.max(1, ...want.data.map(Math.abs));
  let worst = 0;
  want.data.forEach((w, i) => (worst = Math.max(worst, Math.abs(g[i] - w))));
  expect(worst / scale, `${what}: max abs error ${worst}`).toBeLessThan(tol);
}

const builders: Record<string, () => kiln.nn.Module> = {
  linear: () => new nn.Linear(5, 3),
  linear3d: () => new nn.Linear(5, 3),
  conv2d: () => new nn.Conv2d(3, 4, 3, { stride: 2, padding: 1 }),
  conv2dDilated: () => new nn.Conv2d(2, 3, [3, 2], { padding: [2, 1], dilation: 2, bias: false }),
  convTranspose2d: () => new nn.ConvTranspose2d(3, 2, 3, { stride: 2, padding: 1, outputPadding: 1 }),
  convTranspose2dPlain: () => new nn.ConvTranspose2d(2, 3, [2, 3]),
  maxPool2d: () => new nn.MaxPool2d(2),
  avgPool2d: () => new nn.AvgPool2d(3, { stride: 2, padding: 1 }),
  batchNorm2dTrain: () => new nn.BatchNorm2d(3),
  batchNorm2dEval: () => new nn.BatchNorm2d(3).eval(),
  batchNorm1d: () => new nn.BatchNorm1d(4),
  layerNorm: () => new nn.LayerNorm([4, 5]),
  embedding: () => new nn.Embedding(10, 4),
  embeddingPadding: () => new nn.Embedding(10, 4, { paddingIdx: 2 }),
  rnn: () => new nn.RNN(4, 5, { numLayers: 2 }),
  rnnRelu: () => new nn.RNN(4, 5, { nonlinearity: 'relu', batchFirst: true }),
  lstm: () => new nn.LSTM(4, 5, { numLayers: 2, batchFirst: true }),
  lstmTimeMajor: () => new nn.LSTM(3, 4),
  gru: () => new nn.GRU(4, 5, { numLayers: 2, batchFirst: true }),
  gruTimeMajor: () => new nn.GRU(3, 4),
};

describe('nn layers match PyTorch (rel. 1e-4 of the largest value)', () => {
  for (const [name, c] of Object.entries<any>(cases)) {
    it(name, () => {
      const layer = builders[name]();
      const state: Record<string, kiln.Tensor> = {};
      for (const [k, v] of Object.entries<Arr>(c.state)) state[k] = toTensor(v, k.endsWith('num_batches_tracked') ? 'int32' : 'float32');
      layer.loadStateDict(state);
      const isIndex = name.startsWith('embedding');
      const x = toTensor(c.input, isIndex ? 'int32' : 'float32');
      if (!isIndex) x.requiresGrad = true;
      let out = layer.forward(x);
      if (Array.isArray(out)) out = out[0];
      expectClose(out, c.out, 1e-4, 'output');
      out.mul(toTensor(c.w)).sum().backward();
      if (c.gradInput) expectClose(x.grad!, c.gradInput, 1e-4, 'input gradient');
      const params = Object.fromEntries(layer.namedParameters());
      for (const [k, g] of Object.entries<Arr>(c.gradParams)) expectClose(params[k].grad!, g, 1e-4, `${k} gradient`);
      const after = layer.stateDict();
      for (const [k, v] of Object.entries<Arr>(c.stateAfter)) expectClose(after[k].float(), v, 1e-4, `${k} after the step`);
    });
  }
});

const rnnBuilders: Record<string, () => kiln.nn.Module> = {
  rnn: () => new nn.RNN(3, 4, { numLayers: 2, batchFirst: true }),
  lstm: () => new nn.LSTM(3, 4, { numLayers: 2 }),
  gru: () => new nn.GRU(3, 4, { numLayers: 2 }),
  gruBatchFirst: () => new nn.GRU(3, 4, { numLayers: 2, batchFirst: true, bias: false }),
};

describe('recurrent layers with a given initial state match PyTorch (output, final states, all gradients)', () => {
  for (const [name, c] of Object.entries<any>(rnnStates)) {
    it(name, () => {
      const layer = rnnBuilders[name]();
      const state: Record<string, kiln.Tensor> = {};
      for (const [k, v] of Object.entries<Arr>(c.state)) state[k] = toTensor(v);
      layer.loadStateDict(state);
      const x = toTensor(c.input).requiresGrad_();
      const h0 = (c.h0 as Arr[]).map((h) => toTensor(h).requiresGrad_());
      const [out, final] = layer.forward(x, h0.length === 2 ? h0 : h0[0]);
      const outs: kiln.Tensor[] = [out, ...(Array.isArray(final) ? final : [final])];
      expect(outs.length).toBe(c.out.length);
      outs.forEach((o, i) => expectClose(o, c.out[i], 1e-4, `output ${i}`));
      outs.map((o, i) => o.mul(toTensor(c.w[i])).sum()).reduce((a, b) => a.add(b)).backward();
      expectClose(x.grad!, c.gradInput, 1e-4, 'input gradient');
      h0.forEach((h, i) => expectClose(h.grad!, c.gradH0[i], 1e-4, `initial state ${i} gradient`));
      const params = Object.fromEntries(layer.namedParameters());
      expect(Object.keys(params).sort()).toEqual(Object.keys(c.gradParams).sort());
      for (const [k, g] of Object.entries<Arr>(c.gradParams)) expectClose(params[k].grad!, g, 1e-4, `${k} gradient`);
    });
  }
});
