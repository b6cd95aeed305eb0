// A convolutional autoencoder on Fashion-MNIST: 28x28 images squeezed to 32 numbers and back.
// Metric: the test set's mean squared error per pixel. Writes DIR/metrics.json and
// DIR/reconstructions.png (rows of test images, each followed by its reconstruction).
//
//   npm run build:ts && node examples/autoencoder.mjs [--epochs 10] [--seed 0] [--out out/autoencoder]
import * as kiln from '../dist/index.js';
import { LossLog, loadImages, parseArgs, writeOutputs } from './lib/generative.mjs';

const { nn, optim, F } = kiln;
const opts = parseArgs('autoencoder', { epochs: 10, seed: 0 });
const config = { batchSize: 128, lr: 1e-3, latent: 32 };
kiln.manualSeed(opts.seed);
const { train, test, data } = await loadImages(opts);

// encoder: [N, 1, 28, 28] -> [N, 16, 14, 14] -> [N, 32, 7, 7] -> [N, 32]
const encoder = new nn.Sequential(
  new nn.Conv2d(1, 16, 3, { stride: 2, padding: 1 }), new nn.ReLU(),
  new nn.Conv2d(16, 32, 3, { stride: 2, padding: 1 }), new nn.ReLU(),
  new nn.Flatten(), new nn.Linear(32 * 7 * 7, config.latent),
);
// decoder, the mirror image: [N, 32] -> [N, 32, 7, 7] -> [N, 16, 14, 14] -> [N, 1, 28, 28]
const decoder = new nn.Sequential(
  new nn.Linear(config.latent, 32 * 7 * 7), new nn.ReLU(), new nn.Unflatten(1, [32, 7, 7]),
  new nn.ConvTranspose2d(32, 16, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.ReLU(),
  new nn.ConvTranspose2d(16, 1, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.Sigmoid(),
);
const model = new nn.Sequential(encoder, decoder);
const optimizer = new optim.Adam(model.parameters(), { lr: config.lr });
const loader = new kiln.data.DataLoader(new kiln.data.TensorDataset(train), { batchSize: config.batchSize, shuffle: true, seed: opts.seed });

const log = new LossLog(['loss']);
for (let epoch = 1; epoch <= opts.epochs; epoch++) {
  model.train();
  log.startEpoch();
  for (const [x] of loader) {
    kiln.scope(() => {
      const loss = F.mseLoss(model.forward(x), x);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      log.add('loss', loss.item());
    });
    x.dispose();
  }
  log.endEpoch(epoch);
}

// test MSE per pixel: squared errors summed per chunk, then divided once
model.eval();
let squared = 0;
kiln.noGrad(() => {
  for (let i = 0; i < test.shape[0]; i += 500) {
    kiln.scope(() => {
      const x = test.narrow(0, i, Math.min(500, test.shape[0] - i));
      squared += F.mseLoss(model.forward(x), x, { reduction: 'sum' }).item();
    });
  }
});
const testMse = squared / test.numel;

// the grid: 4 rows of 8 test images, each row followed by its reconstructions
const shown = test.narrow(0, 0, Math.min(32, test.shape[0]));
const rec = kiln.noGrad(() => model.forward(shown));
const rows = [];
for (let r = 0; r < shown.shape[0]; r += 8) {
  const n = Math.min(8, shown.shape[0] - r);
  rows.push(shown.narrow(0, r, n), rec.narrow(0, r, n));
}
await writeOutputs(opts, 'autoencoder', {
  log, config: { ...config, data, trainImages: train.shape[0], testImages: test.shape[0] },
  metrics: { testMsePerPixel: testMse },
  grid: { file: 'reconstructions.png', images: kiln.cat(rows, 0), options: { nrow: 8 } },
});
