// The WGAN-GP critic step of examples/wgan-gp.mjs against PyTorch 1.13 (float64,
// tests/fixtures/generative/make_wgan_fixture.py): the same layer types as the program's critic
// (Conv2d 4/2/1, LeakyReLU 0.2, Linear) on 12x12 images; the loss 10 * penalty - gap, its parameter
// gradients through the createGraph gradient, and two Adam steps with betas (0, 0.9).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { expectClose } from '../helpers/gradcheck.js';

const { nn, optim } = kiln;
const fx = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'generative', 'wgan-gp.json'), 'utf8'));

describe('WGAN-GP critic step against PyTorch', () => {
  it('loss, parameter gradients through the penalty, and two Adam (0, 0.9) steps', () => {
    kiln.scope(() => {
      const { n, side } = fx;
      const C = new nn.Sequential(
        new nn.Conv2d(1, 3, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
        new nn.Conv2d(3, 5, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
        new nn.Flatten(), new nn.Linear(5 * 3 * 3, 1),
      );
      const ps = C.parameters();
      kiln.noGrad(() => ps.forEach((p, i) => p.copy_(kiln.tensor(Float32Array.from(fx.params[i]), { shape: fx.shapes[i] }))));
      const images = (data: number[]) => kiln.tensor(Float32Array.from(data), { shape: [n, 1, side, side] });
      const real = images(fx.real);
      const fake = images(fx.fake);
      const eps = kiln.tensor(Float32Array.from(fx.eps), { shape: [n, 1, 1, 1] });
      const criticLoss = () => {
        const mixed = real.mul(eps).add(fake.mul(eps.rsub(1))).requiresGrad_();
        const [grad] = kiln.autograd.grad(C.forward(mixed).sum(), mixed, { createGraph: true });
        const penalty = (grad as kiln.Tensor).reshape([n, -1]).square().sum(1).add(1e-12).sqrt().sub(1).square().mean();
        return [penalty.mul(10).sub(C.forward(real).mean().sub(C.forward(fake).mean())), penalty];
      };
      const opt = new optim.Adam(ps, { lr: 1e-2, betas: [0, 0.9] });
      const [loss, penalty] = criticLoss();
      expect(loss.item()).toBeCloseTo(fx.loss, 4);
      expect(penalty.item()).toBeCloseTo(fx.penalty, 5);
      opt.zeroGrad();
      loss.backward();
      ps.forEach((p, i) => {
        // the output bias does not move dC/dx and cancels in the gap: its gradient is 0 in PyTorch
        if (fx.grads[i].every((g: number) => g === 0)) expect(p.grad === null || p.grad.abs().max().item() === 0).toBe(true);
        else expectClose(p.grad!.toTypedArray(), fx.grads[i], { rtol: 1e-4 }, `gradient of parameter ${i} ${JSON.stringify(fx.shapes[i])}`);
      });
      opt.step();
      const [loss2] = criticLoss();
      expect(loss2.item()).toBeCloseTo(fx.loss2, 3);
      opt.zeroGrad();
      loss2.backward();
      opt.step();
      ps.forEach((p, i) => expectClose(p.toTypedArray(), fx.after2[i], { rtol: 1e-4 }, `parameter ${i} after two steps`));
    });
  });
});
