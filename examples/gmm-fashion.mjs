// Clusters Fashion-MNIST without labels: PCA through kiln.linalg.eigh (float64), then a
// GaussianMixture (EM) and KMeans on the PCA features, and the clusters' purity against the
// labels (the share of images whose cluster's majority label is their own).
//   npm run build:ts && node examples/gmm-fashion.mjs [--n 10000] [--dims 30] [--components 10] [--subset]
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../dist/index.js';

const { data, linalg, mixture, cluster } = kiln;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
/** @param {string} name @param {number} dflt */
const opt = (name, dflt) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : dflt);
const fullDir = '/usr/share/datasets/fashion-mnist';
const dir = !args.includes('--subset') && existsSync(join(fullDir, 'train-images-idx3-ubyte.gz')) ? fullDir : join(root, 'data/fashion-mnist-subset');
const dims = opt('--dims', 30);
const k = opt('--components', 10);

const { images, labels } = await data.loadFashionMnist(dir, { split: 'train' });
const n = Math.min(opt('--n', 10000), images.shape[0]);
const X = images.narrow(0, 0, n).reshape([n, 784]).double();
const y = labels.narrow(0, 0, n).toTypedArray();

// PCA: the top `dims` eigenvectors of the covariance (eigh gives ascending eigenvalues)
const t0 = performance.now();
const Xc = X.sub(X.mean(0));
const cov = Xc.t().matmul(Xc).div(n - 1);
const { eigenvalues, eigenvectors } = linalg.eigh(cov);
const top = eigenvectors.narrow(1, 784 - dims, dims);
const Z = Xc.matmul(top);
const ev = Array.from(eigenvalues.toTypedArray());
const explained = ev.slice(784 - dims).reduce((a, b) => a + b, 0) / ev.reduce((a, b) => a + b, 0);
const tPca = (performance.now() - t0) / 1000;

/** The share of points whose cluster's most common label is their own. @param {ArrayLike<number>} assign */
function purity(assign) {
  /** @type {Map<number, number[]>} */
  const counts = new Map();
  Array.from(assign).forEach((c, i) => {
    const row = counts.get(c) ?? new Array(10).fill(0);
    row[y[i]]++;
    counts.set(c, row);
  });
  let hit = 0;
  for (const row of counts.values()) hit += Math.max(...row);
  return hit / assign.length;
}

const t1 = performance.now();
const gm = new mixture.GaussianMixture({ nComponents: k, covarianceType: 'full', seed: 0, maxIter: 200, regCovar: 1e-4 }).fit(Z);
const gmLabels = gm.predict(Z).toTypedArray();
const tGmm = (performance.now() - t1) / 1000;
const t2 = performance.now();
const km = new cluster.KMeans({ nClusters: k, seed: 0, nInit: 3 }).fit(Z);
const tKm = (performance.now() - t2) / 1000;

console.log(`data ${dir}: ${n} training images; PCA to ${dims} dims (eigh, float64) keeps ${(100 * explained).toFixed(1)}% of the variance (${tPca.toFixed(1)}s)`);
console.log(`GaussianMixture(${k}, full): ${gm.nIter} EM iterations, converged ${gm.converged}, lower bound ${gm.lowerBound.toFixed(3)}, ` +
  `BIC ${gm.bic(Z).toExponential(4)}; purity ${(100 * purity(gmLabels)).toFixed(1)}% (${tGmm.toFixed(1)}s)`);
console.log(`KMeans(${k}): ${km.nIter} iterations, inertia ${km.inertia.toExponential(4)}; purity ${(100 * purity(km.labels?.toTypedArray() ?? [])).toFixed(1)}% (${tKm.toFixed(1)}s)`);
console.log(`(a labelling that ignores the images scores 10%; always the largest class ${(100 * Math.max(...new Array(10).fill(0).map((_, c) => y.filter((v) => v === c).length)) / n).toFixed(1)}%)`);
gm.dispose();
km.dispose();
