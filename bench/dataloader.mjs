// DataLoader workers: one Fashion-MNIST training epoch with a transform-heavy item pipeline
// (pad-2 random crop, random flip, to float, normalise: plain JS per item) and a small MLP step,
// numWorkers 0 beside numWorkers 2. Needs dist/ (npm run build:ts) and the full data set.
//   node bench/dataloader.mjs [--rounds 3] [--limit N] [--json bench/out/dataloader.json]
// Rounds alternate the two settings (0, 2, 2, 0, 0, 2, ...) and each keeps its best epoch; the
// same rounds also time the loader alone (no step) and the step alone (on one fixed batch), so
// the table says how much of the epoch is loading and how much of it the workers hid.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { nn, optim, F, data } = kiln;

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const ROUNDS = Number(opt('rounds', 3));
const LIMIT = opt('limit', undefined);
const JSON_OUT = opt('json', join(root, 'bench/out/dataloader.json'));
const DIR = opt('data', '/usr/share/datasets/fashion-mnist');
const BATCH = 128;

const transform = new data.Compose([
  new data.RandomCrop(28, { padding: 2 }),
  new data.RandomHorizontalFlip(),
  new data.ToFloat32(1 / 255),
  new data.Normalize(0.286, 0.353),
]);
const ds = await data.fashionMnistDataset(DIR, { split: 'train', transform, limit: LIMIT === undefined ? undefined : Number(LIMIT) });

kiln.manualSeed(0);
const model = new nn.Sequential(new nn.Flatten(), new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10));
const sgd = new optim.SGD(model.parameters(), { lr: 0.05, momentum: 0.9 });
const step = (x, y) => kiln.scope(() => {
  const loss = F.crossEntropy(model.forward(x), y);
  sgd.zeroGrad();
  loss.backward();
  sgd.step();
});

async function epoch(numWorkers, train, warmup = false) {
  const loader = new data.DataLoader(ds, { batchSize: BATCH, shuffle: true, seed: 1, numWorkers });
  const live0 = kiln.memory().tensors;
  let batches = 0;
  const t0 = performance.now();
  for await (const [x, y] of loader) {
    if (train) step(x, y);
    x.dispose();
    y.dispose();
    batches++;
  }
  const s = (performance.now() - t0) / 1000;
  // (the warm-up epoch creates the optimizer's momentum buffers: state, not a leak)
  if (!warmup && kiln.memory().tensors !== live0) throw new Error(`tensors leaked: ${kiln.memory().tensors - live0}`);
  return { s, batches, stats: loader.workerStats };
}

/** The step alone, on one fixed batch, as many times as an epoch has batches. */
function stepsOnly(batches) {
  const x = kiln.randn([BATCH, 1, 28, 28]);
  const y = kiln.randint(0, 10, [BATCH]);
  const t0 = performance.now();
  for (let i = 0; i < batches; i++) step(x, y);
  const s = (performance.now() - t0) / 1000;
  x.dispose();
  y.dispose();
  return s;
}

const rows = { train0: [], train2: [], load0: [], load2: [], steps: [] };
let batches = 0;
await epoch(0, true, true); // warm-up: JIT, allocator caches, optimizer state
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? [0, 2] : [2, 0];
  for (const w of order) {
    const e = await epoch(w, true);
    rows[`train${w}`].push(e.s);
    batches = e.batches;
    if (w === 2) rows.stats = e.stats;
  }
  for (const w of order) rows[`load${w}`].push((await epoch(w, false)).s);
  rows.steps.push(stepsOnly(batches));
}

const best = (a) => Math.min(...a);
const fmt = (a) => a.map((x) => x.toFixed(2)).join(' / ');
const table = [
  ['epoch: load + step, numWorkers 0', rows.train0],
  ['epoch: load + step, numWorkers 2', rows.train2],
  ['loader alone, numWorkers 0', rows.load0],
  ['loader alone, numWorkers 2', rows.load2],
  ['step alone (same batch count)', rows.steps],
];
console.log(`Fashion-MNIST train: ${ds.length} items, batch ${BATCH}, ${batches} batches; MLP 784-256-10 SGD step`);
console.log('| what | best s | rounds (s) |');
console.log('|---|---:|---|');
for (const [name, v] of table) console.log(`| ${name} | ${best(v).toFixed(2)} | ${fmt(v)} |`);
const ratio = best(rows.train2) / best(rows.train0);
console.log(`\nnumWorkers 2 / numWorkers 0 (epoch with step): ${ratio.toFixed(2)}`);
console.log(`serial estimate (loader alone 0 + step alone): ${(best(rows.load0) + best(rows.steps)).toFixed(2)} s; ideal overlap max(...) would be ${Math.max(best(rows.load2), best(rows.steps)).toFixed(2)} s`);
console.log(`worker buffers: allocated ${rows.stats.allocated}, reused ${rows.stats.reused}`);
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, JSON.stringify({ date: new Date().toISOString(), items: ds.length, batch: BATCH, batches, rounds: rows, ratio }, null, 2));
