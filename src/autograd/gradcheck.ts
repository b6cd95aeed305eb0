/**
 * gradcheck and gradgradcheck, as torch.autograd's: the analytical Jacobian (one backward per
 * output element) against central finite differences. fn runs in the inputs' dtype on inputs
 * perturbed on the host; the differences and comparisons are formed in float64 on the host,
 * dividing by the step actually taken (for float32, the rounded x + h minus x - h). An entry
 * passes when |analytical - numerical| <= atol + rtol * |numerical|, h = eps * max(1, |x|).
 * Defaults: float32 inputs eps 1e-3, atol 1e-3, rtol 1e-2; when any input that requires grad is
 * float64, PyTorch's eps 1e-6, atol 1e-5, rtol 1e-3.
 * Keep inputs small (the cost is one backward per output element and two forwards per input
 * element) and away from kinks (relu at 0).
 */
import { isFloating } from '../dtype.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { scope } from '../memory.js';
import { native } from '../native.js';
import { hostRandom } from '../random.js';
import { Tensor } from '../tensor.js';
import { empty } from '../ops/util.js';
import { grad } from './backward.js';
import { enableGrad } from './engine.js';

export interface GradcheckOptions {
  /** Relative finite-difference step: h = eps * max(1, |x|). Default 1e-3. */
  eps?: number;
  /** Default 1e-3. */
  atol?: number;
  /** Default 1e-2. */
  rtol?: number;
  /** Throw a KilnError describing the first mismatch (default) instead of returning false. */
  raiseException?: boolean;
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

function outputsOf(r: unknown): Tensor[] {
  const list = r instanceof Tensor ? [r] : r;
  check(Array.isArray(list) && list.every((o) => o instanceof Tensor), 'fn: expected it to return a Tensor or an array of tensors');
  return list as Tensor[];
}

function checkInputs(inputs: unknown, what: string): Tensor[] {
  check(Array.isArray(inputs) && inputs.length > 0 && inputs.every((t) => t instanceof Tensor),
    () => `${what}: expected a non-empty array of tensors`);
  const ts = inputs as Tensor[];
  check(ts.some((t) => t.requiresGrad), () => `${what}: at least one input must require grad`);
  ts.forEach((t, i) => check(!t.requiresGrad || isFloating(t.dtype), () => `${what}[${i}]: expected float32 or float64, got ${t.dtype}`));
  return ts;
}

type FloatArray = Float32Array | Float64Array;

/** A leaf with these values (float32 or float64 by the array). */
function leafOf(values: FloatArray, shape: readonly number[], device: Tensor['device'], requiresGrad: boolean): Tensor {
  const t = empty(shape, values instanceof Float64Array ? 'float64' : 'float32', device);
  if (values.length > 0) native.write(t.storage.handle, 0, values);
  if (requiresGrad) t.requiresGrad = true;
  return t;
}

/** fn's outputs, flattened to float64, for inputs with input k's element j set to v. */
function evaluate(fn: Fn, inputs: Tensor[], host: FloatArray[], k: number, j: number, v: number): Float64Array[] {
  return scope(() => {
    const values = host[k].slice();
    values[j] = v;
    const xs = inputs.map((t, i) => (i === k ? leafOf(values, t.shape, t.device, t.requiresGrad) : t));
    return outputsOf(enableGrad(() => fn(...xs))).map((o) => Float64Array.from(o.toTypedArray()));
  });
}

/**
 * Checks fn's gradients with respect to the inputs that require grad against central finite
 * differences (defaults and method in the file comment). Returns true, or throws (or returns false
 * with raiseException: false) naming the output, input and element of the first mismatch.
 */
export function gradcheck(fn: Fn, inputs: Tensor[], options: GradcheckOptions = {}): boolean {
  check(typeof fn === 'function', 'fn: expected a function');
  const ts = checkInputs(inputs, 'inputs');
  const f64 = ts.some((t) => t.requiresGrad && t.dtype === 'float64');
  const { eps = f64 ? 1e-6 : 1e-3, atol = f64 ? 1e-5 : 1e-3, rtol = f64 ? 1e-3 : 1e-2, raiseException = true } = options;
  check(eps > 0 && atol >= 0 && rtol >= 0, 'options: eps must be positive, atol and rtol non-negative');
  const wrt = ts.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
  const host = ts.map((t) => (isFloating(t.dtype) ? (t.toTypedArray() as FloatArray) : new Float32Array(0)));

  // analytical: row r of d out_o / d inputs from one backward with a one-hot gradient
  const analytical = scope(() => enableGrad(() => {
    const outs = outputsOf(fn(...ts));
    return outs.map((o) => {
      const rows: Float64Array[][] = [];
      for (let r = 0; r < o.numel; r++) {
        if (!o.requiresGrad) {
          rows.push(wrt.map((k) => new Float64Array(ts[k].numel)));
          continue;
        }
        const onehot = o.dtype === 'float64' ? new Float64Array(o.numel) : new Float32Array(o.numel);
        onehot[r] = 1;
        const gradOutputs = leafOf(onehot, o.shape, o.device, false);
        const g = grad(o, wrt.map((k) => ts[k]), { gradOutputs, retainGraph: true, allowUnused: true });
        rows.push(g.map((gi, m) => (gi === null ? new Float64Array(ts[wrt[m]].numel) : Float64Array.from(gi.toTypedArray()))));
      }
      return rows;
    });
  }));

  for (const [m, k] of wrt.entries()) {
    const x = host[k];
    for (let j = 0; j < x.length; j++) {
      const h = eps * Math.max(1, Math.abs(x[j]));
      const round = x instanceof Float64Array ? (v: number) => v : Math.fround;
      const up = round(x[j] + h);
      const down = round(x[j] - h);
      const plus = evaluate(fn, ts, host, k, j, up);
      const minus = evaluate(fn, ts, host, k, j, down);
      for (let o = 0; o < plus.length; o++) {
        for (let r = 0; r < plus[o].length; r++) {
          const numerical = (plus[o][r] - minus[o][r]) / (up - down);
          const a = analytical[o][r][m][j];
          if (!(Math.abs(a - numerical) <= atol + rtol * Math.abs(numerical))) {
            const msg = `gradcheck: the gradient of output ${o} element ${r} with respect to input ${k} (shape ${shapeStr(ts[k].shape)}) ` +
              `element ${j} is ${a} by backward but ${numerical} by finite differences (atol ${atol}, rtol ${rtol})`;
            if (raiseException) throw new KilnError(msg);
            return false;
          }
        }
      }
    }
  }
  return true;
}

/**
 * Checks fn's second derivatives: gradcheck of the function (inputs, gradOutputs) -> the gradients
 * of fn's outputs (weighted by gradOutputs) with respect to the inputs, built with createGraph.
 * gradOutputs default to fixed pseudo-random tensors shaped like fn's outputs.
 */
export function gradgradcheck(fn: Fn, inputs: Tensor[], gradOutputs?: Tensor[] | null, options: GradcheckOptions = {}): boolean {
  check(typeof fn === 'function', 'fn: expected a function');
  const ts = checkInputs(inputs, 'inputs');
  const shapes = scope(() => outputsOf(enableGrad(() => fn(...ts))).map((o) => [...o.shape]));
  let gos: Tensor[];
  if (gradOutputs === undefined || gradOutputs === null) {
    const rand = hostRandom(1234);
    const f64 = ts.some((t) => t.requiresGrad && t.dtype === 'float64');
    gos = shapes.map((s) => {
      const n = s.reduce((a, b) => a * b, 1);
      const v = Float64Array.from({ length: n }, () => Math.fround(2 * rand() - 1));
      return leafOf(f64 ? v : Float32Array.from(v), s, ts[0].device, true);
    });
  } else {
    check(Array.isArray(gradOutputs) && gradOutputs.length === shapes.length && gradOutputs.every((g) => g instanceof Tensor),
      () => `gradOutputs: expected ${shapes.length} tensors, one per output of fn`);
    gos = gradOutputs;
  }
  const nIn = ts.length;
  const first = (...xs: Tensor[]): Tensor[] => {
    const outs = outputsOf(fn(...xs.slice(0, nIn)));
    const req = xs.slice(0, nIn).filter((t) => t.requiresGrad);
    const gs = grad(outs, req, { gradOutputs: xs.slice(nIn), createGraph: true, allowUnused: true });
    // an input the gradient does not depend on: zeros (a constant has zero derivative)
    return gs.map((g, i) => g ?? req[i].mul(0));
  };
  return gradcheck(first, [...ts, ...gos], options);
}
