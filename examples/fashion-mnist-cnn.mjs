// The demo: trains a small CNN on Fashion-MNIST with kiln.fit and prints test accuracy.
// Uses the full data set from /usr/share/datasets/fashion-mnist when present (apt-get install
// dataset-fashion-mnist), else the subset shipped in data/. Offline either way.
//
//   node examples/fashion-mnist-cnn.mjs [--epochs N] [--subset | --full] [--limit N] [--report out.html]
// or through the environment: EPOCHS=N, DATA=subset|full, LIMIT=N, REPORT=out.html.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../dist/index.js';

const { nn, optim, data } = kiln;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
/** @param {string} name @param {string} [dflt] */
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : process.env[name.slice(2).toUpperCase()] ?? dflt);
const flag = (/** @type {string} */ name) => args.includes(`--${name}`) || process.env.DATA === name;

const fullDir = '/usr/share/datasets/fashion-mnist';
const useFull = !flag('subset') && existsSync(join(fullDir, 'train-images-idx3-ubyte.gz'));
if (flag('full') && !useFull) throw new Error(`--full: ${fullDir} is missing (apt-get install dataset-fashion-mnist)`);
const dir = useFull ? fullDir : join(root, 'data/fashion-mnist-subset');
const limit = arg('--limit') ? Number(arg('--limit')) : undefined;
const epochs = Number(arg('--epochs', useFull ? '3' : '8'));

kiln.manualSeed(0);
const train = await data.loadFashionMnist(dir, { split: 'train', limit });
const test = await data.loadFashionMnist(dir, { split: 'test' });
console.log(`Fashion-MNIST (${useFull ? 'full data set' : 'subset shipped in data/'}) from ${dir}: ` +
  `${train.labels.shape[0]} training and ${test.labels.shape[0]} test images, ${epochs} epoch${epochs === 1 ? '' : 's'}`);
console.log(`backend: ${kiln.backendInfo().cpu.isa} kernels, ${kiln.backendInfo().cpu.threads} threads`);

// normalise with the training set's statistics
const mean = train.images.mean().item();
const std = train.images.std().item();
/** @param {kiln.Tensor} x */
const norm = (x) => x.sub(mean).div(std);

const model = new nn.Sequential(
  new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(64 * 7 * 7, 10),
);
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const trainData = new data.DataLoader(new data.TensorDataset(norm(train.images), train.labels), { batchSize: 64, shuffle: true, seed: 0 });
const testData = new data.DataLoader(new data.TensorDataset(norm(test.images), test.labels), { batchSize: 500 });

const history = await kiln.fit(model, {
  trainData, valData: testData, epochs, optimizer, metrics: ['accuracy'], report: arg('--report'),
  scheduler: new optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax: epochs }),
});
const last = history.epochs[history.epochs.length - 1];
console.log(`test accuracy ${((last.valAccuracy ?? NaN) * 100).toFixed(2)}% after ${epochs} epochs ` +
  `(${history.epochs.reduce((s, e) => s + e.seconds, 0).toFixed(1)}s of training)`);
