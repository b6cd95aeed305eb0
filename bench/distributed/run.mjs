// The distributed benchmark: Kiln beside PyTorch 1.13 (Debian's python3-torch, Gloo) in the
// same run, on 2 local ranks x 1 CPU thread each.
//
//   node bench/distributed/run.mjs [--rounds N] [--quick] [--json FILE] [--no-peer] [--only allreduce|ddp]
//
//   all-reduce   in-place sum of 1-100 MB float32, GB/s (bytes / time), Kiln's Gloo engine and
//                PyTorch's dist.all_reduce on Gloo
//   DDP W3       W3's MLP (784-2048-2048-10, Adam, 256 rows a step): Kiln DDP 2 ranks x 1 thread,
//                Kiln 1 process x 2 threads, PyTorch DDP 2 ranks x 1 thread; samples/s, and the
//                share of all-reduce time hidden behind backward
//   DDP deep     784-1024x8-10 with 4 MB buckets (Kiln): where backward has compute left to hide
//                the buckets behind, what the overlap achieves
//
// The sides alternate for N rounds (default 3) and each keeps its best round (these 2-core
// machines are shared: a burst of someone else's load lands on one round, not on one side).
// Prints a table; writes every round to the JSON file (default bench/out/distributed.json).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const quick = argv.includes('--quick');
const rounds = Number(arg('--rounds', quick ? '1' : '3'));
const jsonPath = arg('--json', join(root, 'bench/out/distributed.json'));
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const peer = !argv.includes('--no-peer');
const sizes = quick ? '1,16' : '1,4,16,64,100';
const only = arg('--only', null);
const doAllReduce = only === null || only === 'allreduce';
const doDdp = only === null || only === 'ddp';
const minSec = quick ? '0.3' : '1';

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Runs processes to the end; resolves with the JSON line one of them printed. */
function run(commands, what) {
  return Promise.all(commands.map(([cmd, args, env]) => new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => resolve({ code, out }));
  }))).then((rs) => {
    const bad = rs.find((r) => r.code !== 0);
    if (bad) throw new Error(`${what} failed (exit ${bad.code}):\n${rs.map((r) => r.out).join('\n')}`);
    const line = rs.map((r) => r.out).join('\n').split('\n').find((l) => /^(\[rank0\]: )?JSON /.test(l));
    if (!line) throw new Error(`${what}: no result line:\n${rs.map((r) => r.out).join('\n')}`);
    return JSON.parse(line.slice(line.indexOf('JSON ') + 5));
  });
}

const kilnBin = join(root, 'bin', 'kiln.mjs');
const kilnJob = (script, args, env = {}) => run([[process.execPath, [kilnBin, 'launch', '--nproc', '2', '--threads', '1', join(here, script), ...args], env]], script);
async function torchJob(script, args) {
  const port = String(await freePort());
  const env = (r) => ({ RANK: String(r), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' });
  return run([0, 1].map((r) => [python, [join(here, script), ...args], env(r)]), script);
}

const results = [];
for (let round = 1; round <= rounds; round++) {
  const r = { round };
  process.stderr.write(`round ${round}/${rounds}:`);
  if (doAllReduce) {
    process.stderr.write(' Kiln all-reduce');
    r.kilnAllReduce = await kilnJob('allreduce-rank.mjs', [sizes, minSec]);
    if (peer) {
      process.stderr.write(', PyTorch all-reduce');
      r.torchAllReduce = await torchJob('torch_allreduce.py', [sizes, minSec]);
    }
  }
  if (doDdp) {
    process.stderr.write(', Kiln DDP');
    r.kilnDdp = await kilnJob('ddp-rank.mjs', ['ddp', minSec]);
    process.stderr.write(', Kiln 1 process');
    r.kilnSingle = await run([[process.execPath, [join(here, 'ddp-rank.mjs'), 'single', minSec], { KILN_NUM_THREADS: '2' }]], 'single');
    if (peer) {
      process.stderr.write(', PyTorch DDP');
      r.torchDdp = await torchJob('torch_ddp.py', [minSec]);
    }
    process.stderr.write(', Kiln DDP deep');
    r.kilnDeep = await kilnJob('ddp-rank.mjs', ['ddp', minSec, 'auto', 'deep'], { BUCKET_CAP_MB: '4' });
  }
  process.stderr.write('\n');
  results.push(r);
}

const best = (key, score) => results.map((r) => r[key]).filter(Boolean).reduce((a, b) => (score(b) > score(a) ? b : a));
const bestBw = (key, mb) => Math.max(...results.map((r) => r[key]?.find((e) => e.mb === mb)?.gbps ?? 0));
const f = (x, d = 2) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));

const bw = [];
if (doAllReduce) {
  console.log(`\nAll-reduce, 2 ranks on 127.0.0.1 (GB/s = bytes / time; best of ${rounds} rounds)`);
  console.log('| size | Kiln GB/s | PyTorch Gloo GB/s | Kiln / PyTorch |');
  console.log('|---|---|---|---|');
  for (const mb of sizes.split(',').map(Number)) {
    const k = bestBw('kilnAllReduce', mb);
    const t = peer ? bestBw('torchAllReduce', mb) : NaN;
    bw.push({ mb, kiln: k, torch: t, ratio: k / t });
    console.log(`| ${mb} MB | ${f(k)} | ${f(t)} | ${f(k / t)} |`);
  }
}
let kd = null;
let ks = null;
let td = null;
let deep = null;
if (doDdp) {
  kd = best('kilnDdp', (x) => x.samplesPerSec);
  ks = best('kilnSingle', (x) => x.samplesPerSec);
  td = peer ? best('torchDdp', (x) => x.samplesPerSec) : null;
  deep = best('kilnDeep', (x) => x.samplesPerSec);
  console.log(`\nDDP training throughput, W3 MLP 784-2048-2048-10, Adam, 256 rows a step (best of ${rounds} rounds)`);
  console.log('| layout | samples/s | step ms | hidden share (comm thread) | hidden share (from step times) |');
  console.log('|---|---|---|---|---|');
  console.log(`| Kiln DDP, 2 ranks x 1 thread | ${f(kd.samplesPerSec, 0)} | ${f(kd.stepMs, 1)} | ${f(kd.hiddenShare)} | ${f(kd.hiddenFromSteps)} |`);
  console.log(`| Kiln, 1 process x 2 threads | ${f(ks.samplesPerSec, 0)} | ${f(ks.stepMs, 1)} | - | - |`);
  if (td) console.log(`| PyTorch DDP (Gloo), 2 ranks x 1 thread | ${f(td.samplesPerSec, 0)} | ${f(td.stepMs, 1)} | - | ${f(td.hiddenFromSteps)} |`);
  console.log(`| Kiln DDP, deep MLP 784-1024x8-10, 4 MB buckets | ${f(deep.samplesPerSec, 0)} | ${f(deep.stepMs, 1)} | ${f(deep.hiddenShare)} | ${f(deep.hiddenFromSteps)} |`);
  console.log(`\nKiln DDP / Kiln 1 process: ${f(kd.samplesPerSec / ks.samplesPerSec)}` +
    (td ? `; Kiln DDP / PyTorch DDP: ${f(kd.samplesPerSec / td.samplesPerSec)} (target >= 1)` : '') +
    `; hidden share ${f(kd.hiddenShare)} (target >= 0.5)`);
  console.log(`hidden share per round (Kiln W3): ${results.map((r) => f(r.kilnDdp.hiddenShare)).join(', ')}; deep: ${results.map((r) => f(r.kilnDeep.hiddenShare)).join(', ')}`);
}

mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({
  date: new Date().toISOString(), cpu: cpus()[0]?.model, cores: cpus().length, rounds, quick,
  allReduce: bw, ddp: { kiln: kd, kilnSingle: ks, torch: td, kilnDeep: deep }, results,
}, null, 2));
console.log(`\nJSON: ${jsonPath}`);
