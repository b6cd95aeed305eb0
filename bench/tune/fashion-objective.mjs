// The objective of the Fashion-MNIST tuning task (bench/tune/fashion.mjs): an MLP
// 784-width-10 with dropout, AdamW (lr, weight decay), trained by kiln.fit on 4000 images of the
// subset in data/ and validated on the other 1000 training images; returns the validation
// accuracy after EPOCHS epochs and reports it after each (PruningCallback). A module, so that
// study.optimize(path, { nJobs }) can run it in worker processes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../../dist/index.js';

export const EPOCHS = 6;
const { nn, optim, data, tune } = kiln;
const dir = join(dirname(fileURLToPath(import.meta.url)), '../../data/fashion-mnist-subset');

let cached = null;
async function load() {
  if (cached) return cached;
  const all = await data.loadFashionMnist(dir, { split: 'train' });
  const x = all.images.reshape([all.images.shape[0], 784]);
  const mean = x.mean().item(), std = x.std().item();
  const xs = x.sub(mean).div(std);
  // a fixed shuffle, then 4000 for training and 1000 for validation
  const perm = kiln.tensor(Int32Array.from(data.seededPermutation(xs.shape[0], 123)), { dtype: 'int32' });
  const xp = xs.indexSelect(0, perm), yp = all.labels.indexSelect(0, perm);
  cached = {
    train: new data.TensorDataset(xp.narrow(0, 0, 4000), yp.narrow(0, 0, 4000)),
    val: new data.TensorDataset(xp.narrow(0, 4000, 1000), yp.narrow(0, 4000, 1000)),
  };
  return cached;
}

export async function objective(trial) {
  const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
  const weightDecay = trial.suggestFloat('weightDecay', 1e-6, 1e-1, { log: true });
  const width = trial.suggestInt('width', 16, 512, { log: true });
  const dropout = trial.suggestFloat('dropout', 0, 0.6);
  const { train, val } = await load();
  kiln.manualSeed(1000 + trial.number);
  const model = new nn.Sequential(new nn.Linear(784, width), new nn.ReLU(), new nn.Dropout(dropout), new nn.Linear(width, 10));
  const history = await kiln.fit(model, {
    trainData: new data.DataLoader(train, { batchSize: 64, shuffle: true, seed: trial.number }),
    valData: new data.DataLoader(val, { batchSize: 500 }),
    epochs: EPOCHS, optimizer: new optim.AdamW(model.parameters(), { lr, weightDecay }), verbose: false,
    callbacks: [new tune.PruningCallback(trial, { monitor: 'valAccuracy' })],
  });
  return history.epochs[history.epochs.length - 1].valAccuracy;
}
