// float64 on CUDA, kiln.linalg's CPU round trip, and EM / k-means on CUDA against the CPU (plain
// node over the built package, run by tests/gpu/run.sh): float64 elementwise, matmul (the tiled
// float64 GEMM), reductions and softmax; cholesky, solve, slogdet and eigh of CUDA tensors
// (factorized on the host and moved back); GaussianMixture from a fixed init for each covariance
// type (same iterations, lower bound to 1e-9 relative) and KMeans from fixed centers (same
// iterations and inertia; predict and score through the fused kmeansAssign op) in float64.
//
//   node tests/gpu/check-mixture.mjs [outDir]     exit 0 all pass, 1 a mismatch, 2 no CUDA
//   KILN_CHECK_SELFTEST=1 runs it CPU against CPU, to check this script without a GPU
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { linalg, mixture, cluster } = kiln;
const outDir = process.argv[2] ?? process.env.OUT;
const selfTest = process.env.KILN_CHECK_SELFTEST === '1';
const target = selfTest ? 'cpu' : 'cuda:0'; // the name tensors report (PyTorch's 'cuda:0' for 'cuda')
if (!selfTest && !kiln.cuda.isAvailable()) {
  console.log(`CUDA not available: ${kiln.backendInfo().cuda.reason}`);
  process.exit(2);
}

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}
const values = (t) => Array.from(t.cpu().toTypedArray());
function close(name, cpu, dev, rtol) {
  const a = values(cpu);
  const b = values(dev);
  const scale = Math.max(1e-300, ...a.map(Math.abs));
  let err = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length && err !== Infinity; i++) err = Math.max(err, Math.abs(a[i] - b[i]) / scale);
  check(name, err <= rtol && dev.device === target && dev.dtype === cpu.dtype, `rel err ${err.toExponential(2)}, ${dev.dtype} on ${dev.device}`);
}

kiln.manualSeed(0);
const f64 = (shape) => kiln.randn(shape, { dtype: 'float64' });
const A = f64([64, 48]);
const B = f64([48, 40]);
const dA = A.to(target);
const dB = B.to(target);
close('float64 matmul 64x48 . 48x40', A.matmul(B), dA.matmul(dB), 1e-13);
close('float64 elementwise exp(a) * a - a / 3', A.exp().mul(A).sub(A.div(3)), dA.exp().mul(dA).sub(dA.div(3)), 1e-13);
close('float64 sum(1), max(0), logsumexp(1)', kiln.tensor([A.sum().item(), ...values(A.max(0)), ...values(A.logsumexp(1))], { dtype: 'float64' }),
  kiln.tensor([dA.sum().item(), ...values(dA.max(0)), ...values(dA.logsumexp(1))], { dtype: 'float64' }).to(target), 1e-13);
close('float64 softmax(1)', A.softmax(1), dA.softmax(1), 1e-13);

// linalg on CUDA tensors: a round trip through the CPU kernels
const M = f64([3, 20, 20]);
const S = M.matmul(M.transpose(1, 2)).add(kiln.eye(20, 20, { dtype: 'float64' }).mul(20));
const dS = S.to(target);
close('cholesky (batched, CPU round trip)', linalg.cholesky(S), linalg.cholesky(dS), 1e-13);
const rhs = f64([3, 20, 2]);
close('solve', linalg.solve(S, rhs), linalg.solve(dS, rhs.to(target)), 1e-12);
close('slogdet logabsdet', linalg.slogdet(S).logabsdet, linalg.slogdet(dS).logabsdet, 1e-13);
close('eigh eigenvalues', linalg.eigh(S).eigenvalues, linalg.eigh(dS).eigenvalues, 1e-13);

// EM and k-means on the scikit-learn fixture data, from fixed inits
const fx = JSON.parse(readFileSync(join(root, 'tests/fixtures/mixture/sklearn.json'), 'utf8'));
const X = kiln.tensor(Float64Array.from(fx.data.flat()), { dtype: 'float64', shape: [fx.data.length, 3] });
const dX = X.to(target);
for (const ct of ['full', 'tied', 'diag', 'spherical']) {
  const opts = () => ({
    nComponents: 4, covarianceType: ct, tol: 1e-7, maxIter: 300, weightsInit: fx.fixedInit.weightsInit,
    meansInit: fx.fixedInit.meansInit, precisionsInit: fx.fixedInit.precisionsInit[ct],
  });
  const a = new mixture.GaussianMixture(opts()).fit(X);
  const b = new mixture.GaussianMixture(opts()).fit(dX);
  const rel = Math.abs(a.lowerBound - b.lowerBound) / Math.abs(a.lowerBound);
  check(`GaussianMixture ${ct} on ${target}`, a.nIter === b.nIter && rel < 1e-9 && b.means.device === target,
    `iterations ${a.nIter} / ${b.nIter}, lower bound rel diff ${rel.toExponential(2)}`);
  close(`GaussianMixture ${ct} means`, a.means, b.means, 1e-9);
  close(`GaussianMixture ${ct} predictProba`, a.predictProba(X), b.predictProba(dX), 1e-9);
}
const K = kiln.tensor(Float64Array.from(fx.kmeans.data.flat()), { dtype: 'float64', shape: [fx.kmeans.data.length, 6] });
const init = fx.kmeans.data.slice(0, 10);
const ka = new cluster.KMeans({ nClusters: 10, init }).fit(K);
const kb = new cluster.KMeans({ nClusters: 10, init }).fit(K.to(target));
const relK = Math.abs(ka.inertia - kb.inertia) / ka.inertia;
check(`KMeans on ${target}`, ka.nIter === kb.nIter && relK < 1e-10, `iterations ${ka.nIter} / ${kb.nIter}, inertia rel diff ${relK.toExponential(2)}`);
close('KMeans centers', ka.clusterCenters, kb.clusterCenters, 1e-10);
// predict and score run the fused kmeansAssign op on the device
const pa = Array.from(ka.predict(K).toTypedArray());
const pb = Array.from(kb.predict(K.to(target)).cpu().toTypedArray());
check('KMeans predict labels', pa.every((v, i) => v === pb[i]), `${pa.filter((v, i) => v !== pb[i]).length} of ${pa.length} differ`);
const sa = ka.score(K);
const sb = kb.score(K.to(target));
check('KMeans score', Math.abs(sa - sb) <= 1e-10 * Math.abs(sa), `${sa} / ${sb}`);

const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed}/${results.length} passed${selfTest ? ' (CPU self-test)' : ''}`);
if (outDir) writeFileSync(join(outDir, 'check-mixture.json'), JSON.stringify({ target, results }, null, 2));
process.exit(failed ? 1 : 0);
