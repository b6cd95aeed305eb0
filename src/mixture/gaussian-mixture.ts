/**
 * GaussianMixture: scikit-learn 1.2's estimator in camelCase, fitted by EM (em.ts) on the data's
 * device and dtype. The same iteration as sklearn: E-step on the current parameters (its mean
 * log-likelihood is the lower bound), then the M-step; stop when the bound changes by less than
 * tol; best of nInit runs by lower bound; a final E-step is not needed as nothing is returned
 * from it. Fitted parameters are in the data's coordinates; the loop works on centered data.
 */
import { noGrad } from '../autograd/engine.js';
import { normal, tensor } from '../creation.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { cholesky } from '../linalg/index.js';
import { keep, scope } from '../memory.js';
import { cat } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { KMeans } from '../cluster/kmeans.js';
import { kmeansPlusPlus } from '../cluster/plusplus.js';
import {
  type DataLike, asData, checkKeys, choiceOption, chooseDistinct, intOption, makeRng, numberOption,
} from '../cluster/util.js';
import {
  Accumulator, type CovarianceType, type ETerms, type Params, chunkRows, eTerms, estimate, gram, outerRows,
  precisionCholesky, precisionCholeskyFromPrecision, weightedLogProb,
} from './em.js';

export type InitParams = 'kmeans' | 'k-means++' | 'random' | 'random_from_data';
type Init = Tensor | number[] | number[][] | number[][][];

export interface GaussianMixtureOptions {
  /** Mixture components (default 1). */
  nComponents?: number;
  /** 'full' (default): one covariance per component; 'tied': one shared; 'diag'; 'spherical': one variance each. */
  covarianceType?: CovarianceType;
  /** Convergence threshold on the change of the lower bound (mean log-likelihood) (default 1e-3). */
  tol?: number;
  /** Added to every covariance's diagonal, keeping them positive-definite (default 1e-6). */
  regCovar?: number;
  /** EM iterations per run (default 100). */
  maxIter?: number;
  /** Runs from different initialisations; the best lower bound is kept (default 1). */
  nInit?: number;
  /** How the responsibilities of the first M-step are drawn (default 'kmeans'). */
  initParams?: InitParams;
  /** Initial weights [nComponents] (they override the initialisation's). */
  weightsInit?: Tensor | number[];
  /** Initial means [nComponents, nFeatures]. */
  meansInit?: Tensor | number[][];
  /** Initial precisions (inverse covariances), shaped like `covariances` for the covariance type. */
  precisionsInit?: Init;
  /** Seed of the host generator behind the initialisations and sample() (default: fresh). */
  seed?: number;
  /** A second fit() starts from the fitted parameters (one run, no initialisation). */
  warmStart?: boolean;
  /** 1: print each run's result; 2: also each iteration's lower bound (default 0). */
  verbose?: number;
}

const KEYS = ['nComponents', 'covarianceType', 'tol', 'regCovar', 'maxIter', 'nInit', 'initParams', 'weightsInit',
  'meansInit', 'precisionsInit', 'seed', 'warmStart', 'verbose'] as const;

/** Fitted parameters in the data's coordinates. */
interface Fitted {
  weights: Tensor;
  means: Tensor;
  covariances: Tensor | null;
  precisionsCholesky: Tensor;
}

export class GaussianMixture {
  readonly nComponents: number;
  readonly covarianceType: CovarianceType;
  readonly tol: number;
  readonly regCovar: number;
  readonly maxIter: number;
  readonly nInit: number;
  readonly initParams: InitParams;
  readonly weightsInit: Tensor | number[] | undefined;
  readonly meansInit: Tensor | number[][] | undefined;
  readonly precisionsInit: Init | undefined;
  readonly seed: number | undefined;
  readonly warmStart: boolean;
  readonly verbose: number;

  /** [nComponents] mixing weights, after fit. */
  weights: Tensor | null = null;
  /** [nComponents, nFeatures]. */
  means: Tensor | null = null;
  /** full [k, d, d], tied [d, d], diag [k, d], spherical [k]. */
  covariances: Tensor | null = null;
  /** P with P P^T = the precision (full, tied); 1 / std (diag, spherical); shaped as covariances. */
  precisionsCholesky: Tensor | null = null;
  /** Whether the kept run met tol before maxIter. */
  converged = false;
  /** EM iterations of the kept run. */
  nIter = 0;
  /** Lower bound (mean log-likelihood of the training data) of the kept run. */
  lowerBound = -Infinity;

  private rand: (() => number) | null = null;

  constructor(options: GaussianMixtureOptions = {}) {
    const o = checkKeys(options, KEYS, 'GaussianMixture');
    this.nComponents = intOption(o.nComponents, 'nComponents', 1, 1);
    this.covarianceType = choiceOption(o.covarianceType, 'covarianceType', 'full', ['full', 'tied', 'diag', 'spherical'] as const);
    this.tol = numberOption(o.tol, 'tol', 1e-3, 0);
    this.regCovar = numberOption(o.regCovar, 'regCovar', 1e-6, 0);
    this.maxIter = intOption(o.maxIter, 'maxIter', 100, 1);
    this.nInit = intOption(o.nInit, 'nInit', 1, 1);
    this.initParams = choiceOption(o.initParams, 'initParams', 'kmeans', ['kmeans', 'k-means++', 'random', 'random_from_data'] as const);
    this.weightsInit = o.weightsInit as Tensor | number[] | undefined;
    this.meansInit = o.meansInit as Tensor | number[][] | undefined;
    this.precisionsInit = o.precisionsInit as Init | undefined;
    check(o.seed === undefined || (Number.isInteger(o.seed) && (o.seed as number) >= 0), () => `seed: expected a non-negative integer, got ${String(o.seed)}`);
    this.seed = o.seed as number | undefined;
    check(o.warmStart === undefined || typeof o.warmStart === 'boolean', () => `warmStart: expected a boolean, got ${String(o.warmStart)}`);
    this.warmStart = (o.warmStart as boolean | undefined) ?? false;
    this.verbose = intOption(o.verbose, 'verbose', 0, 0);
  }

  /** Fits the mixture to X [nSamples, nFeatures] (float32 or float64 tensor, or rows of numbers). */
  fit(X: DataLike): this {
    const { X: data, owned } = asData(X, 'X', 'GaussianMixture.fit');
    try {
      const [n, d] = data.shape;
      const k = this.nComponents;
      check(n >= k, () => `GaussianMixture.fit: expected nSamples >= nComponents, got nComponents = ${k}, nSamples = ${n}`);
      check(n >= 2, () => `GaussianMixture.fit: expected at least 2 samples, got ${n}`);
      const warm = this.warmStart && this.means !== null;
      if (warm) check(this.means!.shape[1] === d, () => `GaussianMixture.fit: X has ${d} features, the warm-started model ${this.means!.shape[1]}`);
      this.rand ??= makeRng(this.seed);
      const rand = this.rand;
      const best = noGrad(() => scope(() => {
        const center = data.mean(0);
        const Xc = data.sub(center);
        const xtx = gram(Xc, this.covarianceType);
        let kept: { p: Params; bound: number; nIter: number; converged: boolean } | null = null;
        const runs = warm ? 1 : this.nInit;
        for (let r = 0; r < runs; r++) {
          let p = warm ? this.centeredParams(center) : this.initialize(Xc, xtx, rand, center);
          let bound = warm ? this.lowerBound : -Infinity;
          let converged = false;
          let it = 0;
          for (it = 1; it <= this.maxIter; it++) {
            const prev = bound;
            const step = emStep(Xc, xtx, p, this.covarianceType, this.regCovar);
            disposeParams(p);
            p = step.p;
            bound = step.bound;
            if (this.verbose > 1) console.log(`GaussianMixture: run ${r} iteration ${it}: lower bound ${bound}`);
            if (!Number.isFinite(bound)) throw new KilnError(`GaussianMixture.fit: the lower bound became ${bound} at iteration ${it}; check the data's scale or increase regCovar`);
            if (Math.abs(bound - prev) < this.tol) {
              converged = true;
              break;
            }
          }
          it = Math.min(it, this.maxIter);
          if (this.verbose > 0) console.log(`GaussianMixture: run ${r}: lower bound ${bound}, ${it} iterations, converged ${converged}`);
          if (kept === null || bound > kept.bound) {
            if (kept !== null) disposeParams(kept.p);
            kept = { p, bound, nIter: it, converged };
          } else {
            disposeParams(p);
          }
        }
        const p = kept!.p;
        const means = keep(p.means.add(center));
        p.means.dispose();  // emStep's tensors are kept out of every scope
        const fitted: Fitted = {
          weights: keep(p.weights),
          means,
          covariances: p.covariances === null ? null : keep(p.covariances),
          precisionsCholesky: keep(p.precChol),
        };
        return { fitted, bound: kept!.bound, nIter: kept!.nIter, converged: kept!.converged };
      }));
      this.disposeFitted();
      Object.assign(this, best.fitted);
      this.lowerBound = best.bound;
      this.nIter = best.nIter;
      this.converged = best.converged;
      return this;
    } finally {
      if (owned) data.dispose();
    }
  }

  /** fit(X), then predict(X). */
  fitPredict(X: DataLike): Tensor {
    return this.fit(X).predict(X);
  }

  /** int32 [n]: the most probable component of each row. */
  predict(X: DataLike): Tensor {
    return this.withData(X, 'predict', (data) => keep(this.logProb(data).argmax(1)));
  }

  /** [n, nComponents]: each component's posterior probability (responsibility) for each row. */
  predictProba(X: DataLike): Tensor {
    return this.withData(X, 'predictProba', (data) => {
      const w = this.logProb(data);
      return keep(w.sub(w.logsumexp(1, true)).exp());
    });
  }

  /** [n]: the log-likelihood of each row under the mixture. */
  scoreSamples(X: DataLike): Tensor {
    return this.withData(X, 'scoreSamples', (data) => keep(this.logProb(data).logsumexp(1)));
  }

  /** The mean log-likelihood of the rows of X. */
  score(X: DataLike): number {
    return this.withData(X, 'score', (data) => this.logProb(data).logsumexp(1).mean().item());
  }

  /** Bayesian information criterion on X (lower is better). */
  bic(X: DataLike): number {
    const n = rowsOf(X);
    return -2 * this.score(X) * n + this.nParameters() * Math.log(n);
  }

  /** Akaike information criterion on X (lower is better). */
  aic(X: DataLike): number {
    const n = rowsOf(X);
    return -2 * this.score(X) * n + 2 * this.nParameters();
  }

  /** Free parameters of the model (sklearn's _n_parameters). */
  nParameters(): number {
    this.checkFitted('nParameters');
    const [k, d] = this.means!.shape;
    const cov = { full: (k * d * (d + 1)) / 2, diag: k * d, tied: (d * (d + 1)) / 2, spherical: k }[this.covarianceType];
    return cov + d * k + k - 1;
  }

  /**
   * nSamples rows drawn from the fitted mixture: [X [nSamples, nFeatures], y int32 [nSamples]]
   * (component counts from a multinomial on the host generator, then grouped by component as
   * sklearn's). Normal draws use Kiln's generator (kiln.manualSeed).
   */
  sample(nSamples = 1): [Tensor, Tensor] {
    this.checkFitted('sample');
    check(Number.isInteger(nSamples) && nSamples >= 1, () => `GaussianMixture.sample: nSamples: expected an integer >= 1, got ${String(nSamples)}`);
    this.rand ??= makeRng(this.seed);
    const w = this.weights!.toTypedArray();
    const counts = multinomial(this.rand, nSamples, w);
    return noGrad(() => scope(() => {
      const means = this.means!;
      const [k, d] = means.shape;
      const cov = this.covariances!;
      const opts = { dtype: means.dtype, device: means.device };
      const parts: Tensor[] = [];
      const labels = new Int32Array(nSamples);
      let at = 0;
      for (let j = 0; j < k; j++) {
        if (counts[j] === 0) continue;
        labels.fill(j, at, at + counts[j]);
        at += counts[j];
        const z = normal([counts[j], d], 0, 1, opts);
        const mu = means.select(0, j);
        switch (this.covarianceType) {
          case 'full': parts.push(z.matmul(cholesky(cov.select(0, j)).t()).add(mu)); break;
          case 'tied': parts.push(z.matmul(cholesky(cov).t()).add(mu)); break;
          case 'diag': parts.push(z.mul(cov.select(0, j).sqrt()).add(mu)); break;
          case 'spherical': parts.push(z.mul(Math.sqrt(cov.select(0, j).item())).add(mu)); break;
        }
      }
      const Xs = parts.length === 1 ? parts[0] : cat(parts);
      return [keep(Xs), keep(tensor(labels, { dtype: 'int32', device: means.device }))] as [Tensor, Tensor];
    }));
  }

  /** Frees the fitted tensors. */
  dispose(): void {
    this.disposeFitted();
  }

  private disposeFitted(): void {
    this.weights?.dispose();
    this.means?.dispose();
    this.covariances?.dispose();
    this.precisionsCholesky?.dispose();
    this.weights = this.means = this.covariances = this.precisionsCholesky = null;
  }

  /** [n, k]: log w_k + log N(x | k) of each row, in chunks. */
  private logProb(X: Tensor): Tensor {
    const center = X.mean(0);
    const p = this.centeredParams(center);
    const Xc = X.sub(center);
    const t = eTerms(p, this.covarianceType);
    const [n, d] = X.shape;
    const step = chunkRows(n, d, this.nComponents, this.covarianceType);
    const out: Tensor[] = [];
    for (let s = 0; s < n; s += step) {
      const len = Math.min(step, n - s);
      out.push(scope(() => {
        const xs = Xc.narrow(0, s, len);
        return weightedLogProb(xs, this.covarianceType === 'full' ? outerRows(xs) : null, t);
      }));
    }
    return out.length === 1 ? out[0] : cat(out);
  }

  /** The fitted parameters with the means shifted to data centered on `center` (new tensors). */
  private centeredParams(center: Tensor): Params {
    return {
      weights: this.weights!.clone(),
      means: this.means!.sub(center),
      covariances: this.covariances === null ? null : this.covariances.clone(),
      precChol: this.precisionsCholesky!.clone(),
    };
  }

  /**
   * sklearn's _initialize_parameters: responsibilities from initParams, one M-step, then the
   * user's weightsInit / meansInit / precisionsInit replace what they give.
   */
  private initialize(Xc: Tensor, xtx: Tensor | null, rand: () => number, center: Tensor): Params {
    const [n, d] = Xc.shape;
    const k = this.nComponents;
    // with all three given, sklearn's initial M-step is overridden entirely: skip it
    const given = this.weightsInit !== undefined && this.meansInit !== undefined && this.precisionsInit !== undefined;
    let p: Params;
    if (given) {
      p = { weights: null as unknown as Tensor, means: null as unknown as Tensor, covariances: null, precChol: null as unknown as Tensor };
    } else {
      const resp = scope(() => this.initialResp(Xc, rand));
      const acc = new Accumulator(this.covarianceType);
      const step = chunkRows(n, d, k, this.covarianceType);
      for (let s = 0; s < n; s += step) {
        const len = Math.min(step, n - s);
        scope(() => {
          const xs = Xc.narrow(0, s, len);
          acc.add(xs, this.covarianceType === 'full' ? outerRows(xs) : null, resp.narrow(0, s, len));
        });
      }
      resp.dispose();
      const est = estimate(acc, xtx, this.regCovar);
      acc.dispose();
      p = { weights: est.nk.div(n), means: est.means, covariances: est.covariances, precChol: precisionCholesky(est.covariances, this.covarianceType) };
      est.nk.dispose();
    }
    const opts = { dtype: Xc.dtype, device: Xc.device };
    if (this.weightsInit !== undefined) {
      p.weights?.dispose();
      p.weights = initTensor(this.weightsInit, [k], 'weightsInit', opts);
      const w = Array.from(p.weights.toTypedArray());
      check(w.every((v) => v >= 0 && v <= 1), () => 'weightsInit: expected values in [0, 1]');
      const sum = w.reduce((a, b) => a + b, 0);
      check(Math.abs(1 - sum) < 1e-6, () => `weightsInit: expected weights that sum to 1, got ${sum}`);
    }
    if (this.meansInit !== undefined) {
      p.means?.dispose();
      p.means = scope(() => initTensor(this.meansInit!, [k, d], 'meansInit', opts).sub(center));
    }
    if (this.precisionsInit !== undefined) {
      p.precChol?.dispose();
      p.covariances?.dispose();
      p.covariances = null;
      const shape = covShape(this.covarianceType, k, d);
      p.precChol = scope(() => {
        const prec = initTensor(this.precisionsInit!, shape, 'precisionsInit', opts);
        if (this.covarianceType === 'diag' || this.covarianceType === 'spherical') {
          check(prec.toTypedArray().every((v) => v > 0), () => "precisionsInit: expected positive values");
        } else {
          check(scope(() => prec.sub(prec.transpose(-1, -2)).abs().max().item()) <= 1e-8 * Math.max(1, scope(() => prec.abs().max().item())),
            () => 'precisionsInit: expected symmetric matrices');
        }
        return precisionCholeskyFromPrecision(prec, this.covarianceType);
      });
    }
    return p;
  }

  private initialResp(Xc: Tensor, rand: () => number): Tensor {
    const n = Xc.shape[0];
    const k = this.nComponents;
    const opts = { dtype: Xc.dtype, device: Xc.device };
    if (this.initParams === 'random') {
      const r = new Float64Array(n * k);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < k; j++) s += r[i * k + j] = rand();
        for (let j = 0; j < k; j++) r[i * k + j] /= s;
      }
      return tensor(r, { ...opts, shape: [n, k] });
    }
    const oneHot = new Float64Array(n * k);
    if (this.initParams === 'kmeans') {
      const km = new KMeans({ nClusters: k, nInit: 1, seed: Math.floor(rand() * 2 ** 31) }).fit(Xc);
      km.labels!.toTypedArray().forEach((j, i) => { oneHot[i * k + j] = 1; });
      km.dispose();
    } else {
      const ids = this.initParams === 'random_from_data'
        ? chooseDistinct(rand, n, k)
        : kmeansPlusPlus(Xc, Xc.square().sum(1), k, rand);
      ids.forEach((i, j) => { oneHot[i * k + j] = 1; });
    }
    return tensor(oneHot, { ...opts, shape: [n, k] });
  }

  private checkFitted(what: string): void {
    check(this.means !== null, () => `GaussianMixture.${what}: call fit() first`);
  }

  private withData<T>(X: DataLike, what: string, fn: (data: Tensor) => T): T {
    this.checkFitted(what);
    const { X: data, owned } = asData(X, 'X', `GaussianMixture.${what}`);
    try {
      const d = this.means!.shape[1];
      check(data.shape[1] === d, () => `GaussianMixture.${what}: X has ${data.shape[1]} features, the model ${d}`);
      check(data.dtype === this.means!.dtype && data.device === this.means!.device,
        () => `GaussianMixture.${what}: X is ${data.dtype} on ${data.device}, the model ${this.means!.dtype} on ${this.means!.device}`);
      return noGrad(() => scope(() => fn(data)));
    } finally {
      if (owned) data.dispose();
    }
  }
}

/** One EM iteration over all chunks: the E-step's mean log-likelihood and the M-step's parameters. */
export function emStep(Xc: Tensor, xtx: Tensor | null, p: Params, type: CovarianceType, regCovar: number): { p: Params; bound: number } {
  return scope(() => {
    const [n, d] = Xc.shape;
    const k = p.means.shape[0];
    const t: ETerms = eTerms(p, type);
    const acc = new Accumulator(type);
    const step = chunkRows(n, d, k, type);
    let total = 0;
    for (let s = 0; s < n; s += step) {
      const len = Math.min(step, n - s);
      total += scope(() => {
        const xs = Xc.narrow(0, s, len);
        const XX = type === 'full' ? outerRows(xs) : null;
        const wlp = weightedLogProb(xs, XX, t);
        const norm = wlp.logsumexp(1, true);
        acc.add(xs, XX, wlp.sub(norm).exp());
        return norm.sum().item();
      });
    }
    const est = estimate(acc, xtx, regCovar);
    acc.dispose();
    const next: Params = {
      weights: keep(est.nk.div(est.nk.sum())),
      means: keep(est.means),
      covariances: keep(est.covariances),
      precChol: keep(precisionCholesky(est.covariances, type)),
    };
    return { p: next, bound: total / n };
  });
}

function disposeParams(p: Params): void {
  p.weights.dispose();
  p.means.dispose();
  p.covariances?.dispose();
  p.precChol.dispose();
}

function covShape(type: CovarianceType, k: number, d: number): number[] {
  return { full: [k, d, d], tied: [d, d], diag: [k, d], spherical: [k] }[type];
}

/** An init given as a tensor or nested arrays, checked against its expected shape. */
function initTensor(v: Init, shape: number[], name: string, opts: { dtype: Tensor['dtype']; device: Tensor['device'] }): Tensor {
  let t: Tensor;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    t = (v as Tensor).to(opts.device).to(opts.dtype);
    if (t === v) t = t.clone();
  } else {
    check(Array.isArray(v), () => `${name}: expected a Tensor or nested arrays of shape ${shapeStr(shape)}`);
    const flat = (v as unknown[]).flat(3) as unknown[];
    check(flat.every((x) => typeof x === 'number' && Number.isFinite(x)), () => `${name}: expected finite numbers`);
    check(flat.length === shape.reduce((a, b) => a * b, 1), () => `${name}: expected shape ${shapeStr(shape)}, got ${flat.length} values`);
    t = tensor(Float64Array.from(flat as number[]), { dtype: 'float64', shape }).to(opts.device).to(opts.dtype);
  }
  check(t.shape.length === shape.length && t.shape.every((s, i) => s === shape[i]),
    () => `${name}: expected shape ${shapeStr(shape)}, got ${shapeStr(t.shape)}`);
  return t;
}

function rowsOf(X: DataLike): number {
  return Array.isArray(X) ? X.length : (X as Tensor).shape[0];
}

/** Counts of n draws over the categories of probabilities w (numpy's sequential binomials, on the host). */
function multinomial(rand: () => number, n: number, w: ArrayLike<number>): number[] {
  const counts = new Array<number>(w.length).fill(0);
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i];
  for (let s = 0; s < n; s++) {
    let u = rand() * total;
    let j = 0;
    while (j < w.length - 1 && u >= w[j]) u -= w[j++];
    counts[j]++;
  }
  return counts;
}
