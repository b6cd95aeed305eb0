// Every options object of the public API refuses keys it does not know (a typo is an error, not
// a silent default): a sample across the API, each naming the unknown key.
import { describe, expect, it } from 'vitest';
import * as kiln from '../src/index.js';

const { nn, optim, F, data } = kiln;

describe('unknown option keys are KilnErrors', () => {
  const x = kiln.zeros([2, 3]);
  const p = [kiln.zeros([2], { requiresGrad: true })];
  const cases: [string, () => unknown][] = [
    ['tensor', () => kiln.tensor([1], { dtpye: 'int32' } as any)],
    ['zeros', () => kiln.zeros([2], { device: 'cpu', requires_grad: true } as any)],
    ['randn', () => kiln.randn([2], { seed: 1 } as any)],
    ['arange', () => kiln.arange(0, 3, 1, { dtype: 'int32', step: 2 } as any)],
    ['var', () => x.var(1, { corection: 0 } as any)],
    ['std', () => kiln.std(x, 0, { ddof: 1 } as any)],
    ['SGD', () => new optim.SGD(p, { lr: 0.1, momentun: 0.9 } as any)],
    ['Adam', () => new optim.Adam(p, { learningRate: 1e-3 } as any)],
    ['AdamW', () => new optim.AdamW(p, { weight_decay: 0.1 } as any)],
    ['StepLR', () => new optim.lrScheduler.StepLR(new optim.SGD(p, { lr: 0.1 }), { stepSize: 1, gama: 0.5 } as any)],
    ['crossEntropy', () => F.crossEntropy(x, kiln.zeros([2], { dtype: 'int32' }), { label_smoothing: 0.1 } as any)],
    ['mseLoss', () => F.mseLoss(x, x, { reduce: 'sum' } as any)],
    ['Linear', () => new nn.Linear(2, 3, { useBias: false } as any)],
    ['Conv2d', () => new nn.Conv2d(1, 1, 3, { pad: 1 } as any)],
    ['conv2d', () => F.conv2d(kiln.zeros([1, 1, 3, 3]), kiln.zeros([1, 1, 3, 3]), null, { strides: 1 } as any)],
    ['LayerNorm', () => new nn.LayerNorm(3, { epsilon: 1e-5 } as any)],
    ['BatchNorm2d', () => new nn.BatchNorm2d(3, { track_running_stats: false } as any)],
    ['CrossEntropyLoss', () => new nn.CrossEntropyLoss({ ignore_index: 0 } as any)],
    ['DataLoader', () => new data.DataLoader(new data.TensorDataset(x), { batch_size: 2 } as any)],
    ['loadStateDict', () => new nn.Linear(2, 3).loadStateDict({}, { strict: false, assign: true } as any)],
    ['backward', () => x.sum().backward({ retain_graph: true } as any)],
    ['baddbmm', () => kiln.baddbmm(kiln.zeros([1, 2, 2]), kiln.zeros([1, 2, 2]), kiln.zeros([1, 2, 2]), { gamma: 1 } as any)],
    ['pad', () => F.pad(x, [1, 1], { padding_mode: 'reflect' } as any)],
    ['MultiheadAttention', () => new nn.MultiheadAttention(4, 2, { batch_first: true } as any)],
  ];
  for (const [name, call] of cases) {
    it(name, () => {
      expect(call).toThrow(kiln.KilnError);
      expect(call).toThrow(/unknown option/);
    });
  }
  it('the known keys still pass, and a non-object is refused', () => {
    expect(kiln.zeros([2], { dtype: 'int32', device: 'cpu', requiresGrad: false }).dtype).toBe('int32');
    expect(() => new optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, dampening: 0, weightDecay: 0, maximize: false })).not.toThrow();
    expect(() => new nn.Linear(2, 3, 'bias' as any)).toThrow(/expected an options object/);
  });
});
