// Module mechanics: parameter discovery and names, state dicts (strict and not), train/eval,
// PyTorch's default initialisation ranges, gradient clipping, and learning a separable problem.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn, F, optim } = kiln;

const mlp = () => new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Dropout(0.5), new nn.Linear(8, 3));

describe('nn.Module', () => {
  it('names parameters and buffers as PyTorch does', () => {
    expect(mlp().namedParameters().map(([k]) => k)).toEqual(['0.weight', '0.bias', '3.weight', '3.bias']);
    const bn = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
    expect(Object.keys(bn.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    expect(lstm.namedParameters().map(([k]) => k)).toContain('bias_hh_l1');
    // w_ih_l0 16x3, w_hh_l0 16x4, w_ih_l1 and w_hh_l1 16x4, four biases of 16
    expect(lstm.numParameters()).toBe(16 * 3 + 3 * 16 * 4 + 4 * 16);
  });

  it('round-trips a state dict and copies values', () => {
    const a = mlp();
    const b = mlp();
    b.loadStateDict(a.stateDict());
    const x = kiln.randn([5, 4]);
    a.eval();
    b.eval();
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
  });

  it('strict loading lists missing, unexpected and mis-shaped keys and changes nothing', () => {
    const m = mlp();
    const before = m.stateDict()['0.weight'].toArray();
    const sd = { ...mlp().stateDict() } as Record<string, kiln.Tensor>;
    delete sd['3.bias'];
    sd['extra.weight'] = kiln.zeros([1]);
    sd['0.weight'] = kiln.zeros([8, 5]);
    expect(() => m.loadStateDict(sd)).toThrow(/missing keys: 3\.bias; unexpected keys: extra\.weight; mis-shaped: 0\.weight: expected shape \[8, 4\], got \[8, 5\]/);
    expect(m.stateDict()['0.weight'].toArray()).toEqual(before);
    delete sd['0.weight'];
    const r = m.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missingKeys: ['0.weight', '3.bias'], unexpectedKeys: ['extra.weight'] });
    expect(m.stateDict()['3.weight'].toArray()).toEqual(sd['3.weight'].toArray());
  });

  it('train/eval switches dropout and batch norm', () => {
    const m = mlp();
    const x = kiln.randn([64, 4]);
    kiln.manualSeed(1);
    const t1 = m.forward(x).toArray();
    kiln.manualSeed(2);
    const t2 = m.forward(x).toArray();
    expect(t1).not.toEqual(t2); // dropout draws differ in training
    m.eval();
    expect(m.modules().every((s) => !s.training)).toBe(true);
    expect(m.forward(x).toArray()).toEqual(m.forward(x).toArray());
  });

  it("uses PyTorch's default initialisation ranges", () => {
    kiln.manualSeed(0);
    const lin = new nn.Linear(400, 300);
    const w = lin.weight.toTypedArray();
    const bound = 1 / Math.sqrt(400);
    expect(Math.max(...w)).toBeLessThanOrEqual(bound);
    expect(Math.min(...w)).toBeGreaterThanOrEqual(-bound);
    // U(-b, b) has standard deviation b / sqrt(3)
    expect(lin.weight.std().item()).toBeCloseTo(bound / Math.sqrt(3), 3);
    const emb = new nn.Embedding(1000, 50);
    expect(emb.weight.std().item()).toBeCloseTo(1, 1);
    const conv = new nn.Conv2d(8, 16, 3);
    const cb = 1 / Math.sqrt(8 * 9);
    expect(conv.weight.abs().max().item()).toBeLessThanOrEqual(cb);
  });

  it('clipGradNorm scales gradients to the norm and returns the old one', () => {
    const p = kiln.tensor([3, 4], { requiresGrad: true });
    const q = kiln.tensor([12], { requiresGrad: true });
    p.mul(p).mul(0.5).sum().add(q.mul(q).mul(0.5).sum()).backward(); // grads = values
    const total = nn.utils.clipGradNorm([p, q], 6.5);
    expect(total).toBeCloseTo(13, 5);
    expect(p.grad!.toArray()).toEqual([expect.closeTo(1.5, 5), expect.closeTo(2, 5)]);
    expect((q.grad!.toArray() as number[])[0]).toBeCloseTo(6, 5);
  });

  it('moving to an unavailable device names the reason', () => {
    expect(() => mlp().to('cuda')).toThrow(/cuda:0 was requested but CUDA is not available: /);
  });

  it('an MLP and a small CNN learn a separable problem', () => {
    kiln.manualSeed(3);
    const x = kiln.randn([256, 1, 8, 8]);
    // the class is which quadrant holds the largest mean
    const q = [0, 4].flatMap((r) => [0, 4].map((c) => x.narrow(2, r, 4).narrow(3, c, 4).mean([1, 2, 3])));
    const y = kiln.stack(q, 1).argmax(1);
    const models = {
      mlp: new nn.Sequential(new nn.Flatten(), new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 4)),
      cnn: new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
        new nn.Flatten(), new nn.Linear(8 * 16, 4)),
    };
    for (const [name, model] of Object.entries(models)) {
      const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
      for (let i = 0; i < 200; i++) {
        kiln.scope(() => {
          const loss = F.crossEntropy(model.forward(x), y);
          opt.zeroGrad();
          loss.backward();
          opt.step();
        });
      }
      const acc = kiln.noGrad(() => model.forward(x).argmax(1).eq(y).mean().item());
      expect(acc, name).toBeGreaterThan(0.9);
    }
  });
});
