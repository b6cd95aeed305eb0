// EM and k-means speed (issue #16): Kiln's GaussianMixture (full covariance, 200k x 32, 16
// components, 50 EM iterations from a fixed init) and KMeans (1M x 16, 32 clusters, Lloyd from
// fixed centers), each beside scikit-learn 1.2 on the same data and init in the same run.
//
//   npm run build:ts && nice -n 10 node bench/mixture.mjs [--rounds N] [--quick] [--only gmm|kmeans] [--no-f32]
//     [--gmm-n N] [--gmm-iters N] [--json FILE]
//
// Rounds alternate Kiln and sklearn (the machine is shared); the table keeps each side's best
// round. Before each timed fit, each side runs an untimed one-iteration fit of the same problem in
// the process that times it (JIT, thread pools, buffers): spawning the sklearn child forks this
// process, which write-protects its memory, so without it Kiln's next fit paid ~36k page faults
// (0.25 s of system time at 1M x 16) that no user loop pays. sklearn runs on the OpenBLAS kernel of Kiln's instruction set (bench/peer-blas.mjs) and its
// default threads (2). Both sides work in float64; a Kiln float32 row is added for reference.
// Prints the table and writes bench/out/mixture.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../dist/index.js';
import { choosePeerBlas } from './peer-blas.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const quick = argv.includes('--quick');
const rounds = Number(arg('--rounds', quick ? 1 : 2));
const only = arg('--only', null);
const jsonPath = arg('--json', join(root, `bench/out/mixture${only ? `-${only}` : ''}.json`));
const gmmCfg = quick ? { n: 20000, d: 32, k: 16, iters: 10 } : { n: 200000, d: 32, k: 16, iters: 50 };
gmmCfg.n = Number(arg('--gmm-n', gmmCfg.n));
gmmCfg.iters = Number(arg('--gmm-iters', gmmCfg.iters));
const noF32 = argv.includes('--no-f32');
const kmCfg = quick ? { n: 100000, d: 16, k: 32, iters: 20 } : { n: 1000000, d: 16, k: 32, iters: 30 };

/** Anisotropic blobs: k centers in [-10, 10]^d, each cluster a random linear map of N(0, I). */
function blobs(n, d, k, seed) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const g = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const centers = Array.from({ length: k }, () => Float64Array.from({ length: d }, () => 20 * u() - 10));
  const maps = Array.from({ length: k }, () => Float64Array.from({ length: d * d }, () => 0.4 * g()));
  const X = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    for (let j = 0; j < d; j++) z[j] = g();
    for (let j = 0; j < d; j++) {
      let v = centers[c][j] + z[j];
      for (let l = 0; l < d; l++) v += maps[c][j * d + l] * z[l];
      X[i * d + j] = v;
    }
  }
  return X;
}
/** k rows of X picked with a stride (the fixed init both sides start from). */
const pickRows = (X, n, d, k) => {
  const out = new Float64Array(k * d);
  for (let j = 0; j < k; j++) out.set(X.subarray(((j * 7919) % n) * d, ((j * 7919) % n) * d + d), j * d);
  return out;
};

const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-mixture-'));
const wantGmm = only !== 'kmeans';
const wantKm = only !== 'gmm';
const gX = wantGmm ? blobs(gmmCfg.n, gmmCfg.d, gmmCfg.k, 1) : null;
const gMeans = wantGmm ? pickRows(gX, gmmCfg.n, gmmCfg.d, gmmCfg.k) : null;
const kX = wantKm ? blobs(kmCfg.n, kmCfg.d, kmCfg.k, 2) : null;
const kInit = wantKm ? pickRows(kX, kmCfg.n, kmCfg.d, kmCfg.k) : null;
const write = (name, a) => a && writeFileSync(join(dir, name), Buffer.from(a.buffer, a.byteOffset, a.byteLength));
write('gmm-X.f64', gX);
write('gmm-means.f64', gMeans);
write('km-X.f64', kX);
write('km-init.f64', kInit);
writeFileSync(join(dir, 'meta.json'), JSON.stringify({ gmm: gmmCfg, kmeans: kmCfg }));

function kilnGmm(dtype, timed = true) {
  if (timed) kilnGmm(dtype, false);  // the untimed warm-up fit
  const { n, d, k } = gmmCfg;
  const iters = timed ? gmmCfg.iters : 1;
  const X = kiln.tensor(gX, { dtype: 'float64', shape: [n, d] }).to(dtype);
  const eye = kiln.eye(d, d, { dtype: 'float64' });
  const prec = eye.unsqueeze(0).expand([k, d, d]).contiguous();
  const means = kiln.tensor(gMeans, { dtype: 'float64', shape: [k, d] });
  const gm = new kiln.mixture.GaussianMixture({
    nComponents: k, covarianceType: 'full', tol: 0, maxIter: iters,
    weightsInit: Array(k).fill(1 / k), meansInit: means, precisionsInit: prec,
  });
  const t = performance.now();
  gm.fit(X);
  const seconds = (performance.now() - t) / 1000;
  const r = { seconds, nIter: gm.nIter, lowerBound: gm.lowerBound };
  gm.dispose();
  for (const x of [X, eye, prec, means]) x.dispose();
  return r;
}

function kilnKmeans(dtype, timed = true) {
  if (timed) kilnKmeans(dtype, false);  // the untimed warm-up fit
  const { n, d, k } = kmCfg;
  const iters = timed ? kmCfg.iters : 1;
  const X = kiln.tensor(kX, { dtype: 'float64', shape: [n, d] }).to(dtype);
  const init = kiln.tensor(kInit, { dtype: 'float64', shape: [k, d] });
  const km = new kiln.cluster.KMeans({ nClusters: k, init, nInit: 1, maxIter: iters, tol: 0 });
  const t = performance.now();
  km.fit(X);
  const seconds = (performance.now() - t) / 1000;
  const r = { seconds, nIter: km.nIter, inertia: km.inertia };
  km.dispose();
  X.dispose();
  init.dispose();
  return r;
}

// sklearn's OpenBLAS kernel matches Kiln's instruction set (bench/peer-blas.mjs), detected, never forced
const peerBlas = choosePeerBlas(kiln.backendInfo().cpu.isa);
console.log(peerBlas.note.replace(/^PyTorch \S+ on /, 'scikit-learn peer on '));

function sklearn(what) {
  if (peerBlas.env === null) return { skipped: peerBlas.note };
  const p = spawnSync('/usr/bin/python3', [join(root, 'bench/peers/sklearn_mixture.py'), dir, what], {
    encoding: 'utf8', env: peerBlas.env, maxBuffer: 1 << 20,
  });
  if (p.status !== 0) return { skipped: (p.stderr || p.error?.message || 'failed').trim().split('\n').pop() };
  return JSON.parse(p.stdout.trim().split('\n').pop());
}

const best = {};
const keepBest = (key, r) => {
  if (!r.skipped && (!best[key] || r.seconds < best[key].seconds)) best[key] = r;
  if (r.skipped) best[key] ??= r;
};
const log = [];
for (let round = 0; round < rounds; round++) {
  for (const [key, fn] of /** @type {[string, () => any][]} */ ([['gmm kiln f64', () => kilnGmm('float64')], ['gmm sklearn', () => sklearn('gmm')],
    ['gmm kiln f32', () => kilnGmm('float32')], ['kmeans kiln f64', () => kilnKmeans('float64')],
    ['kmeans sklearn', () => sklearn('kmeans')], ['kmeans kiln f32', () => kilnKmeans('float32')]]).filter(([key]) => (!only || key.startsWith(only)) && !(noF32 && key.endsWith('f32')))) {
    const r = fn();
    log.push({ round, key, ...r });
    console.error(`round ${round} ${key}: ${JSON.stringify(r)}`);
    keepBest(key, r);
  }
}
rmSync(dir, { recursive: true, force: true });

const fmt = (r) => (r?.seconds === undefined ? 'n/a' : r.seconds.toFixed(2));
const ratio = (a, b) => (a?.seconds && b?.seconds ? (a.seconds / b.seconds).toFixed(2) : 'n/a');
const gDesc = `${gmmCfg.n} x ${gmmCfg.d}, ${gmmCfg.k} comp., ${gmmCfg.iters} it.`;
const kDesc = `${kmCfg.n} x ${kmCfg.d}, ${kmCfg.k} clusters, <= ${kmCfg.iters} it.`;
const rows = [
  ['GaussianMixture full', gDesc, best['gmm kiln f64'], best['gmm sklearn'], 'lowerBound'],
  ['GaussianMixture full (Kiln float32)', gDesc, best['gmm kiln f32'], best['gmm sklearn'], 'lowerBound'],
  ['KMeans Lloyd', kDesc, best['kmeans kiln f64'], best['kmeans sklearn'], 'inertia'],
  ['KMeans Lloyd (Kiln float32)', kDesc, best['kmeans kiln f32'], best['kmeans sklearn'], 'inertia'],
];
console.log('| workload | size | Kiln s | sklearn s | Kiln / sklearn | iterations Kiln / sklearn | result Kiln / sklearn |');
console.log('| --- | --- | ---: | ---: | ---: | --- | --- |');
for (const [name, size, a, b, res] of rows.filter((r) => r[2])) {
  console.log(`| ${name} | ${size} | ${fmt(a)} | ${fmt(b)} | ${ratio(a, b)} | ${a?.nIter} / ${b?.nIter ?? 'n/a'} | ${a?.[res]?.toPrecision(10)} / ${b?.[res]?.toPrecision(10) ?? b?.skipped} |`);
}
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), gmm: gmmCfg, kmeans: kmCfg, rounds, best, log }, null, 2));
console.log(`wrote ${jsonPath}`);
