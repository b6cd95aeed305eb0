// Trains the feature classifier of fid.mjs with Kiln on the full Fashion-MNIST training set and
// saves it (weights, test accuracy) to bench/out/generative/classifier.safetensors (+ .json).
//
//   npm run build:ts && nice -n 10 node bench/generative/classifier.mjs [--epochs 3] [--seed 0] [--limit N]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as kiln from '../../dist/index.js';
import { Classifier } from './classifier-model.mjs';
import { CLASSIFIER } from './classifier-path.mjs';
const DATA = '/usr/share/datasets/fashion-mnist';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (i % 2 ? a : [...a, [v, all[i + 1]]]), []));
for (const k of Object.keys(args)) if (!['--epochs', '--seed', '--limit'].includes(k)) throw new Error(`${k}: unknown option (expected --epochs, --seed, --limit)`);
const epochs = Number(args['--epochs'] ?? 3);
const seed = Number(args['--seed'] ?? 0);
const limit = args['--limit'] === undefined ? undefined : Number(args['--limit']);

kiln.manualSeed(seed);
const train = await kiln.data.loadFashionMnist(DATA, { split: 'train', limit });
const test = await kiln.data.loadFashionMnist(DATA, { split: 'test' });
const model = new Classifier();
const opt = new kiln.optim.Adam(model.parameters(), { lr: 1e-3 });
const loader = new kiln.data.DataLoader(new kiln.data.TensorDataset(train.images, train.labels), { batchSize: 128, shuffle: true, seed });
const t0 = performance.now();
for (let epoch = 1; epoch <= epochs; epoch++) {
  model.train();
  let sum = 0, steps = 0;
  for (const [x, y] of loader) {
    kiln.scope(() => {
      const loss = kiln.F.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      sum += loss.item();
      steps++;
    });
    x.dispose();
    y.dispose();
  }
  console.log(`epoch ${epoch}: loss ${(sum / steps).toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s, ${kiln.memory().tensors} live tensors)`);
}
model.eval();
let correct = 0;
kiln.noGrad(() => {
  for (let i = 0; i < test.images.shape[0]; i += 1000) {
    kiln.scope(() => {
      const pred = model.forward(test.images.narrow(0, i, 1000)).argmax(1);
      correct += pred.eq(test.labels.narrow(0, i, 1000)).sum().item();
    });
  }
});
const accuracy = correct / test.images.shape[0];
mkdirSync(dirname(CLASSIFIER), { recursive: true });
await kiln.save(model.stateDict(), CLASSIFIER);
writeFileSync(CLASSIFIER.replace(/\.safetensors$/, '.json'), JSON.stringify({ epochs, seed, trainImages: train.images.shape[0], testAccuracy: accuracy, seconds: (performance.now() - t0) / 1000 }) + '\n');
console.log(`test accuracy ${(100 * accuracy).toFixed(2)}%; saved ${CLASSIFIER}`);
