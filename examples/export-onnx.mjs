// Train the demo CNN, export it to ONNX with a dynamic batch, and serve it with onnxruntime-node:
// the predictions of the exported file are compared with Kiln's on the test images.
//
//   npm run build:ts && node examples/export-onnx.mjs [--epochs N] [--out model.onnx]
//
// Uses the Fashion-MNIST subset shipped in data/ (offline). onnxruntime-node is a devDependency
// (`npm install` in this repository; its .npmrc skips the CUDA download at install time).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import * as kiln from '../dist/index.js';

const { nn, optim, data } = kiln;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
/** @param {string} name @param {string} dflt */
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const epochs = Number(arg('--epochs', '3'));
const out = arg('--out', join(mkdtempSync(join(tmpdir(), 'kiln-onnx-')), 'fashion-cnn.onnx'));

kiln.manualSeed(0);
const dir = join(root, 'data/fashion-mnist-subset');
const train = await data.loadFashionMnist(dir, { split: 'train' });
const test = await data.loadFashionMnist(dir, { split: 'test' });
const mean = train.images.mean().item();
const std = train.images.std().item();
const xTrain = train.images.sub(mean).div(std);
const xTest = test.images.sub(mean).div(std);

const model = new nn.Sequential(
  new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
  new nn.Flatten(), new nn.Linear(64 * 7 * 7, 10),
);
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
await kiln.fit(model, {
  trainData: new data.DataLoader(new data.TensorDataset(xTrain, train.labels), { batchSize: 64, shuffle: true, seed: 0 }),
  epochs, optimizer, verbose: false,
});

// export: the batch dim is dynamic, so the file serves any batch size
const sample = xTest.narrow(0, 0, 1);
await kiln.onnx.export(model, sample, out, { inputNames: ['image'], outputNames: ['logits'], dynamicAxes: { image: { 0: 'batch' }, logits: { 0: 'batch' } } });
console.log(`exported ${out}`);

// serve: onnxruntime-node on the whole test set in one batch, against Kiln's own forward
const session = await ort.InferenceSession.create(out);
const n = xTest.shape[0];
const result = await session.run({ image: new ort.Tensor('float32', /** @type {Float32Array} */ (xTest.toTypedArray()), [n, 1, 28, 28]) });
const served = /** @type {Float32Array} */ (result.logits.data);
model.eval();
const ref = /** @type {Float32Array} */ (kiln.noGrad(() => model.forward(xTest)).toTypedArray());
const labels = test.labels.toTypedArray();
let maxDiff = 0;
let scale = 0;
let agree = 0;
let correctOrt = 0;
let correctKiln = 0;
const argmax = (/** @type {Float32Array} */ a, /** @type {number} */ i) => {
  let best = 0;
  for (let k = 1; k < 10; k++) if (a[i * 10 + k] > a[i * 10 + best]) best = k;
  return best;
};
for (let i = 0; i < n; i++) {
  for (let k = 0; k < 10; k++) {
    maxDiff = Math.max(maxDiff, Math.abs(served[i * 10 + k] - ref[i * 10 + k]));
    scale = Math.max(scale, Math.abs(ref[i * 10 + k]));
  }
  const [a, b] = [argmax(served, i), argmax(ref, i)];
  if (a === b) agree++;
  if (a === labels[i]) correctOrt++;
  if (b === labels[i]) correctKiln++;
}
console.log(`${n} test images: onnxruntime accuracy ${(100 * correctOrt / n).toFixed(2)}%, Kiln ${(100 * correctKiln / n).toFixed(2)}%, ` +
  `same prediction on ${agree}/${n}, largest logit difference ${maxDiff.toExponential(2)} (${(maxDiff / scale).toExponential(2)} of the largest logit)`);
