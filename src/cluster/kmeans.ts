/**
 * KMeans: scikit-learn's estimator (1.2) in camelCase. Lloyd's algorithm on centered data, best
 * of nInit runs by inertia, k-means++ (greedy, 2 + ln k local trials) or random initialisation,
 * sklearn's convergence rule (labels unchanged, or the squared center shift below
 * tol * mean feature variance) and its relocation of empty clusters to the farthest points.
 * Each Lloyd iteration is one sweep of the fused native op kmeansAssign (assign.ts, lloyd.ts) on
 * the data's device and dtype; sums, counts and the inertia are float64.
 */
import { noGrad } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { check, shapeStr } from '../errors.js';
import { keep, scope } from '../memory.js';
import type { Tensor } from '../tensor.js';
import { type LloydStep, assign, inertiaOf, lloydStep, nearestDistances, sumSquares } from './lloyd.js';
import { kmeansPlusPlus } from './plusplus.js';
import { type DataLike, asData, checkKeys, choiceOption, chooseDistinct, intOption, makeRng, numberOption } from './util.js';

export interface KMeansOptions {
  /** Clusters (default 8). */
  nClusters?: number;
  /** 'k-means++' (default), 'random' (nClusters distinct rows), or the initial centers [k, d]. */
  init?: 'k-means++' | 'random' | Tensor | number[][];
  /** Runs from different initialisations; the one of lowest inertia is kept (default 10, sklearn 1.2's). */
  nInit?: number;
  /** Lloyd iterations per run (default 300). */
  maxIter?: number;
  /** Convergence when the squared center shift is at most tol times the mean feature variance (default 1e-4). */
  tol?: number;
  /** Seed of the host generator behind the initialisations (default: a fresh random seed). */
  seed?: number;
  /** Print the inertia per run (default 0). */
  verbose?: number;
}

const KEYS = ['nClusters', 'init', 'nInit', 'maxIter', 'tol', 'seed', 'verbose'] as const;

export interface LloydResult {
  centers: Tensor;  // [k, d], in the centered coordinates
  labels: Tensor;   // int32 [n]
  inertia: number;
  nIter: number;
}

export class KMeans {
  readonly nClusters: number;
  readonly init: 'k-means++' | 'random' | Tensor | number[][];
  readonly nInit: number;
  readonly maxIter: number;
  readonly tol: number;
  readonly seed: number | undefined;
  readonly verbose: number;
  /** [nClusters, nFeatures], after fit. */
  clusterCenters: Tensor | null = null;
  /** int32 [nSamples]: each training row's cluster, after fit. */
  labels: Tensor | null = null;
  /** Sum of squared distances of the training rows to their centers. */
  inertia = NaN;
  /** Lloyd iterations of the kept run. */
  nIter = 0;

  constructor(options: KMeansOptions = {}) {
    const o = checkKeys(options, KEYS, 'KMeans');
    this.nClusters = intOption(o.nClusters, 'nClusters', 8, 1);
    this.init = o.init === undefined || typeof o.init === 'string'
      ? choiceOption(o.init as string | undefined, 'init', 'k-means++', ['k-means++', 'random'] as const)
      : (o.init as Tensor | number[][]);
    this.nInit = intOption(o.nInit, 'nInit', 10, 1);
    this.maxIter = intOption(o.maxIter, 'maxIter', 300, 1);
    this.tol = numberOption(o.tol, 'tol', 1e-4, 0);
    check(o.seed === undefined || (Number.isInteger(o.seed) && (o.seed as number) >= 0), () => `seed: expected a non-negative integer, got ${String(o.seed)}`);
    this.seed = o.seed as number | undefined;
    this.verbose = intOption(o.verbose, 'verbose', 0, 0);
  }

  /** Runs k-means on X [nSamples, nFeatures] (a float tensor, or rows of numbers). */
  fit(X: DataLike): this {
    const { X: data, owned } = asData(X, 'X', 'KMeans.fit');
    try {
      const n = data.shape[0];
      check(n >= this.nClusters, () => `KMeans.fit: nSamples=${n} should be >= nClusters=${this.nClusters}`);
      const rand = makeRng(this.seed);
      const given = typeof this.init === 'string' ? null : this.init;
      const best = noGrad(() => scope(() => {
        // sklearn centers the data first (distances are unchanged, the expansion is more precise)
        const mean = data.mean(0, true);
        const Xc = data.sub(mean);
        const xSq = given === null && this.init === 'k-means++' ? Xc.square().sum(1) : null;
        // tol x the mean feature variance: the centered data's mean square
        const tolAbs = this.tol === 0 ? 0 : (sumSquares(Xc) / Xc.numel) * this.tol;
        let keepRun: LloydResult | null = null;
        const runs = given === null ? this.nInit : 1;
        for (let r = 0; r < runs; r++) {
          const init = scope(() => {
            const c0 = given !== null ? initialCenters(given, data, mean) : this.initCenters(Xc, xSq, rand);
            return keep(c0);
          });
          const run = lloydRuns(Xc, init, this.maxIter, tolAbs);
          if (this.verbose > 0) console.log(`KMeans: run ${r}: inertia ${run.inertia}, ${run.nIter} iterations`);
          if (keepRun === null || run.inertia < keepRun.inertia) {
            keepRun?.centers.dispose();
            keepRun?.labels.dispose();
            keepRun = run;
          } else {
            run.centers.dispose();
            run.labels.dispose();
          }
        }
        const centers = keep(keepRun!.centers.add(mean));
        keepRun!.centers.dispose();  // lloydRuns keeps its tensors out of every scope
        return { centers, labels: keep(keepRun!.labels), inertia: keepRun!.inertia, nIter: keepRun!.nIter };
      }));
      this.clusterCenters?.dispose();
      this.labels?.dispose();
      this.clusterCenters = best.centers;
      this.labels = best.labels;
      this.inertia = best.inertia;
      this.nIter = best.nIter;
      return this;
    } finally {
      if (owned) data.dispose();
    }
  }

  private initCenters(Xc: Tensor, xSq: Tensor | null, rand: () => number): Tensor {
    const n = Xc.shape[0];
    const idx = this.init === 'random' ? chooseDistinct(rand, n, this.nClusters) : kmeansPlusPlus(Xc, xSq!, this.nClusters, rand);
    const ix = tensor(Int32Array.from(idx), { dtype: 'int32', device: Xc.device });
    return Xc.indexSelect(0, ix);
  }

  /** int32 [n]: the nearest center of each row. */
  predict(X: DataLike): Tensor {
    return this.withData(X, 'predict', (data) => keep(assign(data, this.clusterCenters!).labels));
  }

  fitPredict(X: DataLike): Tensor {
    this.fit(X);
    return keep(this.labels!.clone());
  }

  /** [n, nClusters]: Euclidean distances of each row to every center. */
  transform(X: DataLike): Tensor {
    return this.withData(X, 'transform', (data) => {
      const c = this.clusterCenters!;
      const d = data.square().sum(1, true).add(c.square().sum(1)).sub(data.matmul(c.t()).mul(2));
      return keep(d.clamp(0, null).sqrt());
    });
  }

  /** Minus the inertia of X on the fitted centers (sklearn's score). */
  score(X: DataLike): number {
    return this.withData(X, 'score', (data) => {
      const { labels, inertia } = assign(data, this.clusterCenters!);
      labels.dispose();
      return -inertia;
    });
  }

  /** Frees the fitted tensors. */
  dispose(): void {
    this.clusterCenters?.dispose();
    this.labels?.dispose();
    this.clusterCenters = null;
    this.labels = null;
  }

  private withData<T>(X: DataLike, what: string, fn: (data: Tensor) => T): T {
    check(this.clusterCenters !== null, () => `KMeans.${what}: call fit() first`);
    const { X: data, owned } = asData(X, 'X', `KMeans.${what}`);
    try {
      const d = this.clusterCenters!.shape[1];
      check(data.shape[1] === d, () => `KMeans.${what}: X has ${data.shape[1]} features, the model ${d}`);
      check(data.dtype === this.clusterCenters!.dtype && data.device === this.clusterCenters!.device,
        () => `KMeans.${what}: X is ${data.dtype} on ${data.device}, the model ${this.clusterCenters!.dtype} on ${this.clusterCenters!.device}`);
      return noGrad(() => scope(() => fn(data)));
    } finally {
      if (owned) data.dispose();
    }
  }
}

/** Given initial centers (a tensor or rows), checked and moved into X's centered coordinates. */
function initialCenters(init: Tensor | number[][], X: Tensor, mean: Tensor): Tensor {
  const { X: c, owned } = asData(init, 'init', 'KMeans');
  check(c.shape[1] === X.shape[1], () => `init: expected centers of ${X.shape[1]} features, got shape ${shapeStr(c.shape)}`);
  const out = c.to(X.device).to(X.dtype).sub(mean);
  if (owned) c.dispose();
  return out;
}

/**
 * One Lloyd run from `centers` (disposed): sklearn's _kmeans_single_lloyd. Iterates until the
 * labels repeat (strict convergence) or the squared center shift is at most tolAbs, then
 * reassigns to the final centers when the stop was not strict. The inertia is against the final
 * centers: on strict convergence they equal the step's centers bit for bit (the same labels give
 * the same deterministic sums), so the step's inertia is reused; otherwise it is recomputed.
 */
export function lloydRuns(X: Tensor, centers0: Tensor, maxIter: number, tolAbs: number): LloydResult {
  let centers = centers0;
  let labelsOld: Tensor | null = null;
  let strict = false;
  let inertia = NaN;
  let i = 0;
  for (; i < maxIter; i++) {
    const step = lloydStep(X, centers);
    const next = scope(() => keep(newCenters(X, centers, step)));
    step.sums.dispose();
    step.counts.dispose();
    const shift = scope(() => next.sub(centers).square().sum().item());
    centers.dispose();
    centers = next;
    const same = labelsOld !== null && scope(() => step.labels.ne(labelsOld!).sum().item()) === 0;
    labelsOld?.dispose();
    labelsOld = step.labels;
    if (same) {
      strict = true;
      inertia = shift === 0 ? step.inertia : inertiaOf(X, centers, step.labels);
      break;
    }
    if (shift <= tolAbs) break;
  }
  let labels = labelsOld!;
  if (!strict) {
    labels.dispose();
    const a = assign(X, centers);
    labels = a.labels;
    inertia = a.inertia;
  }
  return { centers, labels, inertia, nIter: Math.min(i + 1, maxIter) };
}

/**
 * sums / counts, after moving empty clusters onto the rows farthest from their centers
 * (sklearn's _relocate_empty_clusters_dense: the farthest row leaves its cluster's sum).
 */
function newCenters(X: Tensor, centers: Tensor, step: LloydStep): Tensor {
  const counts = Float64Array.from(step.counts.toTypedArray());
  const empty: number[] = [];
  counts.forEach((c, j) => c === 0 && empty.push(j));
  if (empty.length === 0) return step.sums.div(step.counts.unsqueeze(1)).to(X.dtype);
  const k = centers.shape[0];
  const d = X.shape[1];
  const minDist = nearestDistances(X, centers);  // rare: only with an empty cluster
  const dist = minDist.toTypedArray();
  minDist.dispose();
  const order = Array.from(dist.keys()).sort((a, b) => dist[b] - dist[a] || a - b).slice(0, empty.length);
  const sums = Float64Array.from(step.sums.toTypedArray());
  const rows = X.indexSelect(0, tensor(Int32Array.from(order), { dtype: 'int32', device: X.device })).toTypedArray();
  const lab = step.labels.toTypedArray();
  empty.forEach((j, e) => {
    const far = order[e];
    const from = lab[far];
    for (let c = 0; c < d; c++) {
      sums[from * d + c] -= rows[e * d + c];
      sums[j * d + c] = rows[e * d + c];
    }
    counts[from] -= 1;
    counts[j] = 1;
  });
  const out = new Float64Array(k * d);
  for (let j = 0; j < k; j++) for (let c = 0; c < d; c++) out[j * d + c] = counts[j] > 0 ? sums[j * d + c] / counts[j] : 0;
  return tensor(out, { dtype: X.dtype, shape: [k, d], device: X.device });
}
