// The benchmark suite (issue workloads W1-W7): Kiln, and PyTorch CPU in the same run when
// present, and TensorFlow.js's WASM backend (bench/peers/tfjs_workloads.mjs, devDependencies)
// when installed. Prints a table of medians with Kiln/peer ratios, targets and spreads, and
// writes JSON.
//
//   node bench/run.mjs [--quick] [--peers] [--rounds N] [--min-time S] [--json FILE]
//                      [--only W2,W3] [--peer-kernel NAME] [--no-tfjs]
//
// Each workload is warmed up (at least 5 runs and 0.3 s, so the JIT has settled: a training loop
// runs thousands of steps) and then timed for at least 30 runs and --min-time seconds (default
// 2); the figure is the median run. With --peers the sides alternate for N rounds (default 5;
// Kiln, PyTorch, TF.js, Kiln, ...) and each side keeps its best round's median: the machines
// are shared, and a burst of someone else's load lands on one round instead of skewing one side.
// The spread column is (slowest - fastest) / fastest round median; the JSON keeps every round.
// The PyTorch peer's OpenBLAS kernel is chosen to match Kiln's instruction-set path
// (bench/peer-blas.mjs); the header says which kernel ran and why.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { fmaPeak } from './fma-peak.mjs';
import { choosePeerBlas, failure, python } from './peer-blas.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { optim, F } = kiln;
const models = await import(pathToFileURL(join(root, 'bench/models.mjs')).href);

const argv = process.argv.slice(2);
const known = ['--quick', '--peers', '--rounds', '--min-time', '--json', '--only', '--peer-kernel', '--no-tfjs'];
for (const a of argv) {
  if (a.startsWith('--') && !known.includes(a)) throw new Error(`${a}: unknown option; expected one of ${known.join(', ')}`);
}
const quick = argv.includes('--quick');
const wantPeers = argv.includes('--peers');
const argValue = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const jsonPath = argValue('--json', join(root, 'bench/out/suite.json'));
const only = argv.includes('--only') ? new Set(argValue('--only').split(',')) : null;
const rounds = Number(argValue('--rounds', wantPeers && !quick ? '5' : '1'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds: expected a positive integer, got ${argValue('--rounds')}`);
const minTime = Number(argValue('--min-time', quick ? '0.2' : '2'));
if (!(minTime > 0)) throw new Error(`--min-time: expected seconds > 0, got ${argValue('--min-time')}`);
// warm-up runs, warm-up seconds, timed runs, timed seconds (the peers get the same)
const timing = quick ? [2, 0.05, 5, minTime] : [5, 0.3, 30, minTime];

/** Median milliseconds of fn: warm up, then time at least minIters runs and minSec. */
function measure(fn) {
  const [warmIters, warmSec, minIters, minSec] = timing;
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

// target: the issue's bar on Kiln/PyTorch time (W1: on the rate, Kiln >= 0.95x PyTorch's at every size)
const workloads = [];
const gemmSizes = quick ? [256, 512] : [256, 512, 1024, 2048];
for (const n of gemmSizes) {
  workloads.push({
    id: `W1-${n}`, what: `sgemm ${n}`, flops: 2 * n ** 3, rateTarget: 0.95,
    make: () => {
      const a = kiln.randn([n, n]);
      const b = kiln.randn([n, n]);
      return () => kiln.matmul(a, b).dispose();
    },
  });
}
workloads.push({ id: 'W2', what: 'MLP 784-512-256-10, batch 128, step', target: 0.7, make: () => mlp([784, 512, 256, 10], 128) });
if (!quick) workloads.push({ id: 'W3', what: 'MLP 784-2048-2048-10, batch 256, step', target: 0.6, make: () => mlp([784, 2048, 2048, 10], 256) });
workloads.push({ id: 'W4', what: 'MLP 4-32-32-2, batch 32, step', target: 0.2, make: () => mlp([4, 32, 32, 2], 32) });
workloads.push({
  id: 'W5', what: 'CNN 1x28x28 conv32-pool-conv64-pool-linear, batch 64, step', target: 0.8,
  make: () => stepper(...models.cnn(kiln)),
});
workloads.push({
  id: 'W6', what: 'LSTM 64->128, seq 35, batch 32, last state -> linear 10, step', target: 1.0,
  make: () => stepper(...models.lstmLastStep(kiln)),
});
workloads.push({
  id: 'W7', what: `Adam update of ${quick ? 1 : 10} M parameters`, target: 0.5,
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
function runPeer(cmd, args, env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const last = (r.stdout ?? '').trim().split('\n').at(-1);
  if (r.status !== 0 || !last?.startsWith('{')) return { failed: failure(r) };
  return JSON.parse(last);
}

const mode = quick ? '--quick' : '--full';
const info = kiln.backendInfo();
const peerArgs = (ids) => [mode, ids.join(','), timing.join(',')];

// Which peers run, and on what; a peer that cannot run says why in the header.
const peers = [];
if (wantPeers) {
  const blas = choosePeerBlas(info.cpu.isa, { kernel: argValue('--peer-kernel') });
  peers.push({
    name: 'PyTorch', note: blas.note, failed: blas.env ? null : blas.note,
    run: (ids) => runPeer(python, [join(root, 'bench/peers/torch_workloads.py'), ...peerArgs(ids)], blas.env),
  });
  if (argv.includes('--no-tfjs')) {
    peers.push({ name: 'TF.js', note: 'TF.js peer not run: --no-tfjs', failed: 'TF.js peer not run: --no-tfjs', off: true });
  } else {
    const script = join(root, 'bench/peers/tfjs_workloads.mjs');
    peers.push({
      name: 'TF.js', note: 'TensorFlow.js 4.22 WASM backend (SIMD build, 1 thread: Node gets no threaded build)',
      failed: existsSync(script) ? null : 'TF.js peer not run: bench/peers/tfjs_workloads.mjs is not in this install',
      run: (ids) => runPeer(process.execPath, [script, ...peerArgs(ids)], process.env),
    });
  }
}

// the commit measured: read at the start (the tree may move while the rounds run)
const commit = (() => {
  const g = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (g.status !== 0) return 'unknown';
  const dirty = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).stdout.trim();
  return g.stdout.trim() + (dirty ? ' (with uncommitted changes)' : '');
})();

// The FMA ceiling of Kiln's path (a register-only loop, bench/fma-peak.cc): W1's bar on this machine.
const peak = fmaPeak(quick ? 0.1 : 0.3);

kiln.manualSeed(0);
const chosen = workloads.filter((w) => !only || only.has(w.id) || only.has(w.id.split('-')[0]));
const ids = chosen.map((w) => w.id);
const steps = chosen.map((w) => w.make());
const results = chosen.map((w) => ({ id: w.id, what: w.what, rounds: [], peers: Object.fromEntries(peers.map((p) => [p.name, []])) }));
const load = [loadavg()[0]];
const skipped = {};
const t0 = Date.now();
for (let round = 0; round < rounds; round++) {
  chosen.forEach((w, i) => results[i].rounds.push(measure(steps[i])));
  for (const p of peers) {
    if (p.failed) continue;
    const out = p.run(ids);
    if (out.failed) {
      // a peer that fails mid-run keeps the rounds it finished; the header says why
      p.failed = `${p.name} peer failed in round ${round + 1}: ${out.failed}`;
      console.log(p.failed);
      continue;
    }
    results.forEach((r) => {
      if (typeof out[r.id] === 'number') r.peers[p.name].push(out[r.id]);
      if (typeof out[`${r.id}-peakMB`] === 'number') r.torchPeakMB = out[`${r.id}-peakMB`];
    });
    for (const [id, why] of Object.entries(out.skipped ?? {})) skipped[`${p.name} ${id}`] = why;
  }
  load.push(loadavg()[0]);
}

const best = (xs) => (xs.length ? Math.min(...xs) : undefined);
const spread = (xs) => (xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / Math.min(...xs) : undefined);
for (const [i, w] of chosen.entries()) {
  const r = results[i];
  r.ms = best(r.rounds);
  r.spread = spread(r.rounds);
  if (w.flops) r.gflops = w.flops / r.ms / 1e6;
  r.peerMs = {};
  r.peerSpread = {};
  for (const p of peers) {
    r.peerMs[p.name] = best(r.peers[p.name]);
    r.peerSpread[p.name] = spread(r.peers[p.name]);
  }
  const torch = r.peerMs.PyTorch;
  if (torch !== undefined) {
    r.ratio = r.ms / torch; // Kiln time / PyTorch time: lower is better
    if (w.target !== undefined) { r.target = `<= ${w.target}`; r.met = r.ratio <= w.target; }
    if (w.rateTarget !== undefined) { r.target = `rate >= ${w.rateTarget}x`; r.met = torch / r.ms >= w.rateTarget; }
  }
}

const cpuModel = cpus()[0]?.model?.trim() ?? 'unknown';
const g = info.cpu.gemm;
const header = [
  `${new Date().toISOString()}, commit ${commit}, CPU ${cpuModel} (${cpus().length} logical CPUs), load average ${load.map((x) => x.toFixed(1)).join(' -> ')} (start, after each round)`,
  `Kiln ${info.cpu.isa} path (${info.cpu.reason}; processor supports ${info.cpu.detectedIsa}), ${info.cpu.threads} threads, ` +
    `GEMM tile ${g.mr}x${g.nr}, blocking kc ${g.kc} mc ${g.mc} nc ${g.nc} (${g.blocking})`,
  peak.ok
    ? `FMA ceiling (register-only loop, in this run): ${Object.entries(peak.peak).map(([isa, t]) => `${isa} ${Object.entries(t).map(([n, g]) => `${g.toFixed(0)} GFLOP/s on ${n} thread${n === '1' ? '' : 's'}`).join(', ')}`).join('; ')}`
    : `FMA ceiling not measured: ${peak.why}`,
  ...peers.map((p) => p.failed ?? p.note),
  `${rounds} round${rounds > 1 ? 's' : ''} alternating; each side's best round median (>= ${timing[2]} runs and ${timing[3]} s after >= ${timing[0]} runs and ${timing[1]} s of warm-up); ` +
    `spread = (slowest - fastest) / fastest round median; ${((Date.now() - t0) / 60e3).toFixed(1)} min`,
];
for (const line of header) console.log(line);
const fmt = (v, d = 3) => (v === undefined ? '-' : v.toFixed(d));
const pct = (v) => (v === undefined ? '-' : `${(100 * v).toFixed(0)}%`);
const names = peers.filter((p) => !p.off).map((p) => p.name); // a peer turned off gets no columns
const row = (cells) => console.log(`| ${cells.join(' | ')} |`);
row(['id', 'workload', 'Kiln ms', ...names.flatMap((n) => [`${n} ms`, `Kiln/${n}`]), 'target', 'met', `spread Kiln${names.map((n) => ` / ${n}`).join('')}`]);
row(['---', '---', '---:', ...names.flatMap(() => ['---:', '---:']), '---', '---', '---']);
for (const r of results) {
  const kms = `${fmt(r.ms)}${r.gflops ? ` (${r.gflops.toFixed(1)} GFLOP/s)` : ''}`;
  const cols = names.flatMap((n) => [fmt(r.peerMs[n]), fmt(r.peerMs[n] === undefined ? undefined : r.ms / r.peerMs[n], 2)]);
  const met = r.met === undefined ? '-' : r.met ? 'yes' : '**no**';
  row([r.id, r.what, kms, ...cols, r.target ?? '-', met, [r.spread, ...names.map((n) => r.peerSpread[n])].map(pct).join(' / ')]);
}
for (const [k, why] of Object.entries(skipped)) console.log(`${k}: ${why}`);
// W8/W9 also report memory: Kiln's peak above the inputs, PyTorch's peak RSS growth
chosen.forEach((w, i) => {
  const r = results[i];
  if (w.memory) r.peakMB = w.memory() / 2 ** 20;
  if (r.peakMB !== undefined) {
    console.log(`${r.id} memory: Kiln peak ${r.peakMB.toFixed(1)} MB above the inputs` +
      (r.torchPeakMB !== undefined ? `, PyTorch ${r.torchPeakMB.toFixed(1)} MB (its allocator's peak RSS growth)` : ''));
  }
});
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({
  date: new Date().toISOString(), commit, cpuModel, loadAverage: load, quick, rounds, timing, fmaPeak: peak.ok ? peak.peak : peak.why,
  backend: info.cpu, peers: peers.map((p) => ({ name: p.name, note: p.note, failed: p.failed })), results,
}, null, 2));
console.log(`JSON: ${jsonPath}`);
