// Each loss against PyTorch (tests/fixtures/nn/make_fixtures.py, float64): value and input gradient
// of sum(loss * W), including ignoreIndex, label smoothing, probability targets, class weights,
// posWeight and extreme logits; plus bad targets.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { F, nn } = kiln;
type Arr = { shape: number[]; data: number[] };
const cases = JSON.parse(readFileSync(new URL('../fixtures/nn/losses.json', import.meta.url), 'utf8'));
const toTensor = (a: Arr, dtype: 'float32' | 'int32' = 'float32') => kiln.tensor(a.data, { shape: a.shape, dtype });

function expectClose(got: kiln.Tensor, want: Arr, tol: number, what: string) {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const g = got.toTypedArray();
  const scale = Math.max(1, ...want.data.map(Math.abs));
  want.data.forEach((w, i) => expect(Math.abs(g[i] - w) / scale, `${what}[${i}]: ${g[i]} vs ${w}`).toBeLessThan(tol));
}

const fns: Record<string, (x: kiln.Tensor, t: kiln.Tensor, o: any) => kiln.Tensor> = {
  ce: F.crossEntropy, nll: F.nllLoss, bce: F.binaryCrossEntropy, bcel: F.binaryCrossEntropyWithLogits,
  mse: F.mseLoss, l1: F.l1Loss, huber: F.huberLoss, smoothl1: F.smoothL1Loss,
};
const optionNames: Record<string, string> = { label_smoothing: 'labelSmoothing', pos_weight: 'posWeight' };

describe('losses match PyTorch', () => {
  for (const [name, c] of Object.entries<any>(cases)) {
    it(name, () => {
      const fn = fns[name.split('_')[0]];
      const integerTarget = c.target.data.every(Number.isInteger) && (name.startsWith('ce') || name.startsWith('nll')) && c.target.shape.length !== c.input.shape.length;
      const target = toTensor(c.target, integerTarget ? 'int32' : 'float32');
      const opts: Record<string, unknown> = {};
      for (const [k, v] of Object.entries<any>(c.kwargs)) opts[optionNames[k] ?? k] = typeof v === 'object' ? toTensor(v) : v;
      const x = toTensor(c.input).requiresGrad_();
      const out = fn(x, target, opts);
      expectClose(out, c.out, 1e-5, 'loss');
      out.mul(toTensor(c.w)).sum().backward();
      expectClose(x.grad!, c.gradInput, 1e-5, 'input gradient');
    });
  }

  it('loss modules give the functional values', () => {
    const x = kiln.randn([4, 3]);
    const t = kiln.randint(0, 3, [4]);
    expect(new nn.CrossEntropyLoss({ labelSmoothing: 0.1 }).forward(x, t).item()).toBe(F.crossEntropy(x, t, { labelSmoothing: 0.1 }).item());
    const y = kiln.rand([4, 3]);
    expect(new nn.HuberLoss({ delta: 0.5 }).forward(x, y).item()).toBe(F.huberLoss(x, y, { delta: 0.5 }).item());
  });

  it('bad targets name the argument', () => {
    const x = kiln.randn([4, 3]);
    expect(() => F.crossEntropy(x, kiln.tensor([0, 1, 2, 3], { dtype: 'int32' }))).toThrow(/target: index 3 is out of range \[0, 3\)/);
    expect(() => F.crossEntropy(x, kiln.tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(/target: expected class indices of shape \[4\]/);
    expect(() => F.crossEntropy(x, kiln.randn([4, 2]))).toThrow(/target: class probabilities must have the input's shape/);
    expect(() => F.mseLoss(x, kiln.randn([4]))).toThrow(/target: expected the input's shape \[4, 3\]/);
    expect(() => F.mseLoss(x, kiln.zeros([4, 3], { dtype: 'int32' }))).toThrow(/target: expected a float32 tensor/);
    expect(() => F.binaryCrossEntropy(x, kiln.rand([4, 3]))).toThrow(/input: binaryCrossEntropy expects probabilities in \[0, 1\]/);
    expect(() => F.nllLoss(x, kiln.tensor([0, 1, 2, 5], { dtype: 'int32' }))).toThrow(/index 5 is out of range/);
    expect(() => F.mseLoss(x, x, { reduction: 'avg' as any })).toThrow(/reduction: expected 'mean', 'sum' or 'none'/);
  });
});
