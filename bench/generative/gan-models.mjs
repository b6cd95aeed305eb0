// The GANs of examples/dcgan.mjs and examples/wgan-gp.mjs for the bench tools (profile-gan.mjs,
// wgan-trajectory.mjs): the generator, the discriminator / critic, and one WGAN-GP training
// step on given draws. The examples keep their own copies, written out for reading.
import * as kiln from '../../dist/index.js';

const { nn } = kiln;

/** z [N, 64] -> [N, 256, 7, 7] -> [N, 128, 14, 14] -> [N, 1, 28, 28] in (-1, 1) */
export const generator = () => new nn.Sequential(
  new nn.Linear(64, 256 * 7 * 7), new nn.BatchNorm1d(256 * 7 * 7), new nn.ReLU(), new nn.Unflatten(1, [256, 7, 7]),
  new nn.ConvTranspose2d(256, 128, 4, { stride: 2, padding: 1 }), new nn.BatchNorm2d(128), new nn.ReLU(),
  new nn.ConvTranspose2d(128, 1, 4, { stride: 2, padding: 1 }), new nn.Tanh(),
);

/** [N, 1, 28, 28] -> [N, 1]; DCGAN's discriminator has BatchNorm, the WGAN-GP critic not */
export const critic = (batchNorm) => new nn.Sequential(
  new nn.Conv2d(1, 64, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
  new nn.Conv2d(64, 128, 4, { stride: 2, padding: 1 }), ...(batchNorm ? [new nn.BatchNorm2d(128)] : []), new nn.LeakyReLU(0.2),
  new nn.Flatten(), new nn.Linear(128 * 7 * 7, 1),
);

/**
 * One critic step of examples/wgan-gp.mjs (penalty weight 10) on the draws given, and the
 * generator step when zGen is given. Returns the Wasserstein estimate, the penalty, the critic
 * loss and the generator loss (NaN without a generator step).
 */
export function wganStep({ G, C, optG, optC }, { real, zFake, eps, zGen = null }) {
  const n = real.shape[0];
  const fake = kiln.noGrad(() => G.forward(zFake));
  const gap = C.forward(real).mean().sub(C.forward(fake).mean());
  const mixed = real.mul(eps).add(fake.mul(eps.rsub(1))).requiresGrad_();
  const [grad] = kiln.autograd.grad(C.forward(mixed).sum(), mixed, { createGraph: true });
  const penalty = grad.reshape([n, -1]).square().sum(1).add(1e-12).sqrt().sub(1).square().mean();
  const lossC = penalty.mul(10).sub(gap);
  optC.zeroGrad();
  lossC.backward();
  optC.step();
  let lossG = NaN;
  if (zGen) {
    const lg = C.forward(G.forward(zGen)).mean().neg();
    optG.zeroGrad();
    lg.backward();
    optG.step();
    lossG = lg.item();
  }
  return [gap.item(), penalty.item(), lossC.item(), lossG];
}
