// train/eval switching (Dropout, BatchNorm against float64 arithmetic), registration helpers,
// buffers, zeroGrad and stateDict sharing/copy semantics.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn } = kiln;

describe('train and eval modes', () => {
  it('Dropout zeroes about p of the elements and scales the rest by 1/(1-p) in training only', () => {
    kiln.manualSeed(5);
    const d = new nn.Dropout(0.3);
    const x = kiln.full([100000], 2);
    const y = Array.from(d.forward(x).toTypedArray());
    const zeros = y.filter((v) => v === 0).length / y.length;
    expect(Math.abs(zeros - 0.3)).toBeLessThan(0.01); // binomial std ~0.0015
    expect(y.filter((v) => v !== 0).every((v) => Math.abs(v - 2 / 0.7) < 1e-6)).toBe(true);
    d.eval();
    expect(d.forward(x)).toBe(x);
  });

  it('BatchNorm2d uses batch statistics in training (updating running ones) and running ones in eval', () => {
    kiln.manualSeed(6);
    const bn = new nn.BatchNorm2d(2, { momentum: 0.5 });
    const x = kiln.randn([3, 2, 2, 2]).mul(3).add(1);
    const xs = Array.from(x.toTypedArray());
    // float64 per-channel statistics: element (n, c, i) sits at n*8 + c*4 + i
    const chan = (c: number) => [0, 1, 2].flatMap((n) => [0, 1, 2, 3].map((i) => xs[n * 8 + c * 4 + i]));
    const mean = [0, 1].map((c) => chan(c).reduce((a, b) => a + b, 0) / 12);
    const varB = [0, 1].map((c) => chan(c).reduce((a, v) => a + (v - mean[c]) ** 2, 0) / 12);
    const yTrain = Array.from(bn.forward(x).toTypedArray());
    xs.forEach((v, k) => {
      const c = Math.floor(k / 4) % 2;
      expect(yTrain[k]).toBeCloseTo((v - mean[c]) / Math.sqrt(varB[c] + 1e-5), 4);
    });
    const rm = [0, 1].map((c) => 0.5 * mean[c]);
    const rv = [0, 1].map((c) => 0.5 + 0.5 * varB[c] * 12 / 11); // unbiased variance, as PyTorch
    (bn.running_mean!.toArray() as number[]).forEach((v, c) => expect(v).toBeCloseTo(rm[c], 5));
    (bn.running_var!.toArray() as number[]).forEach((v, c) => expect(v).toBeCloseTo(rv[c], 4));
    expect(bn.num_batches_tracked!.item()).toBe(1);
    bn.eval();
    const yEval = Array.from(bn.forward(x).toTypedArray());
    xs.forEach((v, k) => {
      const c = Math.floor(k / 4) % 2;
      expect(yEval[k]).toBeCloseTo((v - rm[c]) / Math.sqrt(rv[c] + 1e-5), 4);
    });
    expect(bn.num_batches_tracked!.item()).toBe(1); // eval leaves the statistics alone
    expect((bn.running_mean!.toArray() as number[])[0]).toBeCloseTo(rm[0], 5);
  });

  it('BatchNorm without running statistics normalises with the batch in eval too', () => {
    const bn = new nn.BatchNorm1d(3, { trackRunningStats: false, affine: false }).eval();
    expect(bn.parameters()).toEqual([]);
    expect(bn.buffers()).toEqual([]);
    const y = bn.forward(kiln.tensor([[1, 2, 3], [3, 6, 9]]));
    const s = 1 / Math.sqrt(1 + 1e-5);
    (y.toArray() as number[][]).flat().forEach((v, i) => expect(v).toBeCloseTo(i < 3 ? -s : s, 5));
  });

  it('train(false) and eval() reach nested children; RNN dropout acts only in training', () => {
    kiln.manualSeed(7);
    const inner = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout());
    const m = new nn.Sequential(inner, new nn.ReLU());
    m.train(false);
    expect(m.modules().map((s) => s.training)).toEqual([false, false, false, false, false]);
    m.train();
    expect(inner.at(1).training).toBe(true);
    const gru = new nn.GRU(3, 4, { numLayers: 2, dropout: 0.5 });
    const x = kiln.randn([5, 2, 3]);
    const a = gru.forward(x)[0].toArray();
    const b = gru.forward(x)[0].toArray();
    expect(a).not.toEqual(b);
    gru.eval();
    expect(gru.forward(x)[0].toArray()).toEqual(gru.forward(x)[0].toArray());
  });
});

describe('Module state', () => {
  class Net extends nn.Module {
    fc = new nn.Linear(3, 2);
    scale: kiln.Tensor | null = null;
    head: kiln.nn.Module | null = null;
    constructor() {
      super();
      this.registerParameter('scale', kiln.ones([2]));
      this.registerModule('head', new nn.Linear(2, 1));
      this.registerBuffer('count', kiln.zeros([1]));
      this.registerBuffer('cache', kiln.zeros([2]), false);
    }
    forward(x: kiln.Tensor) { return this.head!.forward(this.fc.forward(x).mul(this.scale!)); }
  }

  it('registers fields, parameters, modules and buffers (non-persistent ones stay out of the state dict)', () => {
    const n = new Net();
    // as PyTorch: a module's own parameters before its children's
    expect(n.namedParameters().map(([k]) => k)).toEqual(['scale', 'fc.weight', 'fc.bias', 'head.weight', 'head.bias']);
    expect(n.namedChildren().map(([k]) => k)).toEqual(['fc', 'head']);
    expect(n.namedBuffers().map(([k]) => k)).toEqual(['count', 'cache']);
    expect(Object.keys(n.stateDict())).toEqual(['scale', 'count', 'fc.weight', 'fc.bias', 'head.weight', 'head.bias']);
    expect(n.scale!.requiresGrad).toBe(true);
    expect(() => n.registerModule('bad', {} as any)).toThrow(/bad: expected an nn.Module/);
  });

  it('lists a shared parameter once, but saves it under each name as PyTorch', () => {
    const a = new nn.Linear(2, 2);
    const m = new nn.Sequential(a, new nn.ReLU(), a);
    expect(m.parameters().length).toBe(2);
    expect(Object.keys(m.stateDict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    m.loadStateDict(new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 2)).stateDict());
    expect(m.to('cpu')).toBe(m);
    expect(m.at(0)).toBe(m.at(2));
  });

  it('stateDict holds detached tensors sharing storage; loadStateDict copies', () => {
    const m = new nn.Linear(2, 2);
    const sd = m.stateDict();
    expect(sd.weight.requiresGrad).toBe(false);
    kiln.noGrad(() => sd.bias.fill_(7));
    expect(m.bias!.toArray()).toEqual([7, 7]);
    const src = { weight: kiln.ones([2, 2]), bias: kiln.zeros([2]) };
    m.loadStateDict(src);
    src.weight.fill_(3);
    expect(m.weight.toArray()).toEqual([[1, 1], [1, 1]]);
    expect(m.weight.requiresGrad).toBe(true);
  });

  it('zeroGrad clears every gradient to null', () => {
    const m = new nn.Sequential(new nn.Linear(2, 3), new nn.Tanh(), new nn.Linear(3, 1));
    m.forward(kiln.randn([4, 2])).sum().backward();
    expect(m.parameters().every((p) => p.grad !== null)).toBe(true);
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('Embedding paddingIdx: the row starts at zero and gets no gradient', () => {
    const e = new nn.Embedding(5, 3, { paddingIdx: -1 });
    expect(e.paddingIdx).toBe(4);
    expect(e.weight.select(0, 4).toArray()).toEqual([0, 0, 0]);
    e.forward(kiln.tensor([4, 1, 4], { dtype: 'int32' })).sum().backward();
    expect(e.weight.grad!.toArray()).toEqual([[0, 0, 0], [1, 1, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    expect(() => new nn.Embedding(5, 3, { paddingIdx: 5 })).toThrow(/paddingIdx: 5 is out of range/);
  });

  it('bad layer inputs name the argument', () => {
    expect(() => new nn.Linear(3, 2).forward(kiln.zeros([4, 5]))).toThrow(/input: expected last dim 3/);
    expect(() => new nn.LSTM(3, 4).forward(kiln.zeros([5, 2, 2]))).toThrow(/input: expected \[seq, batch, 3\]/);
    expect(() => new nn.GRU(3, 4).forward(kiln.zeros([0, 2, 3]))).toThrow(/input: expected a non-empty sequence and batch, got \[0, 2, 3\]/);
    expect(() => new nn.GRU(3, 4).forward(kiln.zeros([5, 2, 3]), kiln.zeros([1, 3, 4]))).toThrow(/h0: expected shape \[1, 2, 4\]/);
    expect(() => new nn.RNN(3, 4, { nonlinearity: 'gelu' as any })).toThrow(/nonlinearity: expected 'tanh' or 'relu'/);
    expect(() => new nn.BatchNorm2d(3).forward(kiln.zeros([2, 4, 2, 2]))).toThrow(/input: expected 4 dims with 3 channels/);
  });
});
