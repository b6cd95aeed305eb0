// An MLP (784-256-128-10, Adam) on Fashion-MNIST with kiln.fit.
//   node examples/fashion-mnist-mlp.mjs [--epochs N] [--subset]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../dist/index.js';

const { nn, optim, data } = kiln;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const fullDir = '/usr/share/datasets/fashion-mnist';
const dir = !args.includes('--subset') && existsSync(join(fullDir, 'train-images-idx3-ubyte.gz')) ? fullDir : join(root, 'data/fashion-mnist-subset');
const epochs = Number(args.includes('--epochs') ? args[args.indexOf('--epochs') + 1] : 5);

kiln.manualSeed(0);
/** @param {{ images: kiln.Tensor, labels: kiln.Tensor }} d */
const flat = ({ images, labels }) => [images.reshape([images.shape[0], 784]), labels];
const [xTrain, yTrain] = flat(await data.loadFashionMnist(dir, { split: 'train' }));
const [xTest0, yTest] = flat(await data.loadFashionMnist(dir, { split: 'test' }));
// standardise with the training set's statistics
const mean = xTrain.mean().item();
const std = xTrain.std().item();
const xTrainN = xTrain.sub(mean).div(std);
const xTest = xTest0.sub(mean).div(std);
const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10));
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
const history = await kiln.fit(model, {
  trainData: new data.DataLoader(new data.TensorDataset(xTrainN, yTrain), { batchSize: 64, shuffle: true, seed: 0 }),
  valData: new data.DataLoader(new data.TensorDataset(xTest, yTest), { batchSize: 1000 }),
  epochs, optimizer, scheduler: new optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax: epochs }),
});
const last = history.epochs[history.epochs.length - 1];
console.log(`data ${dir}; test accuracy ${((last.valAccuracy ?? NaN) * 100).toFixed(2)}% after ${epochs} epochs ` +
  `(${history.epochs.reduce((s, e) => s + e.seconds, 0).toFixed(1)}s of training)`);
