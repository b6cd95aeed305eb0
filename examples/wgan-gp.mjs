// A Wasserstein GAN with gradient penalty (WGAN-GP) on Fashion-MNIST. The critic C scores
// images (no sigmoid, no BatchNorm) and learns to score real images above generated ones:
//   lossC = mean C(fake) - mean C(real) + 10 * mean (|grad C(x_mix)| - 1)^2,
// the penalty taken at random mixes of real and fake images, through a gradient of the critic
// that is itself differentiated (autograd.grad with createGraph). The generator is DCGAN's and
// takes one step, -mean C(G(z)), after every 5 critic steps. Images are scaled to [-1, 1].
// Writes DIR/metrics.json, DIR/samples.png and DIR/samples.safetensors (G in eval mode, in [0, 1]).
//
//   npm run build:ts && node examples/wgan-gp.mjs [--epochs 5] [--seed 0] [--out out/wgan-gp]
import * as kiln from '../dist/index.js';
import { LossLog, collectSamples, loadImages, parseArgs, writeOutputs } from './lib/generative.mjs';

const { nn, optim } = kiln;
const opts = parseArgs('wgan-gp', { epochs: 5, seed: 0, samples: 10000 });
const config = { batchSize: 64, lr: 1e-4, betas: /** @type {[number, number]} */ ([0, 0.9]), noise: 64, gpWeight: 10, criticSteps: 5 };
kiln.manualSeed(opts.seed);
const { train, test, data } = await loadImages(opts);

// G: z [N, 64] -> [N, 256, 7, 7] -> [N, 128, 14, 14] -> [N, 1, 28, 28] (as in dcgan.mjs)
const G = new nn.Sequential(
  new nn.Linear(config.noise, 256 * 7 * 7), new nn.BatchNorm1d(256 * 7 * 7), new nn.ReLU(), new nn.Unflatten(1, [256, 7, 7]),
  new nn.ConvTranspose2d(256, 128, 4, { stride: 2, padding: 1 }), new nn.BatchNorm2d(128), new nn.ReLU(),
  new nn.ConvTranspose2d(128, 1, 4, { stride: 2, padding: 1 }), new nn.Tanh(),
);
// C: DCGAN's discriminator without BatchNorm (the penalty is per image; BatchNorm would mix them)
const C = new nn.Sequential(
  new nn.Conv2d(1, 64, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
  new nn.Conv2d(64, 128, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
  new nn.Flatten(), new nn.Linear(128 * 7 * 7, 1),
);
const optG = new optim.Adam(G.parameters(), { lr: config.lr, betas: config.betas });
const optC = new optim.Adam(C.parameters(), { lr: config.lr, betas: config.betas });
const scaled = train.mul(2).sub(1);
train.dispose();
const loader = new kiln.data.DataLoader(new kiln.data.TensorDataset(scaled), { batchSize: config.batchSize, shuffle: true, seed: opts.seed });

/**
 * mean over images of (|d C(x) / d x|_2 - 1)^2 at x = eps real + (1 - eps) fake, eps ~ U(0, 1) per image
 * @param {kiln.Tensor} real
 * @param {kiln.Tensor} fake
 */
function gradientPenalty(real, fake) {
  const n = real.shape[0];
  const eps = kiln.rand([n, 1, 1, 1]);
  const mixed = real.mul(eps).add(fake.mul(eps.rsub(1))).requiresGrad_();
  const [grad] = kiln.autograd.grad(C.forward(mixed).sum(), mixed, { createGraph: true });
  return /** @type {kiln.Tensor} */ (grad).reshape([n, 784]).square().sum(1).add(1e-12).sqrt().sub(1).square().mean();
}

const log = new LossLog(['lossC', 'lossG', 'wasserstein', 'penalty']);
let criticSteps = 0;
for (let epoch = 1; epoch <= opts.epochs; epoch++) {
  G.train();
  log.startEpoch();
  for (const [real] of loader) {
    kiln.scope(() => {
      const n = real.shape[0];
      const fake = kiln.noGrad(() => G.forward(kiln.randn([n, config.noise])));
      const gap = C.forward(real).mean().sub(C.forward(fake).mean()); // the critic's Wasserstein estimate
      const penalty = gradientPenalty(real, fake);
      const lossC = penalty.mul(config.gpWeight).sub(gap);
      optC.zeroGrad();
      lossC.backward();
      optC.step();
      log.add('lossC', lossC.item());
      log.add('wasserstein', gap.item());
      log.add('penalty', penalty.item());
      if (++criticSteps % config.criticSteps === 0) {
        const lossG = C.forward(G.forward(kiln.randn([n, config.noise]))).mean().neg();
        optG.zeroGrad();
        lossG.backward();
        optG.step();
        log.add('lossG', lossG.item());
      }
    });
    real.dispose();
  }
  log.endEpoch(epoch);
}

G.eval();
const samples = collectSamples(opts.samples, (/** @type {number} */ n) => G.forward(kiln.randn([n, config.noise])).add(1).mul(0.5));
await writeOutputs(opts, 'wgan-gp', {
  log, config: { ...config, data, trainImages: scaled.shape[0], testImages: test.shape[0] },
  metrics: {}, samples, grid: { file: 'samples.png', images: samples.narrow(0, 0, Math.min(64, opts.samples)), options: { nrow: 8 } },
});
