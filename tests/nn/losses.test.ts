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

  it('stays finite for saturated inputs: ±1e4 logits, probabilities of exactly 0 and 1', () => {
    const logits = kiln.tensor([[1e4, -1e4, 0], [-1e4, 1e4, 5e3]], { requiresGrad: true });
    const ce = F.crossEntropy(logits, kiln.tensor([1, 1], { dtype: 'int32' }));
    expect(ce.item()).toBeCloseTo(1e4, 0); // row 0 pays 2e4, row 1 pays ~0
    ce.backward();
    expect(Array.from(logits.grad!.toTypedArray()).every(Number.isFinite)).toBe(true);
    const z = kiln.tensor([1e4, -1e4, 30, -30], { requiresGrad: true });
    const bcel = F.binaryCrossEntropyWithLogits(z, kiln.tensor([0, 1, 1, 0]), { reduction: 'sum' });
    expect(bcel.item()).toBeCloseTo(2e4, 0);
    bcel.backward();
    (z.grad!.toArray() as number[]).forEach((g, i) => expect(g).toBeCloseTo([1, -1, 0, 0][i], 6));
    const p = kiln.sigmoid(kiln.tensor([40, -40], { requiresGrad: true })); // exactly 1 and 0 in float32
    const bce = F.binaryCrossEntropy(p, kiln.tensor([1, 0]));
    expect(bce.item()).toBe(0);
  });

  it('the mean with ignoreIndex divides by the number of kept targets', () => {
    const x = kiln.tensor([[0, 0], [0, 0], [5, 1]]);
    const t = kiln.tensor([0, -1, -1], { dtype: 'int32' });
    expect(F.crossEntropy(x, t, { ignoreIndex: -1 }).item()).toBeCloseTo(Math.log(2), 6);
    expect(F.crossEntropy(x, t, { ignoreIndex: -1, reduction: 'sum' }).item()).toBeCloseTo(Math.log(2), 6);
    expect(F.nllLoss(x, t, { ignoreIndex: -1 }).item()).toBeCloseTo(0, 6);
    const logp = kiln.tensor([[-1, -2], [-3, -4], [-5, -6]]);
    const rows = new nn.NLLLoss({ ignoreIndex: -1, reduction: 'none' }).forward(logp, kiln.tensor([1, -1, 0], { dtype: 'int32' }));
    (rows.toArray() as number[]).forEach((v, i) => expect(v).toBeCloseTo([2, 0, 5][i], 6));
    expect(F.nllLoss(logp, kiln.tensor([1, -1, 0], { dtype: 'int32' }), { ignoreIndex: -1 }).item()).toBeCloseTo(3.5, 6);
  });

  it('the mean with ignored targets: gradient of the kept rows over their count; all ignored gives NaN', () => {
    // float64 reference: d/dx_bc of mean over kept rows = (softmax_bc - [c == t_b]) / kept
    const xs = [[0.5, -1, 2], [1, 1, 1], [-2, 0.25, 3], [0, 3, -1]];
    const ts = [2, -1, 0, 1];
    const x = kiln.tensor(xs, { requiresGrad: true });
    const loss = F.crossEntropy(x, kiln.tensor(ts, { dtype: 'int32' }), { ignoreIndex: -1 });
    loss.backward();
    let want = 0;
    const grad = xs.map((row, b) => {
      const z = row.map(Math.exp);
      const s = z.reduce((a, v) => a + v, 0);
      if (ts[b] === -1) return row.map(() => 0);
      want += Math.log(s) - row[ts[b]];
      return row.map((_, c) => (z[c] / s - (c === ts[b] ? 1 : 0)) / 3);
    });
    expect(loss.item()).toBeCloseTo(want / 3, 6);
    (x.grad!.toArray() as number[][]).forEach((row, b) => row.forEach((g, c) => expect(g).toBeCloseTo(grad[b][c], 6)));
    expect(F.crossEntropy(x, kiln.tensor([-1, -1, -1, -1], { dtype: 'int32' }), { ignoreIndex: -1 }).item()).toBeNaN();
  });

  it('bad targets name the argument', () => {
    const x = kiln.randn([4, 3]);
    expect(() => F.crossEntropy(x, kiln.tensor([0, 1, 2, 3], { dtype: 'int32' }))).toThrow(/target: index 3 is out of range \[0, 3\)/);
    expect(() => F.crossEntropy(x, kiln.tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(/target: expected class indices of shape \[4\]/);
    expect(() => F.crossEntropy(x, kiln.randn([4, 2]))).toThrow(/target: class probabilities must have the input's shape/);
    expect(() => F.mseLoss(x, kiln.randn([4]))).toThrow(/target: expected the input's shape \[4, 3\]/);
    expect(() => F.mseLoss(x, kiln.zeros([4, 3], { dtype: 'int32' }))).toThrow(/target: expected a float32 tensor/);
    expect(() => F.binaryCrossEntropy(x, kiln.rand([4, 3]))).toThrow(/input: binaryCrossEntropy expects probabilities in \[0, 1\]/);
    expect(() => F.nllLoss(x, kiln.tensor([0, 1, 2, 5], { dtype: 'int32' }))).toThrow(/target: class index 5 is out of range \[0, 3\)/);
    expect(() => F.nllLoss(x, kiln.tensor([0, 1, 2], { dtype: 'int32' }))).toThrow(/target: expected class indices of shape \[4\]/);
    expect(() => F.nllLoss(x, kiln.zeros([4]))).toThrow(/target: expected int32 class indices, got float32/);
    expect(() => F.crossEntropy(x, kiln.zeros([4, 3], { dtype: 'int32' }))).toThrow(/target: expected class indices of shape \[4\]/);
    expect(() => F.crossEntropy(x, kiln.tensor([0, 1, 2, 1], { dtype: 'int32' }), { weight: kiln.ones([2]) })).toThrow(/weight: expected shape \[3\]/);
    expect(() => F.mseLoss(x, x, { reduction: 'avg' as any })).toThrow(/reduction: expected 'mean', 'sum' or 'none'/);
  });
});
