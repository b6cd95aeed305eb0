// DataLoader workers: one Fashion-MNIST training epoch with a transform-heavy item pipeline
// (pad-2 random crop, random flip, to float, normalise: plain JS per item) and a small MLP step,
// numWorkers 0 beside numWorkers 2 (and 1). Needs dist/ (npm run build:ts) and the full data set.
//   node bench/dataloader.mjs [--rounds 3] [--limit N] [--json bench/out/dataloader.json]
// Rounds alternate the settings (0, 2, 1, then 1, 2, 0, ...) and each keeps its best epoch; the
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

// One loader per setting, reused by every round; workers persist between epochs (as
// persistent_workers=True in PyTorch), so rounds time steady-state epochs and the cold start
// (thread boot, module load, JIT warm-up) is measured once, apart.
const loaders = new Map();
const loaderFor = (numWorkers) => {
  if (!loaders.has(numWorkers)) loaders.set(numWorkers, new data.DataLoader(ds, { batchSize: BATCH, shuffle: true, seed: 1, numWorkers, persistentWorkers: numWorkers > 0 }));
  return loaders.get(numWorkers);
};

async function epoch(numWorkers, train, warmup = false) {
  const loader = loaderFor(numWorkers);
  const live0 = kiln.memory().tensors;
  let batches = 0;
  let first = 0;
  let waitMs = 0; // the loop's time between finishing one batch and holding the next
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let asked = t0;
  for await (const [x, y] of loader) {
    const got = performance.now();
    waitMs += got - asked;
    if (batches === 0) first = (got - t0) / 1000;
    if (train) step(x, y);
    x.dispose();
    y.dispose();
    batches++;
    asked = performance.now();
  }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const cpu = (c.user + c.system) / 1e6; // every thread of the process
  // (the warm-up epoch creates the optimizer's momentum buffers: state, not a leak)
  if (!warmup && kiln.memory().tensors !== live0) throw new Error(`tensors leaked: ${kiln.memory().tensors - live0}`);
  return { s, cpu, first, wait: waitMs / 1000, batches, stats: loader.workerStats };
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

const rows = { train0: [], train1: [], train2: [], wait0: [], wait1: [], wait2: [], load0: [], load1: [], load2: [], cpu0: [], cpu1: [], cpu2: [], steps: [] };
let batches = 0;
const cold = await epoch(2, false, true); // cold start of 2 workers: time to the first batch
await epoch(0, true, true); // warm-up: JIT, allocator caches, optimizer state
await epoch(1, false, true);
await epoch(2, false, true);
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? [0, 2, 1] : [1, 2, 0];
  for (const w of order) {
    const e = await epoch(w, true);
    rows[`train${w}`].push(e.s);
    rows[`wait${w}`].push(e.wait);
    batches = e.batches;
    if (w === 2) rows.stats = e.stats;
  }
  for (const w of order) {
    const e = await epoch(w, false);
    rows[`load${w}`].push(e.s);
    rows[`cpu${w}`].push(e.cpu);
  }
  rows.steps.push(stepsOnly(batches));
}

const best = (a) => Math.min(...a);
const fmt = (a) => a.map((x) => x.toFixed(2)).join(' / ');
const table = [
  ['epoch: load + step, numWorkers 0', rows.train0],
  ['epoch: load + step, numWorkers 1', rows.train1],
  ['epoch: load + step, numWorkers 2', rows.train2],
  ['  of which the loop waited for batches, numWorkers 0', rows.wait0],
  ['  of which the loop waited for batches, numWorkers 1', rows.wait1],
  ['  of which the loop waited for batches, numWorkers 2', rows.wait2],
  ['loader alone, numWorkers 0', rows.load0],
  ['loader alone, numWorkers 1', rows.load1],
  ['loader alone, numWorkers 2', rows.load2],
  ['loader alone, CPU s of all threads, numWorkers 0', rows.cpu0],
  ['loader alone, CPU s of all threads, numWorkers 1', rows.cpu1],
  ['loader alone, CPU s of all threads, numWorkers 2', rows.cpu2],
  ['step alone (same batch count)', rows.steps],
];
console.log(`Fashion-MNIST train: ${ds.length} items, batch ${BATCH}, ${batches} batches; MLP 784-256-10 SGD step`);
console.log('| what | best s | rounds (s) |');
console.log('|---|---:|---|');
for (const [name, v] of table) console.log(`| ${name} | ${best(v).toFixed(2)} | ${fmt(v)} |`);
const ratio = best(rows.train2) / best(rows.train0);
console.log(`\nnumWorkers 2 / numWorkers 0 (epoch with step): ${ratio.toFixed(2)}; numWorkers 1 / 0: ${(best(rows.train1) / best(rows.train0)).toFixed(2)}`);
console.log(`serial estimate (loader alone 0 + step alone): ${(best(rows.load0) + best(rows.steps)).toFixed(2)} s; ideal overlap max(...) would be ${Math.max(best(rows.load2), best(rows.steps)).toFixed(2)} s`);
console.log(`cold start of 2 workers (first epoch, time to its first batch): ${cold.first.toFixed(2)} s`);
console.log(`worker buffers of the numWorkers 2 loader over all its epochs: allocated ${rows.stats.allocated}, reused ${rows.stats.reused}`);
for (const l of loaders.values()) await l.close();
mkdirSync(dirname(JSON_OUT), { recursive: true });
writeFileSync(JSON_OUT, JSON.stringify({ date: new Date().toISOString(), items: ds.length, batch: BATCH, batches, rounds: rows, ratio, coldStartFirstBatchS: cold.first }, null, 2));
