// A variational autoencoder on Fashion-MNIST (MLP 784-400-20 / 20-400-784), written with
// kiln.distributions: q(z|x) is a diagonal Normal sampled by rsample (the reparameterisation
// trick), p(x|z) a Bernoulli per pixel on the [0, 1] intensities, and the loss the negative
// ELBO, -(log p(x|z) - KL(q(z|x) || N(0, I))), averaged over the batch.
// Metric: the test set's ELBO in nats per image (one z drawn per image). Writes DIR/metrics.json,
// DIR/samples.png and DIR/samples.safetensors (decoder means for z drawn from the prior).
//
//   npm run build:ts && node examples/vae.mjs [--epochs 10] [--seed 0] [--out out/vae]
import * as kiln from '../dist/index.js';
import { LossLog, collectSamples, loadImages, parseArgs, writeOutputs } from './lib/generative.mjs';

const { nn, optim } = kiln;
const { Normal, Bernoulli, Independent, kl } = kiln.distributions;
const opts = parseArgs('vae', { epochs: 10, seed: 0, samples: 10000 });
const config = { batchSize: 128, lr: 1e-3, hidden: 400, latent: 20 };
kiln.manualSeed(opts.seed);
const { train, test, data } = await loadImages(opts);

class VAE extends nn.Module {
  /** @param {{ hidden: number, latent: number }} sizes */
  constructor({ hidden, latent }) {
    super();
    this.fc1 = new nn.Linear(784, hidden);
    this.fcMu = new nn.Linear(hidden, latent);
    this.fcLogVar = new nn.Linear(hidden, latent);
    this.fc3 = new nn.Linear(latent, hidden);
    this.fc4 = new nn.Linear(hidden, 784);
  }
  /** q(z | x): independent Normals over the latent dims @param {kiln.Tensor} x */
  encode(x) {
    const h = this.fc1.forward(x).relu();
    const scale = this.fcLogVar.forward(h).mul(0.5).exp();
    return new Independent(new Normal(this.fcMu.forward(h), scale, { validateArgs: false }), 1);
  }
  /** p(x | z): a Bernoulli per pixel, given by its logits @param {kiln.Tensor} z */
  decode(z) {
    return new Independent(new Bernoulli({ logits: this.fc4.forward(this.fc3.forward(z).relu()) }), 1);
  }
  /**
   * ELBO per image [N]: E_q[log p(x|z)] (one draw) - KL(q || prior)
   * @param {kiln.Tensor} x
   * @param {kiln.distributions.Distribution} prior
   */
  elbo(x, prior) {
    const q = this.encode(x);
    const px = this.decode(q.rsample());
    return px.logProb(x).sub(kl.klDivergence(q, prior));
  }
  /**
   * Module's forward: the ELBO per image (the program calls elbo, encode and decode by name)
   * @param {kiln.Tensor} x
   * @param {kiln.distributions.Distribution} prior
   */
  forward(x, prior) {
    return this.elbo(x, prior);
  }
}

const vae = new VAE(config);
const prior = new Independent(new Normal(kiln.zeros([config.latent]), kiln.ones([config.latent])), 1);
const optimizer = new optim.Adam(vae.parameters(), { lr: config.lr });
const flat = (/** @type {kiln.Tensor} */ t) => t.reshape([t.shape[0], 784]);
const loader = new kiln.data.DataLoader(new kiln.data.TensorDataset(flat(train)), { batchSize: config.batchSize, shuffle: true, seed: opts.seed });

const log = new LossLog(['loss']);
for (let epoch = 1; epoch <= opts.epochs; epoch++) {
  vae.train();
  log.startEpoch();
  for (const [x] of loader) {
    kiln.scope(() => {
      const loss = vae.elbo(x, prior).mean().neg();
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      log.add('loss', loss.item());
    });
    x.dispose();
  }
  log.endEpoch(epoch);
}

// test ELBO in nats per image, and its two parts
vae.eval();
let elbo = 0, recon = 0;
kiln.noGrad(() => {
  for (let i = 0; i < test.shape[0]; i += 500) {
    kiln.scope(() => {
      const x = flat(test.narrow(0, i, Math.min(500, test.shape[0] - i)));
      const q = vae.encode(x);
      const lp = vae.decode(q.rsample()).logProb(x);
      recon += lp.sum().item();
      elbo += lp.sub(kl.klDivergence(q, prior)).sum().item();
    });
  }
});
const n = test.shape[0];

// samples from the prior: decoder means (pixel probabilities), in [0, 1]
const sample = (/** @type {number} */ k) => /** @type {kiln.distributions.Bernoulli} */ (vae.decode(kiln.randn([k, config.latent])).baseDist).probs.reshape([k, 1, 28, 28]);
const samples = collectSamples(opts.samples, sample);
await writeOutputs(opts, 'vae', {
  log, config: { ...config, data, trainImages: train.shape[0], testImages: n },
  metrics: { testElboNats: elbo / n, testReconstructionLogLik: recon / n, testKl: (recon - elbo) / n },
  samples, grid: { file: 'samples.png', images: samples.narrow(0, 0, Math.min(64, opts.samples)), options: { nrow: 8 } },
});
