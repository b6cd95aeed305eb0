/**
 * A tiny float64 reference for every Kiln op, in plain JS (a Float64Array plus a shape), written
 * from the definitions and independently of Kiln: the tests compare Kiln's float32 results to it,
 * and gradcheck differentiates it numerically. Slow and obvious on purpose.
 */

export interface R {
  shape: number[];
  data: Float64Array;
}

export const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function arr(shape: readonly number[], data: ArrayLike<number> | ((i: number) => number)): R {
  const n = numel(shape);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = typeof data === 'function' ? data(i) : data[i];
  if (typeof data !== 'function' && data.length !== n) throw new Error(`arr: ${data.length} values for shape [${shape}]`);
  return { shape: [...shape], data: out };
}

export const scalar = (v: number): R => arr([], [v]);

/** mulberry32: a seeded host PRNG, so every test's inputs are fixed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random values in [lo, hi) rounded to float32 (so Kiln and the reference see the same inputs),
 * kept at least `gap` away from every point in `avoid` (kinks such as 0 for relu and abs).
 */
export function randArr(shape: readonly number[], seed: number, lo = -2, hi = 2, avoid: number[] = [0], gap = 0.05): R {
  const r = rng(seed);
  return arr(shape, () => {
    for (;;) {
      const v = Math.fround(lo + (hi - lo) * r());
      if (avoid.every((k) => Math.abs(v - k) >= gap)) return v;
    }
  });
}

/** Distinct values (a shuffled, spaced grid) so max/min/argmax have no ties and no near-ties. */
export function distinctArr(shape: readonly number[], seed: number, spacing = 0.1): R {
  const n = numel(shape);
  const r = rng(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return arr(shape, (i) => Math.fround((order[i] - n / 2) * spacing + 0.013));
}

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = flat % shape[i];
    flat = Math.floor(flat / shape[i]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let i = 0; i < shape.length; i++) f = f * shape[i] + idx[i];
  return f;
}

export const normDim = (d: number, ndim: number) => (d < 0 ? d + ndim : d);

// ---------------------------------------------------------------- elementwise

export function map(a: R, f: (v: number) => number): R {
  return arr(a.shape, (i) => f(a.data[i]));
}

export function broadcastShape(...shapes: (readonly number[])[]): number[] {
  const n = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - n + i] ?? 1;
      if (v !== 1) {
        if (d !== 1 && d !== v) throw new Error(`broadcast: [${shapes.join('] [')}]`);
        d = v;
      }
    }
    out.push(d);
  }
  return out;
}

/** The element of a that broadcasts to index idx of a shape with `n` dims. */
function at(a: R, idx: readonly number[]): number {
  const lead = idx.length - a.shape.length;
  let f = 0;
  for (let i = 0; i < a.shape.length; i++) f = f * a.shape[i] + (a.shape[i] === 1 ? 0 : idx[lead + i]);
  return a.data[f];
}

export function zipN(inputs: R[], f: (...v: number[]) => number): R {
  const shape = broadcastShape(...inputs.map((t) => t.shape));
  return arr(shape, (i) => {
    const idx = unravel(i, shape);
    return f(...inputs.map((t) => at(t, idx)));
  });
}

export const zip = (a: R, b: R, f: (x: number, y: number) => number) => zipN([a, b], f);
export const add = (a: R, b: R) => zip(a, b, (x, y) => x + y);
export const sub = (a: R, b: R) => zip(a, b, (x, y) => x - y);
export const mul = (a: R, b: R) => zip(a, b, (x, y) => x * y);
export const div = (a: R, b: R) => zip(a, b, (x, y) => x / y);
export const pow = (a: R, b: R) => zip(a, b, (x, y) => x ** y);
export const where = (c: R, a: R, b: R) => zipN([c, a, b], (cv, x, y) => (cv !== 0 ? x : y));

/** erf by its Maclaurin series: exact to ~1e-14 for |x| <= 4, which is all the tests use. */
export function erf(x: number): number {
  if (Math.abs(x) > 4) return Math.sign(x) * (1 - 1.5e-8);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

export const fn = {
  neg: (v: number) => -v,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (v: number) => 1 / Math.sqrt(v),
  abs: Math.abs,
  sign: Math.sign,
  square: (v: number) => v * v,
  reciprocal: (v: number) => 1 / v,
  sin: Math.sin,
  cos: Math.cos,
  relu: (v: number) => Math.max(v, 0),
  sigmoid: (v: number) => 1 / (1 + Math.exp(-v)),
  tanh: Math.tanh,
  gelu: (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2)),
  leakyRelu: (slope: number) => (v: number) => (v > 0 ? v : v * slope),
  clamp: (lo: number, hi: number) => (v: number) => Math.min(Math.max(v, lo), hi),
};

// ---------------------------------------------------------------- reductions

/**
 * Reduces `dims` of a: fn sees the values of each output position in row-major order of the
 * reduced dims (so argmax's "first index" is well defined for one dim).
 */
export function reduce(a: R, dims: number[] | undefined, keepdim: boolean, f: (vals: number[]) => number): R {
  const nd = a.shape.length;
  const ds = dims === undefined ? a.shape.map((_, i) => i) : dims.map((d) => normDim(d, nd));
  const keptShape = a.shape.map((d, i) => (ds.includes(i) ? 1 : d));
  const groups: number[][] = Array.from({ length: numel(keptShape) }, () => []);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape).map((v, k) => (ds.includes(k) ? 0 : v));
    groups[ravel(idx, keptShape)].push(a.data[i]);
  }
  const outShape = keepdim ? keptShape : a.shape.filter((_, i) => !ds.includes(i));
  return arr(outShape, (i) => f(groups[i]));
}

export const sumOf = (v: number[]) => v.reduce((s, x) => s + x, 0);
export const meanOf = (v: number[]) => sumOf(v) / v.length;
export const maxOf = (v: number[]) => Math.max(...v);
export const minOf = (v: number[]) => Math.min(...v);
export const argmaxOf = (v: number[]) => v.indexOf(Math.max(...v));
export const argminOf = (v: number[]) => v.indexOf(Math.min(...v));
export const varOf = (unbiased: boolean) => (v: number[]) => {
  const m = meanOf(v);
  return sumOf(v.map((x) => (x - m) ** 2)) / (unbiased ? v.length - 1 : v.length);
};
export const logsumexpOf = (v: number[]) => {
  const m = Math.max(...v);
  return m + Math.log(sumOf(v.map((x) => Math.exp(x - m))));
};

export const sum = (a: R, dims?: number[], keepdim = false) => reduce(a, dims, keepdim, sumOf);
export const mean = (a: R, dims?: number[], keepdim = false) => reduce(a, dims, keepdim, meanOf);

export function softmax(a: R, dim: number, log = false): R {
  const lse = reduce(a, [dim], true, logsumexpOf);
  return zip(a, lse, (x, l) => (log ? x - l : Math.exp(x - l)));
}

// ---------------------------------------------------------------- shape

export const reshape = (a: R, shape: number[]): R => ({ shape: [...shape], data: a.data.slice() });

export function permute(a: R, dims: number[]): R {
  const ds = dims.map((d) => normDim(d, a.shape.length));
  const shape = ds.map((d) => a.shape[d]);
  return arr(shape, (i) => {
    const idx = unravel(i, shape);
    const src = new Array<number>(ds.length);
    ds.forEach((d, k) => (src[d] = idx[k]));
    return a.data[ravel(src, a.shape)];
  });
}

export function transpose(a: R, d0: number, d1: number): R {
  const p = a.shape.map((_, i) => i);
  const [x, y] = [normDim(d0, p.length), normDim(d1, p.length)];
  [p[x], p[y]] = [p[y], p[x]];
  return permute(a, p);
}

export function expand(a: R, shape: number[]): R {
  return arr(shape, (i) => at(a, unravel(i, shape)));
}

/** Python slicing a[start:end:step] on dim (step > 0). */
export function slice(a: R, dim: number, start: number, end: number, step = 1): R {
  const d = normDim(dim, a.shape.length);
  const size = a.shape[d];
  const cl = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const s = cl(start);
  const e = cl(end);
  const rows: number[] = [];
  for (let i = s; i < e; i += step) rows.push(i);
  return indexSelect(a, d, rows);
}

export function indexSelect(a: R, dim: number, rows: number[]): R {
  const d = normDim(dim, a.shape.length);
  const shape = [...a.shape];
  shape[d] = rows.length;
  return arr(shape, (i) => {
    const idx = unravel(i, shape);
    idx[d] = rows[idx[d]];
    return a.data[ravel(idx, a.shape)];
  });
}

export function cat(list: R[], dim: number): R {
  const d = normDim(dim, list[0].shape.length);
  const shape = [...list[0].shape];
  shape[d] = list.reduce((s, t) => s + t.shape[d], 0);
  return arr(shape, (i) => {
    const idx = unravel(i, shape);
    let k = idx[d];
    for (const t of list) {
      if (k < t.shape[d]) {
        idx[d] = k;
        return t.data[ravel(idx, t.shape)];
      }
      k -= t.shape[d];
    }
    throw new Error('cat: unreachable');
  });
}

export function stack(list: R[], dim: number): R {
  const d = normDim(dim, list[0].shape.length + 1);
  return cat(list.map((t) => reshape(t, [...t.shape.slice(0, d), 1, ...t.shape.slice(d)])), d);
}

/** out[idx] = a[idx with idx[dim] replaced by index[idx]]. */
export function gather(a: R, dim: number, index: R): R {
  const d = normDim(dim, a.shape.length);
  return arr(index.shape, (i) => {
    const idx = unravel(i, index.shape);
    idx[d] = index.data[i];
    return a.data[ravel(idx, a.shape)];
  });
}

export function scatterAdd(a: R, dim: number, index: R, src: R): R {
  const d = normDim(dim, a.shape.length);
  const out = arr(a.shape, a.data);
  for (let i = 0; i < index.data.length; i++) {
    const idx = unravel(i, index.shape);
    idx[d] = index.data[i];
    out.data[ravel(idx, a.shape)] += src.data[i];
  }
  return out;
}

// ---------------------------------------------------------------- linear algebra

/** torch.matmul: 1-D promotion and broadcast batch dims. */
export function matmul(a: R, b: R): R {
  const a2 = a.shape.length === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.shape.length === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const [M, K] = a2.shape.slice(-2);
  const [K2, N] = b2.shape.slice(-2);
  if (K !== K2) throw new Error('matmul: inner dims differ');
  const batch = broadcastShape(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const shape = [...batch, M, N];
  const out = arr(shape, (i) => {
    const idx = unravel(i, shape);
    const bi = idx.slice(0, -2);
    const [m, n] = idx.slice(-2);
    let s = 0;
    for (let k = 0; k < K; k++) s += atBatched(a2, bi, m, k) * atBatched(b2, bi, k, n);
    return s;
  });
  let outShape = shape;
  if (a.shape.length === 1) outShape = [...outShape.slice(0, -2), outShape[outShape.length - 1]];
  if (b.shape.length === 1) outShape = outShape.slice(0, -1);
  return reshape(out, outShape);
}

function atBatched(a: R, batchIdx: number[], r: number, c: number): number {
  const nb = a.shape.length - 2;
  const lead = batchIdx.length - nb;
  const idx = [...batchIdx.slice(lead).map((v, i) => (a.shape[i] === 1 ? 0 : v)), r, c];
  return a.data[ravel(idx, a.shape)];
}

// ---------------------------------------------------------------- nn

/** Per-row softmax cross-entropy with PyTorch's label smoothing; ignored rows give 0. */
export function crossEntropyRows(logits: R, target: number[], ignoreIndex = -100, smoothing = 0): R {
  const [B, C] = logits.shape;
  const lp = softmax(logits, 1, true);
  return arr([B], (b) => {
    const t = target[b];
    if (t === ignoreIndex) return 0;
    let all = 0;
    for (let c = 0; c < C; c++) all -= lp.data[b * C + c];
    return (1 - smoothing) * -lp.data[b * C + t] + (smoothing / C) * all;
  });
}

export interface Conv2dGeom {
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
}

export function conv2d(x: R, w: R, bias: R | null, g: Conv2dGeom = {}): R {
  const [N, C, H, W] = x.shape;
  const [OC, , kH, kW] = w.shape;
  const [sH, sW] = g.stride ?? [1, 1];
  const [pH, pW] = g.padding ?? [0, 0];
  const [dH, dW] = g.dilation ?? [1, 1];
  const OH = Math.floor((H + 2 * pH - dH * (kH - 1) - 1) / sH) + 1;
  const OW = Math.floor((W + 2 * pW - dW * (kW - 1) - 1) / sW) + 1;
  return arr([N, OC, OH, OW], (i) => {
    const [n, o, oh, ow] = unravel(i, [N, OC, OH, OW]);
    let s = bias ? bias.data[o] : 0;
    for (let c = 0; c < C; c++) {
      for (let i2 = 0; i2 < kH; i2++) {
        for (let j = 0; j < kW; j++) {
          const h = oh * sH - pH + i2 * dH;
          const ww = ow * sW - pW + j * dW;
          if (h < 0 || h >= H || ww < 0 || ww >= W) continue;
          s += x.data[((n * C + c) * H + h) * W + ww] * w.data[((o * C + c) * kH + i2) * kW + j];
        }
      }
    }
    return s;
  });
}

export interface PoolGeom {
  kernel: [number, number];
  stride?: [number, number];
  padding?: [number, number];
}

/** Visits the in-bounds taps of each output window; `padded` counts the taps incl. padding. */
function pool(x: R, g: PoolGeom, f: (vals: number[], padded: number) => number): R {
  const [N, C, H, W] = x.shape;
  const [kH, kW] = g.kernel;
  const [sH, sW] = g.stride ?? g.kernel;
  const [pH, pW] = g.padding ?? [0, 0];
  const OH = Math.floor((H + 2 * pH - kH) / sH) + 1;
  const OW = Math.floor((W + 2 * pW - kW) / sW) + 1;
  return arr([N, C, OH, OW], (i) => {
    const [n, c, oh, ow] = unravel(i, [N, C, OH, OW]);
    const vals: number[] = [];
    let padded = 0;
    for (let a = 0; a < kH; a++) {
      for (let b = 0; b < kW; b++) {
        const h = oh * sH - pH + a;
        const w = ow * sW - pW + b;
        if (h < H + pH && w < W + pW) padded++;
        if (h >= 0 && h < H && w >= 0 && w < W) vals.push(x.data[((n * C + c) * H + h) * W + w]);
      }
    }
    return f(vals, padded);
  });
}

export const maxPool2d = (x: R, g: PoolGeom) => pool(x, g, maxOf);
export const avgPool2d = (x: R, g: PoolGeom, countIncludePad = true) =>
  pool(x, g, (v, padded) => sumOf(v) / (countIncludePad ? padded : v.length));

export function layerNorm(x: R, k: number, weight: R | null, bias: R | null, eps = 1e-5): R {
  const dims = Array.from({ length: k }, (_, i) => x.shape.length - k + i);
  const mu = mean(x, dims, true);
  const v = reduce(x, dims, true, varOf(false));
  let y = zipN([x, mu, v], (a, m, s) => (a - m) / Math.sqrt(s + eps));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Batch norm with batch statistics (training) over all dims but 1. */
export function batchNormTrain(x: R, weight: R | null, bias: R | null, eps = 1e-5): R {
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const mu = mean(x, dims, true);
  const v = reduce(x, dims, true, varOf(false));
  const cshape = x.shape.map((d, i) => (i === 1 ? d : 1));
  let y = zipN([x, mu, v], (a, m, s) => (a - m) / Math.sqrt(s + eps));
  if (weight) y = mul(y, reshape(weight, cshape));
  if (bias) y = add(y, reshape(bias, cshape));
  return y;
}

/** Transposed convolution: x [N, Cin, H, W], w [Cin, Cout, kH, kW] (conv2d's input gradient as a layer). */
export function convTranspose2d(x: R, w: R, bias: R | null, g: Conv2dGeom & { outputPadding?: [number, number] } = {}): R {
  const [N, Cin, H, W] = x.shape;
  const [, Cout, kH, kW] = w.shape;
  const [sH, sW] = g.stride ?? [1, 1];
  const [pH, pW] = g.padding ?? [0, 0];
  const [dH, dW] = g.dilation ?? [1, 1];
  const [oH, oW] = g.outputPadding ?? [0, 0];
  const OH = (H - 1) * sH - 2 * pH + dH * (kH - 1) + oH + 1;
  const OW = (W - 1) * sW - 2 * pW + dW * (kW - 1) + oW + 1;
  const out = arr([N, Cout, OH, OW], (i) => (bias ? bias.data[unravel(i, [N, Cout, OH, OW])[1]] : 0));
  for (let n = 0; n < N; n++) {
    for (let ci = 0; ci < Cin; ci++) {
      for (let ih = 0; ih < H; ih++) {
        for (let iw = 0; iw < W; iw++) {
          const xv = x.data[((n * Cin + ci) * H + ih) * W + iw];
          for (let co = 0; co < Cout; co++) {
            for (let a = 0; a < kH; a++) {
              for (let b = 0; b < kW; b++) {
                const oh = ih * sH - pH + a * dH;
                const ow = iw * sW - pW + b * dW;
                if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
                out.data[((n * Cout + co) * OH + oh) * OW + ow] += xv * w.data[((ci * Cout + co) * kH + a) * kW + b];
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** Binary cross-entropy per element, logs clamped at -100 as PyTorch. */
export function bce(x: R, y: R, w: R | null = null): R {
  const l = zip(x, y, (p, t) => -(t * Math.max(Math.log(p), -100) + (1 - t) * Math.max(Math.log(1 - p), -100)));
  return w ? mul(l, w) : l;
}

/** -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))] per element. */
export function bceWithLogits(x: R, y: R): R {
  return zip(x, y, (v, t) => Math.max(v, 0) - v * t + Math.log(1 + Math.exp(-Math.abs(v))));
}

/** log(1 + e^x). */
export const softplus = (v: number) => Math.max(v, 0) + Math.log(1 + Math.exp(-Math.abs(v)));
