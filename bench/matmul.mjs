// GEMM benchmark (workload W1): Kiln's CPU gemm through the raw addon, in GFLOP/s, at square
// sizes and at the shapes a 784->512 Linear layer trains with (batch 128), with PyTorch CPU
// (torch.mm) measured in the same run when present; its OpenBLAS kernel is chosen to match
// Kiln's instruction-set path (bench/peer-blas.mjs, as in bench/run.mjs).
//
//   node bench/matmul.mjs [--quick] [--no-peer] [--rounds N] [--json FILE]
//
// Each round measures Kiln (tinybench 4, median latency per shape) and then the peer (median
// per shape); the machine is shared, so the table keeps each shape's best round median for
// either side (--rounds, default 3). Prints the table and writes bench/out/matmul.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Bench } from 'tinybench';

import { choosePeerBlas, failure, python } from './peer-blas.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const native = createRequire(import.meta.url)(join(root, 'build/Release/kiln.node'));
native.setErrorClass(class KilnError extends Error {});

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const wantPeer = !argv.includes('--no-peer');
const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : quick ? 1 : 3;
const jsonPath = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : join(root, 'bench/out/matmul.json');
const target = 0.95; // issue 20: Kiln's rate >= 0.95x OpenBLAS's at 256-4096 and on the W2/W3 shapes

// C (M x N) = op(A) (M x K) @ op(B) (K x N)
const shapes = [
  ...[256, 512, 1024, 2048, ...(quick ? [] : [4096])].map((n) => ({ name: `square ${n}`, M: n, N: n, K: n, transA: false, transB: false })),
  { name: 'fwd   X·W    128x784·784x512', M: 128, N: 512, K: 784, transA: false, transB: false },
  { name: 'bwd   dY·Wᵀ  128x512·(784x512)ᵀ', M: 128, N: 784, K: 512, transA: false, transB: true },
  { name: 'bwd   Xᵀ·dY  (128x784)ᵀ·128x512', M: 784, N: 512, K: 128, transA: true, transB: false },
  { name: 'fwd   X·Wᵀ   128x784·(512x784)ᵀ', M: 128, N: 512, K: 784, transA: false, transB: true },
  { name: 'head  X·Wᵀ   128x512·(10x512)ᵀ', M: 128, N: 10, K: 512, transA: false, transB: true },
  // the five large GEMMs of W3's step (MLP 784-2048-2048-10, batch 256)
  { name: 'W3 fwd1 X·Wᵀ 256x784·(2048x784)ᵀ', M: 256, N: 2048, K: 784, transA: false, transB: true },
  { name: 'W3 fwd2 X·Wᵀ 256x2048·(2048x2048)ᵀ', M: 256, N: 2048, K: 2048, transA: false, transB: true },
  { name: 'W3 bwd2 dY·W 256x2048·2048x2048', M: 256, N: 2048, K: 2048, transA: false, transB: false },
  { name: 'W3 bwd2 dYᵀ·X (256x2048)ᵀ·256x2048', M: 2048, N: 2048, K: 256, transA: true, transB: false },
  { name: 'W3 bwd1 dYᵀ·X (256x2048)ᵀ·256x784', M: 2048, N: 784, K: 256, transA: true, transB: false },
];

function randomBuffer(n) {
  const h = native.alloc(0, 0, n);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random();
  native.write(h, 0, a);
  return h;
}

async function kilnResults() {
  // at least 10 calls (not tinybench's 64: square 4096 is ~0.6 s a call) and the time
  const bench = new Bench({ time: quick ? 150 : 400, iterations: 10, warmupTime: quick ? 30 : 100, warmupIterations: 3 });
  const handles = [];
  for (const s of shapes) {
    const { M, N, K, transA, transB } = s;
    const A = randomBuffer(M * K), B = randomBuffer(K * N), C = native.alloc(0, 0, M * N);
    handles.push(A, B, C);
    const lda = transA ? M : K, ldb = transB ? K : N;
    bench.add(s.name, () => {
      native.gemm(transA, transB, M, N, K, 1, A, 0, lda, 0, B, 0, ldb, 0, 0, C, 0, N, 0, 1);
    });
  }
  await bench.run();
  const out = bench.tasks.map((t, i) => {
    const s = shapes[i];
    const ms = t.result.latency.p50; // median milliseconds per call
    return { name: s.name, ms, gflops: (2 * s.M * s.N * s.K) / (ms * 1e-3) / 1e9 };
  });
  for (const h of handles) native.release(h);
  return out;
}

const info = native.cpuInfo();
const blas = wantPeer ? choosePeerBlas(info.isa) : { env: null, note: 'peer disabled (--no-peer)' };
if (wantPeer) console.log(blas.note);

function peerResults() {
  if (!blas.env) return { skipped: blas.note };
  const r = spawnSync(python, [join(root, 'bench/peers/torch_matmul.py'), JSON.stringify(shapes)], {
    env: blas.env,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const last = (r.stdout ?? '').trim().split('\n').at(-1);
  if (r.status !== 0 || !last?.startsWith('{')) return { skipped: `torch peer failed: ${failure(r)}` };
  return JSON.parse(last);
}

let kiln, peer;
const kilnRounds = [], peerRounds = [];
for (let r = 0; r < rounds; r++) {
  const k = await kilnResults();
  const p = peerResults();
  kilnRounds.push(k.map((x) => x.gflops));
  if (p.results) peerRounds.push(p.results.map((x) => x.gflops));
  kiln = kiln ? kiln.map((x, i) => (k[i].gflops > x.gflops ? k[i] : x)) : k;
  if (!p.results) peer = peer ?? p;
  else if (!peer?.results) peer = p;
  else peer.results = peer.results.map((x, i) => (p.results[i].gflops > x.gflops ? p.results[i] : x));
}

const pad = (s, n) => String(s).padEnd(n);
const num = (x, n) => (x === undefined ? '-' : x.toFixed(1)).padStart(n);
const spread = (xs) => (xs.length > 1 ? `${((100 * (Math.max(...xs) - Math.min(...xs))) / Math.min(...xs)).toFixed(0)}%` : '-');
console.log(`${new Date().toISOString()}, CPU ${cpus()[0]?.model?.trim()}, load average ${loadavg()[0].toFixed(1)}; best of ${rounds} round(s); ` +
  `Kiln gemm: isa=${info.isa} (${info.reason}) threads=${info.threads}` +
  (peer.results ? `; peer: torch ${peer.torch} (${peer.threads} threads, OpenBLAS kernel ${peer.corename ?? peer.coretype ?? 'its own choice'})` : `; peer: ${peer.skipped}`));
console.log(`${pad('shape', 36)}${'Kiln GF/s'.padStart(11)}${'torch GF/s'.padStart(12)}${'ratio'.padStart(8)}${`>= ${target}`.padStart(8)}${'spread K/T'.padStart(12)}`);
const rows = kiln.map((k, i) => {
  const p = peer.results?.[i];
  const ratio = p ? k.gflops / p.gflops : undefined;
  const met = ratio === undefined ? '-' : ratio >= target ? 'yes' : 'no';
  const spreads = `${spread(kilnRounds.map((g) => g[i]))}/${spread(peerRounds.map((g) => g[i]))}`;
  console.log(`${pad(k.name, 36)}${num(k.gflops, 11)}${num(p?.gflops, 12)}${(ratio === undefined ? '-' : ratio.toFixed(2)).padStart(8)}${met.padStart(8)}${spreads.padStart(12)}`);
  return { ...shapes[i], kilnMs: k.ms, kilnGflops: k.gflops, torchGflops: p?.gflops, ratio,
    kilnRounds: kilnRounds.map((g) => g[i]), torchRounds: peerRounds.map((g) => g[i]) };
});

mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({
  workload: 'W1 gemm',
  rounds,
  date: new Date().toISOString(),
  node: process.version,
  cpu: info,
  peer: peer.results ? { torch: peer.torch, threads: peer.threads, coretype: peer.coretype, blas: peer.blas, note: blas.note } : peer,
  rows,
}, null, 2) + '\n');
console.log(`wrote ${jsonPath}`);
