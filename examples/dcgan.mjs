// A DCGAN on Fashion-MNIST with the non-saturating loss: the discriminator D learns to tell real
// images (label 1) from generated ones (label 0), and the generator G learns to make D say 1,
// both through binary cross-entropy on D's logits. Images are scaled to [-1, 1] (G ends in tanh).
// Writes DIR/metrics.json, DIR/samples.png and DIR/samples.safetensors (G in eval mode, mapped
// back to [0, 1]); bench/generative/fid.mjs measures the samples.
//
//   npm run build:ts && node examples/dcgan.mjs [--epochs 5] [--seed 0] [--out out/dcgan]
import * as kiln from '../dist/index.js';
import { LossLog, collectSamples, loadImages, parseArgs, writeOutputs } from './lib/generative.mjs';

const { nn, optim, F } = kiln;
const opts = parseArgs('dcgan', { epochs: 5, seed: 0, samples: 10000 });
const config = { batchSize: 64, lr: 2e-4, betas: /** @type {[number, number]} */ ([0.5, 0.999]), noise: 64 };
kiln.manualSeed(opts.seed);
const { train, test, data } = await loadImages(opts);

// G: z [N, 64] -> [N, 256, 7, 7] -> [N, 128, 14, 14] -> [N, 1, 28, 28]
const G = new nn.Sequential(
  new nn.Linear(config.noise, 256 * 7 * 7), new nn.BatchNorm1d(256 * 7 * 7), new nn.ReLU(), new nn.Unflatten(1, [256, 7, 7]),
  new nn.ConvTranspose2d(256, 128, 4, { stride: 2, padding: 1 }), new nn.BatchNorm2d(128), new nn.ReLU(),
  new nn.ConvTranspose2d(128, 1, 4, { stride: 2, padding: 1 }), new nn.Tanh(),
);
// D: [N, 1, 28, 28] -> [N, 64, 14, 14] -> [N, 128, 7, 7] -> one logit
const D = new nn.Sequential(
  new nn.Conv2d(1, 64, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
  new nn.Conv2d(64, 128, 4, { stride: 2, padding: 1 }), new nn.BatchNorm2d(128), new nn.LeakyReLU(0.2),
  new nn.Flatten(), new nn.Linear(128 * 7 * 7, 1),
);
const optG = new optim.Adam(G.parameters(), { lr: config.lr, betas: config.betas });
const optD = new optim.Adam(D.parameters(), { lr: config.lr, betas: config.betas });
const scaled = train.mul(2).sub(1);
train.dispose();
const loader = new kiln.data.DataLoader(new kiln.data.TensorDataset(scaled), { batchSize: config.batchSize, shuffle: true, seed: opts.seed });
const bce = (/** @type {kiln.Tensor} */ logits, /** @type {number} */ label) => F.binaryCrossEntropyWithLogits(logits, kiln.fullLike(logits, label));

const log = new LossLog(['lossD', 'lossG', 'dReal', 'dFake']);
for (let epoch = 1; epoch <= opts.epochs; epoch++) {
  G.train();
  D.train();
  log.startEpoch();
  for (const [real] of loader) {
    kiln.scope(() => {
      const fake = G.forward(kiln.randn([real.shape[0], config.noise]));
      // D step: real -> 1, fake -> 0 (fake detached: this step does not reach G)
      const outReal = D.forward(real);
      const lossD = bce(outReal, 1).add(bce(D.forward(fake.detach()), 0));
      optD.zeroGrad();
      lossD.backward();
      optD.step();
      // G step: the non-saturating loss, -log D(G(z)), through the updated D
      const outFake = D.forward(fake);
      const lossG = bce(outFake, 1);
      optG.zeroGrad();
      lossG.backward();
      optG.step();
      log.add('lossD', lossD.item());
      log.add('lossG', lossG.item());
      log.add('dReal', outReal.sigmoid().mean().item());
      log.add('dFake', outFake.sigmoid().mean().item());
    });
    real.dispose();
  }
  log.endEpoch(epoch);
}

G.eval();
const samples = collectSamples(opts.samples, (/** @type {number} */ n) => G.forward(kiln.randn([n, config.noise])).add(1).mul(0.5));
await writeOutputs(opts, 'dcgan', {
  log, config: { ...config, data, trainImages: scaled.shape[0], testImages: test.shape[0] },
  metrics: {}, samples, grid: { file: 'samples.png', images: samples.narrow(0, 0, Math.min(64, opts.samples)), options: { nrow: 8 } },
});
