// Memory during backward: intermediate gradients are freed as soon as they are used, and
// training loops that use the new autograd features keep kiln.memory() flat.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { nn, F } = kiln;

describe('memory during backward', () => {
  it('a 16-layer MLP: the backward peak is the parameter gradients plus a few activations\' worth, not every intermediate gradient', () => {
    kiln.manualSeed(1);
    const width = 64;
    const batch = 256;
    const layers: kiln.nn.Module[] = [];
    for (let i = 0; i < 16; i++) layers.push(new nn.Linear(width, width), new nn.ReLU());
    const model = new nn.Sequential(...layers);
    const x = kiln.randn([batch, width]);
    const y = kiln.randint(0, width, [batch]);
    const activation = batch * width * 4;
    for (let round = 0; round < 2; round++) {
      kiln.scope(() => {
        model.zeroGrad();
        const loss = F.crossEntropy(model.forward(x), y);
        const before = kiln.memory().bytes;
        kiln.resetPeak();
        loss.backward();
        const peak = kiln.memory().peakBytes - before;
        const gradBytes = model.parameters().reduce((s, p) => s + 4 * p.grad!.numel, 0);
        if (process.env.KILN_PRINT) console.log(`backward peak ${peak} bytes: ${gradBytes} of parameter gradients, activation ${activation}`);
        // all 32 intermediate gradients kept to the end would be 32 activations; freed as used, a few at a time
        expect(peak - gradBytes).toBeLessThanOrEqual(4 * activation);
        // nothing made by backward is left but the .grad tensors (and cross-entropy's buffers were freed)
        expect(kiln.memory().bytes - before).toBeLessThanOrEqual(gradBytes);
      });
    }
  });

  it('a convolution\'s weight gradient sums the batch without storing a product per image', () => {
    // 16 images: the per-image products of the weight gradient, stored and then summed, would
    // take 16 times the gradient itself (33.5 MB here, against a 2 MB gradient)
    kiln.manualSeed(3);
    const cases: [string, kiln.nn.Module, Tensor][] = [
      ['conv2d', new nn.Conv2d(64, 512, 4, { padding: 1 }), kiln.randn([16, 64, 4, 4])],
      ['convTranspose2d', new nn.ConvTranspose2d(512, 64, 4, { stride: 2, padding: 1 }), kiln.randn([16, 512, 2, 2])],
    ];
    for (const [name, layer, x0] of cases) {
      const w = layer.parameters()[0];
      const gradBytes = 4 * w.numel;
      for (const createGraph of [false, true]) {
        kiln.scope(() => {
          layer.zeroGrad();
          const x = x0.detach().requiresGrad_();
          const loss = layer.forward(x).square().sum();
          const before = kiln.memory().bytes;
          kiln.resetPeak();
          const [gw] = kiln.autograd.grad(loss, [w], { createGraph }) as Tensor[];
          const peak = kiln.memory().peakBytes - before;
          if (process.env.KILN_PRINT) console.log(`${name} createGraph ${createGraph}: peak ${peak} bytes, gradient ${gradBytes}`);
          expect(peak, name).toBeLessThan(4 * gradBytes);
          // the value: the sum of the 16 single-image gradients
          const perImage = Array.from({ length: x0.shape[0] }, (_, n) => {
            const xn = x0.narrow(0, n, 1);
            return kiln.autograd.grad(layer.forward(xn).square().sum(), [w])[0] as Tensor;
          });
          const ref = perImage.reduce((acc, g) => acc.add(g));
          expect(gw.sub(ref).abs().max().item() / ref.abs().max().item(), name).toBeLessThan(1e-5);
        });
      }
    }
  });

  it('training loops with createGraph (a gradient penalty), checkpointing and hooks keep the tensor count (live + collected) flat', () => {
    kiln.manualSeed(2);
    const critic = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 1));
    const opt = new kiln.optim.Adam(critic.parameters(), { lr: 1e-3 });
    const seen: number[] = [];
    critic.parameters()[0].registerPostAccumulateGradHook((p) => seen.push(p.grad!.numel));
    critic.at(1).registerFullBackwardHook(() => {});
    const data = kiln.randn([16, 4]);
    const step = () => kiln.scope(() => {
      const x = data.detach().requiresGrad_();
      const out = kiln.utils.checkpoint((t: Tensor) => critic.forward(t), x);
      const [g] = kiln.autograd.grad(out.sum(), x, { createGraph: true }) as Tensor[];
      const penalty = g.square().sum(1).sqrt().sub(1).square().mean();
      const loss = out.mean().add(penalty.mul(10));
      opt.zeroGrad();
      // only the critic's .grad: x.grad would outlive x (a kept .grad is freed by dispose() or the GC)
      loss.backward({ inputs: critic.parameters() });
      opt.step();
      return loss.item();
    });
    for (let i = 0; i < 20; i++) step();
    const at20 = kiln.memory();
    const tensorsAt20 = trackedTensors();
    for (let i = 0; i < 200; i++) step();
    const end = kiln.memory();
    expect(trackedTensors()).toBe(tensorsAt20);
    expect(end.bytes).toBe(at20.bytes);
    expect(seen.length).toBe(220);
  });
});
