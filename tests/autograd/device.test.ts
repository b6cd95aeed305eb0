// Device moves: t.to(device) is recorded, module.to() moves parameters in place (the same
// objects, so an optimizer built before stays valid), fit() moves batches to the model's device.
// Without a GPU these run on the CPU (tests/gpu/check-autograd.mjs runs them on CUDA).
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { moduleDevice } from '../../src/nn/module.js';

const vals = (t: Tensor | null) => Array.from(t!.toTypedArray());

describe('device moves', () => {
  it('to() the same device is the tensor itself; to a missing CUDA device is a KilnError saying why', () => {
    const x = kiln.tensor([1, 2], { requiresGrad: true });
    expect(x.to('cpu')).toBe(x);
    if (!kiln.cuda.isAvailable()) expect(() => x.to('cuda')).toThrow(/CUDA is not available/);
    expect(() => x.to('gpu' as any)).toThrow(/device: expected 'cpu', 'cuda' or 'cuda:N'/);
  });

  it('_replaceStorage (the in-place move of module.to): same object, memory accounted, scope kept, saved graphs refuse', () => {
    const base = kiln.memory();
    // a kept tensor stays kept, its old views keep the old storage
    const p = kiln.keep(kiln.tensor([1, 2, 3], { requiresGrad: true }));
    kiln.scope(() => {
      const view = p.detach().narrow(0, 1, 2);
      const y = p.square().sum(); // square reads p
      const fresh = kiln.noGrad(() => p.mul(10));
      p._replaceStorage(fresh);
      expect(vals(p)).toEqual([10, 20, 30]);
      expect(vals(view)).toEqual([2, 3]);
      expect(() => y.backward()).toThrow(/modified in place/);
    });
    expect(p.isDisposed).toBe(false);
    // a tensor made in a scope is still freed by it
    kiln.scope(() => {
      const t = kiln.tensor([1, 2]);
      const u = kiln.tensor([3, 4]);
      t._replaceStorage(u);
      u.dispose();
      expect(vals(t)).toEqual([3, 4]);
    });
    p.dispose();
    const end = kiln.memory();
    expect(end.tensors).toBe(base.tensors);
    expect(end.bytes).toBe(base.bytes);
  });

  it('module.to() keeps the same Parameter objects (an optimizer built before stays valid); moduleDevice reports the device', () => {
    kiln.manualSeed(4);
    const model = new kiln.nn.Sequential(new kiln.nn.Linear(3, 2), new kiln.nn.BatchNorm1d(2));
    const before = model.parameters();
    const buffers = model.buffers();
    const opt = new kiln.optim.SGD(model.parameters(), { lr: 0.5 });
    expect(model.to('cpu')).toBe(model);
    expect(model.parameters()).toEqual(before);
    model.parameters().forEach((p, i) => expect(p).toBe(before[i]));
    model.buffers().forEach((b, i) => expect(b).toBe(buffers[i]));
    expect(moduleDevice(model)).toBe('cpu');
    const w0 = vals(before[0]);
    kiln.F.mseLoss(model.forward(kiln.randn([4, 3])), kiln.zeros([4, 2])).backward();
    opt.step();
    expect(vals(before[0])).not.toEqual(w0);
  });

  it('fit() sends each batch to the model\'s device (here the CPU) and trains', async () => {
    kiln.manualSeed(5);
    const x = kiln.randn([32, 2]);
    const y = x.sum(1).gt(0).int();
    const model = new kiln.nn.Sequential(new kiln.nn.Linear(2, 8), new kiln.nn.Tanh(), new kiln.nn.Linear(8, 2));
    const opt = new kiln.optim.Adam(model.parameters(), { lr: 0.05 });
    const history = await kiln.fit(model, { trainData: new kiln.data.TensorDataset(x, y), batchSize: 8, epochs: 15, optimizer: opt, verbose: false });
    expect(history.epochs.at(-1)!.loss).toBeLessThan(history.epochs[0].loss * 0.5);
  });
});
