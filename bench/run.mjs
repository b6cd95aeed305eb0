// The benchmark suite (issue workloads W1-W7): Kiln, and PyTorch CPU in the same run when
// present, and TensorFlow.js's WASM backend (bench/peers/tfjs_workloads.mjs, devDependencies)
// when installed. Prints a table of medians with Kiln/peer ratios and writes JSON.
//
//   node bench/run.mjs [--quick] [--peers] [--rounds N] [--json FILE] [--only W2,W3]
//
// Each workload is warmed up (at least 5 runs and 0.3 s, so the JIT has settled: a training loop
// runs thousands of steps) and then timed for at least 30 runs and 1 s; the figure is the median
// run. With --peers the sides alternate for N rounds (default 3; Kiln, PyTorch, TF.js, Kiln, ...)
// and each side keeps its best round's median: these 2-core machines are shared, and a burst
// of someone else's load lands on one round instead of skewing one side. The JSON keeps every
// round. PyTorch runs with OPENBLAS_CORETYPE=SkylakeX (its AVX-512 kernels; its best setting here).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { optim, F } = kiln;
const models = await import(pathToFileURL(join(root, 'bench/models.mjs')).href);

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const wantPeers = argv.includes('--peers');
const argValue = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const jsonPath = argValue('--json', join(root, 'bench/out/suite.json'));
const only = argv.includes('--only') ? new Set(argValue('--only').split(',')) : null;
const rounds = Number(argValue('--rounds', wantPeers && !quick ? '3' : '1'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a positive integer, got ${argValue('--rounds')}`);

/** Median milliseconds of fn: warm up, then time at least minIters runs and minSeconds. */
function measure(fn) {
  const [warmIters, warmSec, minIters, minSec] = quick ? [2, 0.05, 5, 0.2] : [5, 0.3, 30, 1];
  const clock = () => performance.now();
  for (let i = 0, t0 = clock(); i < warmIters || clock() - t0 < warmSec * 1e3; i++) fn();
  const times = [];
  for (let t0 = clock(); times.length < minIters || clock() - t0 < minSec * 1e3;) {
    const t = clock();
    fn();
    times.push(clock() - t);
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

const mlp = (sizes, batch) => stepper(...models.mlp(kiln, sizes, batch));

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
  make: () => stepper(...models.cnn(kiln)),
});
workloads.push({
  id: 'W6', what: 'LSTM 64->128, seq 35, batch 32, last state -> linear 10, step',
  make: () => stepper(...models.lstmLastStep(kiln)),
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

// W8: one GPT training step (bench/models.mjs gpt; bench/peers/torch_gpt.py is the same model)
workloads.push({
  id: 'W8', what: 'GPT 4 layers, 4 heads, 256 wide, context 128, batch 16, step (Adam)',
  make: () => {
    const model = models.gpt(kiln, { vocabSize: 65, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 256 });
    const x = kiln.randint(0, 65, [16, 128]);
    const y = kiln.randint(0, 65, [16, 128]);
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    return () => kiln.scope(() => {
      const loss = model.loss(x, y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  },
});
// W9: causal attention forward + backward (the fused kernel; the peer composes softmax(QK^T)V)
workloads.push({
  id: 'W9', what: 'causal attention fwd+bwd, B 8, heads 8, T 512, head dim 64',
  make: () => {
    const [q, k, v] = [0, 1, 2].map(() => kiln.randn([8, 8, 512, 64], { requiresGrad: true }));
    return () => kiln.scope(() => {
      kiln.F.scaledDotProductAttention(q, k, v, { isCausal: true }).sum().backward();
      for (const t of [q, k, v]) {
        t.grad.dispose();
        t.grad = null;
      }
    });
  },
  memory: () => {
    // peak bytes above the inputs during one step (activations and gradients)
    const [q, k, v] = [0, 1, 2].map(() => kiln.randn([8, 8, 512, 64], { requiresGrad: true }));
    kiln.resetPeak();
    const before = kiln.memory().bytes;
    kiln.scope(() => kiln.F.scaledDotProductAttention(q, k, v, { isCausal: true }).sum().backward());
    const peak = kiln.memory().peakBytes - before;
    [q, k, v].forEach((t) => { t.grad?.dispose(); t.dispose(); });
    return peak;
  },
});

/** Runs a peer script; its last stdout line is JSON {id: median ms, skipped?: {id: reason}}. */
function runPeer(name, cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const last = (r.stdout ?? '').trim().split('\n').at(-1);
  if (r.status !== 0 || !last?.startsWith('{')) {
    const why = (r.stderr || r.error?.message || 'no output').trim().split('\n').filter(Boolean).at(-1);
    console.log(`${name} peer not run: ${why}`);
    return null;
  }
  return JSON.parse(last);
}

const mode = quick ? '--quick' : '--full';
function runTorch(ids) {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  return runPeer('PyTorch', python, [join(root, 'bench/peers/torch_workloads.py'), mode, ids.join(',')],
    { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX' });
}
function runTfjs(ids) {
  const script = join(root, 'bench/peers/tfjs_workloads.mjs');
  if (!existsSync(script)) {
    console.log('TF.js peer not run: bench/peers/tfjs_workloads.mjs is not in this install');
    return null;
  }
  return runPeer('TF.js', process.execPath, [script, mode, ids.join(',')]);
}

kiln.manualSeed(0);
const chosen = workloads.filter((w) => !only || only.has(w.id) || only.has(w.id.split('-')[0]));
const ids = chosen.map((w) => w.id);
const steps = chosen.map((w) => w.make());
const results = chosen.map((w) => ({ id: w.id, what: w.what, rounds: [], torchRounds: [], tfjsRounds: [] }));
let torchMissing = !wantPeers;
let tfjsMissing = !wantPeers;
const tfjsSkipped = {};
for (let round = 0; round < rounds; round++) {
  chosen.forEach((w, i) => results[i].rounds.push(measure(steps[i])));
  if (!torchMissing) {
    const peers = runTorch(ids);
    if (peers === null) torchMissing = true;
    else results.forEach((r) => {
      if (peers[r.id] !== undefined) r.torchRounds.push(peers[r.id]);
      if (peers[`${r.id}-peakMB`] !== undefined) r.torchPeakMB = peers[`${r.id}-peakMB`];
    });
  }
  if (!tfjsMissing) {
    const peers = runTfjs(ids);
    if (peers === null) tfjsMissing = true;
    else {
      results.forEach((r) => { if (typeof peers[r.id] === 'number') r.tfjsRounds.push(peers[r.id]); });
      Object.assign(tfjsSkipped, peers.skipped);
    }
  }
}
chosen.forEach((w, i) => {
  const r = results[i];
  if (w.memory) r.peakMB = w.memory() / 2 ** 20;
  r.ms = Math.min(...r.rounds);
  if (w.flops) r.gflops = w.flops / r.ms / 1e6;
  if (r.torchRounds.length > 0) {
    r.torchMs = Math.min(...r.torchRounds);
    r.ratio = r.ms / r.torchMs; // Kiln time / PyTorch time: lower is better
  }
  if (r.tfjsRounds.length > 0) {
    r.tfjsMs = Math.min(...r.tfjsRounds);
    r.tfjsRatio = r.ms / r.tfjsMs; // Kiln time / TF.js time
  } else if (tfjsSkipped[r.id]) {
    r.tfjsSkipped = tfjsSkipped[r.id];
  }
});

const info = kiln.backendInfo();
const spread = (xs) => (xs.length > 1 ? `${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}` : '-');
console.log(`Kiln ${info.cpu.isa}, ${info.cpu.threads} threads; ${rounds} round${rounds > 1 ? 's' : ''}` +
  `${!torchMissing || !tfjsMissing ? `, alternating with ${[!torchMissing && 'PyTorch', !tfjsMissing && 'TF.js WASM (SIMD build, 1 thread)'].filter(Boolean).join(' and ')}` : ''}` +
  "; best round's median");
console.log('| id | workload | Kiln ms | Kiln GFLOP/s | PyTorch ms | Kiln/PyTorch time | TF.js ms | Kiln/TF.js time | Kiln rounds | PyTorch rounds | TF.js rounds |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const fmt = (v, d = 3) => (v === undefined ? '-' : v.toFixed(d));
  console.log(`| ${r.id} | ${r.what} | ${fmt(r.ms)} | ${fmt(r.gflops, 1)} | ${fmt(r.torchMs)} | ${fmt(r.ratio, 2)} | ` +
    `${fmt(r.tfjsMs)} | ${fmt(r.tfjsRatio, 3)} | ${spread(r.rounds)} | ${spread(r.torchRounds)} | ${spread(r.tfjsRounds)} |`);
}
for (const r of results) if (r.tfjsSkipped) console.log(`TF.js ${r.id}: ${r.tfjsSkipped}`);
for (const r of results) {
  if (r.peakMB !== undefined) {
    console.log(`${r.id} memory: Kiln peak ${r.peakMB.toFixed(1)} MB above the inputs` +
      (r.torchPeakMB !== undefined ? `, PyTorch ${r.torchPeakMB.toFixed(1)} MB (its allocator's peak RSS growth)` : ''));
  }
}
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), quick, rounds, backend: info.cpu, results }, null, 2));
console.log(`JSON: ${jsonPath}`);
