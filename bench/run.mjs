// The benchmark suite (issue workloads W1-W7): Kiln, and PyTorch CPU in the same run when
// present. Prints a table of medians with Kiln/peer ratios and writes JSON.
//
//   node bench/run.mjs [--quick] [--peers] [--json FILE] [--only W2,W3]
// PyTorch runs with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels; its best setting here).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { nn, optim, F } = kiln;

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const wantPeers = argv.includes('--peers');
const jsonPath = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : join(root, 'bench/out/suite.json');
const only = argv.includes('--only') ? new Set(argv[argv.indexOf('--only') + 1].split(',')) : null;

/** Median milliseconds of fn over `iters` runs after `warmup` runs. */
function measure(fn, { warmup = quick ? 2 : 5, iters = quick ? 5 : 30 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** One training step (forward, loss, backward, Adam) inside a scope, as users write it. */
function stepper(model, x, y) {
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  return () =>
    kiln.scope(() => {
      const loss = F.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
}

// Until kiln.nn lands, W2-W5 are built from kiln.F with the same layers and math (marked "F").
const fallback = !nn;
const nnops = fallback ? await import(pathToFileURL(join(root, 'dist/ops/nn.js')).href) : null;
const param = (shape) => kiln.randn(shape).mul(0.05).requiresGrad_();
function functionalStepper(params, forward, x, y) {
  const opt = new optim.Adam(params, { lr: 1e-3 });
  return () =>
    kiln.scope(() => {
      const loss = nnops.crossEntropyRows(forward(x), y).mean();
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
}
function functionalMlp(sizes, batch) {
  const ws = [];
  for (let i = 0; i + 1 < sizes.length; i++) ws.push([param([sizes[i + 1], sizes[i]]), param([sizes[i + 1]])]);
  const forward = (x) => ws.reduce((h, [w, b], i) => (i + 1 < ws.length ? F.relu(F.linear(h, w, b)) : F.linear(h, w, b)), x);
  return functionalStepper(ws.flat(), forward, kiln.randn([batch, sizes[0]]), kiln.randint(0, sizes.at(-1), [batch]));
}
function functionalCnn() {
  const c1 = param([32, 1, 3, 3]), c1b = param([32]), c2 = param([64, 32, 3, 3]), c2b = param([64]);
  const fw = param([10, 64 * 7 * 7]), fb = param([10]);
  const forward = (x) => {
    let h = F.maxPool2d(F.relu(F.conv2d(x, c1, c1b, { padding: 1 })), 2);
    h = F.maxPool2d(F.relu(F.conv2d(h, c2, c2b, { padding: 1 })), 2);
    return F.linear(h.flatten(1), fw, fb);
  };
  return functionalStepper([c1, c1b, c2, c2b, fw, fb], forward, kiln.randn([64, 1, 28, 28]), kiln.randint(0, 10, [64]));
}

function mlp(sizes, batch) {
  if (fallback) return functionalMlp(sizes, batch);
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.length) layers.push(new nn.ReLU());
  }
  return stepper(new nn.Sequential(...layers), kiln.randn([batch, sizes[0]]), kiln.randint(0, sizes.at(-1), [batch]));
}

// Defined only when kiln.nn is present (W1 and W7 run without it).
const LastStep = nn && class extends nn.Module {
  constructor() {
    super();
    this.lstm = new nn.LSTM(64, 128, { batchFirst: true });
    this.head = new nn.Linear(128, 10);
  }
  forward(x) {
    const [out] = this.lstm.forward(x);
    return this.head.forward(out.select(1, out.shape[1] - 1));
  }
}

const workloads = [];
const gemmSizes = quick ? [256, 512] : [256, 512, 1024, 2048];
for (const n of gemmSizes) {
  workloads.push({
    id: `W1-${n}`, what: `sgemm ${n}`, unit: 'GFLOP/s', flops: 2 * n ** 3,
    make: () => {
      const a = kiln.randn([n, n]);
      const b = kiln.randn([n, n]);
      return () => kiln.matmul(a, b).dispose();
    },
  });
}
workloads.push({ id: 'W2', what: 'MLP 784-512-256-10, batch 128, step', make: () => mlp([784, 512, 256, 10], 128) });
if (!quick) workloads.push({ id: 'W3', what: 'MLP 784-2048-2048-10, batch 256, step', make: () => mlp([784, 2048, 2048, 10], 256) });
workloads.push({ id: 'W4', what: 'MLP 4-32-32-2, batch 32, step', make: () => mlp([4, 32, 32, 2], 32) });
workloads.push({
  id: 'W5', what: 'CNN 1x28x28 conv32-pool-conv64-pool-linear, batch 64, step',
  make: () => {
    if (fallback) return functionalCnn();
    const model = new nn.Sequential(
      new nn.Conv2d(1, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(32, 64, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(64 * 7 * 7, 10));
    return stepper(model, kiln.randn([64, 1, 28, 28]), kiln.randint(0, 10, [64]));
  },
});
if (!fallback) workloads.push({
  id: 'W6', what: 'LSTM 64->128, seq 35, batch 32, last state -> linear 10, step',
  make: () => stepper(new LastStep(), kiln.randn([32, 35, 64]), kiln.randint(0, 10, [32])),
});
workloads.push({
  id: 'W7', what: `Adam update of ${quick ? 1 : 10} M parameters`,
  make: () => {
    const n = (quick ? 1 : 10) * 1_000_000;
    const p = kiln.randn([n], { requiresGrad: true });
    p.grad = kiln.randn([n]);
    const opt = new optim.Adam([p], { lr: 1e-3 });
    return () => opt.step();
  },
});

function runPeers(ids) {
  const script = join(root, 'bench/peers/torch_workloads.py');
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const r = spawnSync(python, [script, quick ? '--quick' : '--full', ids.join(',')], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' }, maxBuffer: 1 << 24,
  });
  if (r.status !== 0) {
    console.log(`PyTorch peer not run: ${(r.stderr || r.error?.message || '').trim().split('\n').at(-1)}`);
    return {};
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

kiln.manualSeed(0);
const results = [];
for (const w of workloads) {
  if (only && !only.has(w.id) && !only.has(w.id.split('-')[0])) continue;
  const fn = w.make();
  const ms = measure(fn);
  results.push({ id: w.id, what: w.what, ms, gflops: w.flops ? w.flops / ms / 1e6 : undefined });
}
const peers = wantPeers ? runPeers(results.map((r) => r.id)) : {};
for (const r of results) {
  const p = peers[r.id];
  if (p !== undefined) {
    r.torchMs = p;
    r.ratio = r.ms / p; // Kiln time / PyTorch time: lower is better
  }
}

const info = kiln.backendInfo();
console.log(`Kiln ${info.cpu.isa}, ${info.cpu.threads} threads${wantPeers ? '; PyTorch peer in the same run' : ''}` +
  (fallback ? '; kiln.nn absent: W2-W5 built from kiln.F, W6 skipped' : ''));
console.log('| id | workload | Kiln ms | Kiln GFLOP/s | PyTorch ms | Kiln/PyTorch time |');
console.log('|---|---|---|---|---|---|');
for (const r of results) {
  const fmt = (v, d = 3) => (v === undefined ? '-' : v.toFixed(d));
  console.log(`| ${r.id} | ${r.what} | ${fmt(r.ms)} | ${fmt(r.gflops, 1)} | ${fmt(r.torchMs)} | ${fmt(r.ratio, 2)} |`);
}
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), quick, backend: info.cpu, results }, null, 2));
console.log(`JSON: ${jsonPath}`);
