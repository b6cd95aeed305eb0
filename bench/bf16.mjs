// bfloat16 against float32, in one process, three modes: float32; autocast (float32 tensors,
// bf16 GEMMs); the bfloat16 dtype (parameters and activations stored in bfloat16, model.to() and
// the input cast). The W3 and W5 training steps (alternating rounds, best round's median each, as
// bench/run.mjs) with each mode's parameter bytes, forward activation bytes (every leaf module's
// output) and the step's peak bytes above the resident state; with --accuracy, a 2-epoch
// Fashion-MNIST CNN (the demo's model) trained once per mode from the same seed.
//
//   npm run build:ts && node bench/bf16.mjs [--rounds 3] [--accuracy] [--limit N] [--modes a,b] [--json FILE]
//   KILN_BF16=emulate node bench/bf16.mjs ...    (the fallback path on an AVX512_BF16 machine)
// --modes picks among float32, autocast, bfloat16 (default: all three).
//
// The full data set is read from /usr/share/datasets/fashion-mnist when present, else the subset
// in data/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const models = await import(pathToFileURL(join(root, 'bench/models.mjs')).href);
const { optim, F, nn, data } = kiln;

const argv = process.argv.slice(2);
const argValue = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const rounds = Number(argValue('--rounds', '3'));
const jsonPath = argValue('--json', join(root, 'bench/out/bf16.json'));
const limit = argValue('--limit') ? Number(argValue('--limit')) : undefined;
const MODES = argValue('--modes', 'float32,autocast,bfloat16').split(',');
for (const m of MODES) if (!['float32', 'autocast', 'bfloat16'].includes(m)) throw new Error(`--modes: unknown mode ${m}`);

/** Median milliseconds of fn after a warm-up (bench/run.mjs's rule: >= 5 runs and 0.3 s, then >= 30 runs and 1 s). */
function measure(fn) {
  const clock = () => performance.now();
  for (let i = 0, t0 = clock(); i < 5 || clock() - t0 < 300; i++) fn();
  const times = [];
  for (let t0 = clock(); times.length < 30 || clock() - t0 < 1000;) {
    const t = clock();
    fn();
    times.push(clock() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The workload in a mode: the bfloat16 dtype converts the model and the input. */
function inMode([model, x, y], mode) {
  return mode === 'bfloat16' ? [model.to('bfloat16'), x.to('bfloat16'), y] : [model, x, y];
}

/** One training step (forward, loss, backward, Adam), the forward and backward under the mode's precision. */
function stepper([model, x, y], mode) {
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const step = () => kiln.scope(() => {
    const loss = F.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  });
  return mode === 'autocast' ? () => kiln.autocast({ dtype: 'bfloat16' }, step) : step;
}

const BYTES = { float32: 4, bfloat16: 2, int32: 4, float64: 8 };
const bytesOf = (t) => t.numel * BYTES[t.dtype];

/** Parameter bytes, the forward's leaf outputs (activations) in bytes, and one step's peak above the resident state. */
function footprint([model, x, y], step) {
  const params = model.parameters().reduce((b, p) => b + bytesOf(p), 0);
  let activations = 0;
  const handles = [...model.modules()].filter((m) => m.children().length === 0)
    .map((m) => m.registerForwardHook((_m, _in, out) => { activations += bytesOf(out); }));
  kiln.noGrad(() => kiln.scope(() => { model.forward(x); }));
  handles.forEach((h) => h.remove());
  step(); // optimizer state exists from here on
  const resident = kiln.memory().bytes;
  kiln.resetPeak();
  step();
  return { params, activations, stepPeak: kiln.memory().peakBytes - resident };
}

const info = kiln.backendInfo().cpu;
console.log(`CPU ${cpus()[0]?.model}, Kiln ${info.isa} with ${info.threads} threads, bf16 path: ${info.bf16}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

const workloads = [
  { id: 'W3', what: 'MLP 784-2048-2048-10, batch 256, step', make: () => models.mlp(kiln, [784, 2048, 2048, 10], 256) },
  { id: 'W5', what: 'CNN conv32-pool-conv64-pool-linear, batch 64, step', make: () => models.cnn(kiln) },
];
const report = { date: new Date().toISOString(), cpu: cpus()[0]?.model, backend: info, loadBefore: loadavg(), modes: MODES, speed: [], accuracy: null };
const mb = (b) => (b / 2 ** 20).toFixed(2);
for (const w of workloads) {
  const fns = {}, memory = {}, all = {};
  for (const mode of MODES) {
    kiln.manualSeed(0);
    const work = inMode(w.make(), mode);
    fns[mode] = stepper(work, mode);
    memory[mode] = footprint(work, fns[mode]);
    all[mode] = [];
  }
  for (let r = 0; r < rounds; r++) for (const mode of MODES) all[mode].push(measure(fns[mode]));
  const best = Object.fromEntries(MODES.map((m) => [m, Math.min(...all[m])]));
  report.speed.push({ id: w.id, what: w.what, rounds: all, best, memory,
    ratio: Object.fromEntries(MODES.map((m) => [m, best[m] / (best.float32 ?? best[m])])) });
  console.log(`${w.id} ${w.what}:`);
  for (const m of MODES) {
    console.log(`  ${m.padEnd(8)} ${best[m].toFixed(2)} ms${best.float32 ? ` (x${(best[m] / best.float32).toFixed(2)} of float32)` : ''}, ` +
      `rounds ${all[m].map((t) => t.toFixed(1)).join('/')}; parameters ${mb(memory[m].params)} MiB, activations ` +
      `${mb(memory[m].activations)} MiB, step peak ${mb(memory[m].stepPeak)} MiB`);
  }
}

if (argv.includes('--accuracy')) {
  const fullDir = '/usr/share/datasets/fashion-mnist';
  const dir = existsSync(join(fullDir, 'train-images-idx3-ubyte.gz')) ? fullDir : join(root, 'data/fashion-mnist-subset');
  const train = await data.loadFashionMnist(dir, { split: 'train', limit });
  const test = await data.loadFashionMnist(dir, { split: 'test' });
  const mean = train.images.mean().item();
  const std = train.images.std().item();
  const xTrain = train.images.sub(mean).div(std);
  const xTest = test.images.sub(mean).div(std);
  report.accuracy = { data: dir, train: train.labels.shape[0], test: test.labels.shape[0], epochs: 2, runs: {} };
  /** The input's cast, as the model's first layer (the data set stays float32). */
  class ToBfloat16 extends nn.Module {
    forward(x) { return x.to('bfloat16'); }
  }
  for (const mode of MODES) {
    kiln.manualSeed(0);
    let model = new nn.Sequential(
      new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(64 * 7 * 7, 10));
    if (mode === 'bfloat16') model = new nn.Sequential(new ToBfloat16(), model.to('bfloat16'));
    const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const trainData = new data.DataLoader(new data.TensorDataset(xTrain, train.labels), { batchSize: 64, shuffle: true, seed: 0 });
    const testData = new data.DataLoader(new data.TensorDataset(xTest, test.labels), { batchSize: 500 });
    const run = () => kiln.fit(model, { trainData, valData: testData, epochs: 2, optimizer, verbose: false });
    const t0 = performance.now();
    // the whole fit (forward, backward, evaluation) under the precision
    const history = mode === 'autocast' ? await kiln.autocast({ dtype: 'bfloat16' }, run) : await run();
    const seconds = (performance.now() - t0) / 1000;
    const last = history.epochs.at(-1);
    report.accuracy.runs[mode] = { testAccuracy: last.valAccuracy, testLoss: last.valLoss, trainLoss: last.loss, seconds,
      epochSeconds: history.epochs.map((e) => e.seconds) };
    console.log(`Fashion-MNIST CNN, 2 epochs, ${mode}: test accuracy ${(100 * last.valAccuracy).toFixed(2)}%, test loss ` +
      `${last.valLoss.toFixed(4)}, ${seconds.toFixed(1)} s (${dir === fullDir ? 'full data set' : 'subset'}, ${train.labels.shape[0]} training images)`);
  }
}
report.loadAfter = loadavg();
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}; JSON in ${jsonPath}`);
