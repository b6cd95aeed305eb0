// The Frechet distance of generated images to the Fashion-MNIST test set, in the 128 penultimate
// features of the classifier classifier.mjs trained (one classifier for Kiln's and PyTorch's
// samples), with the floor (the first 10000 training images against the test set: the same count
// as the samples, since the estimate's bias depends on it) and the histogram of the
// classifier's confidence (largest softmax probability) on each set.
//
//   node bench/generative/fid.mjs [--json OUT.json] DIR/samples.safetensors ...
import { writeFileSync } from 'node:fs';
import * as kiln from '../../dist/index.js';
import { Classifier } from './classifier-model.mjs';
import { CLASSIFIER } from './classifier-path.mjs';

const DATA = '/usr/share/datasets/fashion-mnist';
const BINS = 10;

const argv = process.argv.slice(2);
let jsonOut;
const files = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--json') jsonOut = argv[++i];
  else if (argv[i].startsWith('--')) throw new Error(`${argv[i]}: unknown option (expected --json)`);
  else files.push(argv[i]);
}

const model = new Classifier();
model.loadStateDict(await kiln.load(CLASSIFIER));
model.eval();

/** features [N, 128] and the confidence histogram (BINS equal bins over [0, 1]) of images [N, 1, 28, 28] */
function measure(images) {
  const n = images.shape[0];
  const feats = new Float32Array(n * 128);
  const hist = new Array(BINS).fill(0);
  kiln.noGrad(() => {
    for (let i = 0; i < n; i += 500) {
      kiln.scope(() => {
        const f = model.features(images.narrow(0, i, Math.min(500, n - i)));
        feats.set(f.toTypedArray(), i * 128);
        for (const p of model.head.forward(f).softmax(1).max(1).toTypedArray()) hist[Math.min(BINS - 1, Math.floor(p * BINS))]++;
      });
    }
  });
  const t = kiln.tensor(feats, { shape: [n, 128] });
  const stats = kiln.utils.gaussianStats(t);
  t.dispose();
  return { stats, hist: hist.map((c) => c / n) };
}

const test = await kiln.data.loadFashionMnist(DATA, { split: 'test' });
const train = await kiln.data.loadFashionMnist(DATA, { split: 'train', limit: 10000 });
const ref = measure(test.images);
const floor = measure(train.images);
const rows = [{ name: 'train set (floor)', count: train.images.shape[0], fd: kiln.utils.frechetDistance(floor.stats, ref.stats), hist: floor.hist }];
rows.push({ name: 'test set', count: test.images.shape[0], fd: 0, hist: ref.hist });
for (const file of files) {
  const { samples } = await kiln.load(file);
  if (!samples || samples.dtype !== 'float32' || samples.ndim !== 4 || samples.shape.slice(1).join() !== '1,28,28') throw new Error(`${file}: expected a float32 tensor 'samples' [N, 1, 28, 28]`);
  const m = measure(samples);
  rows.push({ name: file, count: samples.shape[0], fd: kiln.utils.frechetDistance(m.stats, ref.stats), hist: m.hist });
  samples.dispose();
}
console.log(`${'set'.padEnd(48)} ${'N'.padStart(6)} ${'FD'.padStart(8)}  confidence histogram (fraction per 0.1 bin)`);
for (const r of rows) console.log(`${r.name.slice(-48).padEnd(48)} ${String(r.count).padStart(6)} ${r.fd.toFixed(3).padStart(8)}  ${r.hist.map((h) => h.toFixed(2)).join(' ')}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ classifier: CLASSIFIER, rows }, null, 1) + '\n');
