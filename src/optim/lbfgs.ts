/**
 * L-BFGS (torch.optim.LBFGS): a port of PyTorch's algorithm, two-loop recursion and the
 * strong-Wolfe line search with cubic interpolation.
 *
 * The search runs on the host: parameters and gradients are read into one flat Float64Array
 * (every parameter, in group order) and written back with copy_. That costs a device round trip
 * per function evaluation, which is fine for the small problems L-BFGS suits (full-batch, few
 * parameters). The direction math is float64 (PyTorch does it in the parameters' dtype), so
 * trajectories agree with PyTorch's float32 run to about 1e-4 rather than 1e-6.
 */
import { checkOptions } from '../options.js';
import { enableGrad, noGrad } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { check, checkInt } from '../errors.js';
import { scope } from '../memory.js';
import { Tensor } from '../tensor.js';
import { type BaseOptions, type Closure, Optimizer, type OptimizerStateDict, type ParamGroup, type ParamState } from './optimizer.js';

export interface LBFGSOptions extends BaseOptions {
  maxIter: number;
  /** Function evaluations per step; default maxIter * 5 / 4 (rounded down). */
  maxEval: number;
  toleranceGrad: number;
  toleranceChange: number;
  historySize: number;
  lineSearchFn: null | 'strongWolfe';
}

type Vec = Float64Array;

/** What L-BFGS carries from one step() to the next (PyTorch's state of the first parameter). */
interface History {
  funcEvals: number;
  nIter: number;
  d: Vec | null;
  t: number | null;
  oldDirs: Vec[];
  oldStps: Vec[];
  ro: number[];
  hDiag: number;
  prevFlatGrad: Vec | null;
  prevLoss: number | null;
}

const dot = (a: Vec, b: Vec): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};
const absMax = (a: Vec): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
const absSum = (a: Vec): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]);
  return s;
};

/** Minimum of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to bounds. */
function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number,
  bounds?: [number, number]): number {
  const [lo, hi] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return Math.min(Math.max(minPos, lo), hi);
  }
  return (lo + hi) / 2;
}

type ObjFunc = (x: Vec, t: number, d: Vec) => [number, Vec];

/** PyTorch's _strong_wolfe: returns [fNew, gNew, t, evaluations]. */
function strongWolfe(obj: ObjFunc, x: Vec, t: number, d: Vec, f: number, g: Vec, gtd: number,
  c1 = 1e-4, c2 = 0.9, toleranceChange = 1e-9, maxLs = 25): [number, Vec, number, number] {
  const dNorm = absMax(d);
  let [fNew, gNew] = obj(x, t, d);
  let lsFuncEvals = 1;
  let gtdNew = dot(gNew, d);
  let tPrev = 0, fPrev = f, gPrev = g, gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [], bracketF: number[] = [], bracketG: Vec[] = [], bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t]; bracketF = [fNew]; bracketG = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t]; bracketF = [fPrev, fNew]; bracketG = [gPrev, gNew]; bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    tPrev = tmp; fPrev = fNew; gPrev = gNew; gtdPrev = gtdNew;
    [fNew, gNew] = obj(x, t, d);
    lsFuncEvals++;
    gtdNew = dot(gNew, d);
    lsIter++;
  }
  if (lsIter === maxLs) {
    bracket = [0, t]; bracketF = [f, fNew]; bracketG = [g, gNew];
  }
  // Zoom: shrink the bracket until a point satisfies the strong Wolfe conditions.
  let insufProgress = false;
  let [lowPos, highPos] = bracketF[0] <= bracketF[bracketF.length - 1] ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    if (Math.abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
    t = cubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
    const bMax = Math.max(...bracket), bMin = Math.min(...bracket);
    const eps = 0.1 * (bMax - bMin);
    if (Math.min(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    [fNew, gNew] = obj(x, t, d);
    lsFuncEvals++;
    gtdNew = dot(gNew, d);
    lsIter++;
    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]) {
      bracket[highPos] = t; bracketF[highPos] = fNew; bracketG[highPos] = gNew; bracketGtd[highPos] = gtdNew;
      [lowPos, highPos] = bracketF[0] <= bracketF[1] ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true;
      } else if (gtdNew * (bracket[highPos] - bracket[lowPos]) >= 0) {
        bracket[highPos] = bracket[lowPos]; bracketF[highPos] = bracketF[lowPos];
        bracketG[highPos] = bracketG[lowPos]; bracketGtd[highPos] = bracketGtd[lowPos];
      }
      bracket[lowPos] = t; bracketF[lowPos] = fNew; bracketG[lowPos] = gNew; bracketGtd[lowPos] = gtdNew;
    }
  }
  return [bracketF[lowPos], bracketG[lowPos], bracket[lowPos], lsFuncEvals];
}

function emptyHistory(): History {
  return { funcEvals: 0, nIter: 0, d: null, t: null, oldDirs: [], oldStps: [], ro: [], hDiag: 1, prevFlatGrad: null, prevLoss: null };
}

export class LBFGS extends Optimizer<LBFGSOptions> {
  private hist: History = emptyHistory();

  constructor(params: Tensor[], options: Partial<LBFGSOptions> = {}) {
    checkOptions(options, ['lr', 'maxIter', 'maxEval', 'toleranceGrad', 'toleranceChange', 'historySize', 'lineSearchFn'], 'LBFGS');
    const maxIter = options.maxIter ?? 20;
    super(params, {
      lr: 1, maxIter, maxEval: Math.floor((maxIter * 5) / 4), toleranceGrad: 1e-7, toleranceChange: 1e-9,
      historySize: 100, lineSearchFn: null, ...options,
    });
    check(this.paramGroups.length === 1, "params: LBFGS doesn't support parameter groups (there can be only one)");
  }

  protected override validateGroup(group: ParamGroup<LBFGSOptions>): void {
    super.validateGroup(group);
    for (const name of ['maxIter', 'maxEval', 'historySize'] as const) {
      checkInt(group[name], name);
      check(group[name] >= 1, () => `${name}: expected an integer >= 1, got ${group[name]}`);
    }
    for (const name of ['toleranceGrad', 'toleranceChange'] as const) {
      check(Number.isFinite(group[name]) && group[name] >= 0, () => `${name}: expected a finite number >= 0, got ${group[name]}`);
    }
    check(group.lineSearchFn === null || group.lineSearchFn === 'strongWolfe',
      () => `lineSearchFn: expected null or 'strongWolfe', got ${String(group.lineSearchFn)}`);
  }

  override addParamGroup(group: { params: Tensor[] }): void {
    check(this.paramGroups.length === 0, "paramGroup: LBFGS doesn't support parameter groups (there can be only one)");
    super.addParamGroup(group);
  }

  private get params(): Tensor[] {
    return this.paramGroups[0].params;
  }

  private readParams(): Vec {
    const out = new Float64Array(this.params.reduce((n, p) => n + p.numel, 0));
    let off = 0;
    for (const p of this.params) {
      out.set(p.toTypedArray(), off);
      off += p.numel;
    }
    return out;
  }

  private writeParams(x: Vec): void {
    let off = 0;
    noGrad(() => {
      for (const p of this.params) {
        const src = tensor(Float32Array.from(x.subarray(off, off + p.numel)), { shape: [...p.shape], device: p.device });
        p.copy_(src);
        src.dispose();
        off += p.numel;
      }
    });
  }

  private flatGrad(n: number): Vec {
    const out = new Float64Array(n);
    let off = 0;
    for (const p of this.params) {
      if (p.grad !== null) out.set(p.grad.toTypedArray(), off);
      off += p.numel;
    }
    return out;
  }

  /** x + t * d rounded to float32, as the parameters hold it. */
  private static moved(x: Vec, t: number, d: Vec): Vec {
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.fround(x[i] + Math.fround(t * d[i]));
    return out;
  }

  /** Runs the closure with grad on, frees its temporaries, returns the loss as a number. */
  private evaluate(closure: Closure): number {
    return scope(() => {
      const l = enableGrad(closure);
      return typeof l === 'number' ? l : l.item();
    });
  }

  /** Runs up to maxIter L-BFGS iterations; closure re-evaluates the loss (zeroGrad, forward, backward). */
  step(closure?: Closure): Tensor | number | undefined {
    check(typeof closure === 'function', 'closure: LBFGS.step needs a closure that re-evaluates the loss');
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, lineSearchFn, historySize } = this.paramGroups[0];
    const st = this.hist;
    // The first evaluation's loss is returned to the caller, so it outlives this step's scope.
    const origLoss = scope(() => enableGrad(closure));
    let loss = typeof origLoss === 'number' ? origLoss : origLoss.item();
    let currentEvals = 1;
    st.funcEvals++;
    let x = this.readParams();
    const n = x.length;
    let flatGrad = this.flatGrad(n);
    let optCond = absMax(flatGrad) <= toleranceGrad;
    if (optCond) return origLoss;

    let { d, t, prevFlatGrad, prevLoss } = st;
    let nIter = 0;
    while (nIter < maxIter) {
      nIter++;
      st.nIter++;
      if (st.nIter === 1) {
        d = flatGrad.map((v) => -v);
        st.oldDirs = []; st.oldStps = []; st.ro = []; st.hDiag = 1;
      } else {
        const y = flatGrad.map((v, i) => v - prevFlatGrad![i]);
        const s = d!.map((v) => v * t!);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (st.oldDirs.length === historySize) {
            st.oldDirs.shift(); st.oldStps.shift(); st.ro.shift();
          }
          st.oldDirs.push(y); st.oldStps.push(s); st.ro.push(1 / ys);
          st.hDiag = ys / dot(y, y);
        }
        // Two-loop recursion: d = -H * g with the stored curvature pairs.
        const numOld = st.oldDirs.length;
        const al = new Array<number>(numOld);
        const q = flatGrad.map((v) => -v);
        for (let i = numOld - 1; i >= 0; i--) {
          al[i] = dot(st.oldStps[i], q) * st.ro[i];
          const yi = st.oldDirs[i];
          for (let j = 0; j < n; j++) q[j] -= al[i] * yi[j];
        }
        const r = q.map((v) => v * st.hDiag);
        for (let i = 0; i < numOld; i++) {
          const be = dot(st.oldDirs[i], r) * st.ro[i];
          const si = st.oldStps[i];
          for (let j = 0; j < n; j++) r[j] += (al[i] - be) * si[j];
        }
        d = r;
      }
      prevFlatGrad = flatGrad.slice();
      prevLoss = loss;
      t = st.nIter === 1 ? Math.min(1, 1 / absSum(flatGrad)) * lr : lr;
      const gtd = dot(flatGrad, d!);
      if (gtd > -toleranceChange) break;

      let lsFuncEvals = 0;
      if (lineSearchFn === 'strongWolfe') {
        const obj: ObjFunc = (x0, tt, dd) => {
          this.writeParams(LBFGS.moved(x0, tt, dd));
          const f = this.evaluate(closure);
          const g = this.flatGrad(n);
          this.writeParams(x0);
          return [f, g];
        };
        [loss, flatGrad, t, lsFuncEvals] = strongWolfe(obj, x, t, d!, loss, flatGrad, gtd);
        x = LBFGS.moved(x, t, d!);
        this.writeParams(x);
        optCond = absMax(flatGrad) <= toleranceGrad;
      } else {
        x = LBFGS.moved(x, t, d!);
        this.writeParams(x);
        if (nIter !== maxIter) {
          loss = this.evaluate(closure);
          flatGrad = this.flatGrad(n);
          optCond = absMax(flatGrad) <= toleranceGrad;
          lsFuncEvals = 1;
        }
      }
      currentEvals += lsFuncEvals;
      st.funcEvals += lsFuncEvals;

      if (nIter === maxIter) break;
      if (currentEvals >= maxEval) break;
      if (optCond) break;
      if (absMax(d!) * Math.abs(t) <= toleranceChange) break;
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }
    Object.assign(st, { d, t, prevFlatGrad, prevLoss });
    return origLoss;
  }

  /** State of parameter 0 as PyTorch keeps it; the history becomes [k, n] float32 tensors. */
  override stateDict(): OptimizerStateDict {
    const sd = super.stateDict();
    const st = this.hist;
    if (st.nIter === 0 && st.funcEvals === 0) return sd;
    const vec = (v: Vec) => tensor(Float32Array.from(v));
    const mat = (vs: Vec[]) => tensor(Float32Array.from(vs.flatMap((v) => [...v])), { shape: [vs.length, vs[0]?.length ?? 0] });
    const s: ParamState = { funcEvals: st.funcEvals, nIter: st.nIter, hDiag: st.hDiag };
    if (st.t !== null) s.t = st.t;
    if (st.prevLoss !== null) s.prevLoss = st.prevLoss;
    if (st.d) s.d = vec(st.d);
    if (st.prevFlatGrad) s.prevFlatGrad = vec(st.prevFlatGrad);
    if (st.oldDirs.length > 0) {
      s.oldDirs = mat(st.oldDirs);
      s.oldStps = mat(st.oldStps);
      s.ro = tensor(Float32Array.from(st.ro));
    }
    sd.state[0] = s;
    return sd;
  }

  override loadStateDict(sd: OptimizerStateDict): void {
    super.loadStateDict({ ...sd, state: {} });
    const s = sd.state[0];
    this.hist = emptyHistory();
    if (!s) return;
    const num = (k: string): number => {
      const v = s[k];
      check(typeof v === 'number', () => `stateDict.state[0].${k}: expected a number`);
      return v;
    };
    const vec = (k: string): Vec => {
      const v = s[k];
      check(v instanceof Tensor, () => `stateDict.state[0].${k}: expected a Tensor`);
      return Float64Array.from(v.toTypedArray());
    };
    const rows = (k: string): Vec[] => {
      const m = vec(k);
      const v = s[k] as Tensor;
      const cols = v.shape[1];
      return Array.from({ length: v.shape[0] }, (_, i) => m.slice(i * cols, (i + 1) * cols));
    };
    const h = this.hist;
    h.funcEvals = num('funcEvals');
    h.nIter = num('nIter');
    h.hDiag = num('hDiag');
    if ('t' in s) h.t = num('t');
    if ('prevLoss' in s) h.prevLoss = num('prevLoss');
    if ('d' in s) h.d = vec('d');
    if ('prevFlatGrad' in s) h.prevFlatGrad = vec('prevFlatGrad');
    if ('oldDirs' in s) {
      h.oldDirs = rows('oldDirs');
      h.oldStps = rows('oldStps');
      h.ro = [...vec('ro')];
    }
  }
}
