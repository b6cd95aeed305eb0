/** kiln.F: functional forms of layers, as torch.nn.functional. Losses live in losses.ts. */
import { canFuseLinear, linearFused } from './ops/linear.js';
import { rand, tensor } from './creation.js';
import { checkOptions } from './options.js';
import { check, checkFinite, shapeStr } from './errors.js';
import * as ew from './ops/elementwise.js';
import { indexSelect } from './ops/indexing.js';
import * as nnops from './ops/nn.js';
import { checkFloat, checkTensor } from './ops/util.js';
import { anyBf16, viaFloat32 } from './ops/bf16.js';
import { Tensor } from './tensor.js';

export const relu = ew.relu;
export const sigmoid = ew.sigmoid;
export const tanh = ew.tanh;
export const gelu = ew.gelu;
export const leakyRelu = ew.leakyRelu;
export const softmax = (x: Tensor, dim = -1) => nnops.softmax(x, dim);
export const logSoftmax = (x: Tensor, dim = -1) => nnops.logSoftmax(x, dim);
export const conv2d = nnops.conv2d;
export const convTranspose2d = nnops.convTranspose2d;
export const maxPool2d = nnops.maxPool2d;
export const avgPool2d = nnops.avgPool2d;

/** y = x @ weight^T + bias; weight is [out, in] as in PyTorch. */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  checkTensor(x, 'input');
  if (x.dtype !== 'bfloat16') checkFloat(x, 'input');
  checkTensor(weight, 'weight');
  if (bias) checkTensor(bias, 'bias');
  check(weight.ndim === 2, () => `weight: expected [outFeatures, inFeatures], got ${shapeStr(weight.shape)}`);
  check(x.ndim >= 1 && x.shape[x.ndim - 1] === weight.shape[1],
    () => `input: expected last dim ${weight.shape[1]} (inFeatures), got shape ${shapeStr(x.shape)}`);
  if (bias) check(bias.ndim === 1 && bias.shape[0] === weight.shape[0], () => `bias: expected shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
  if (canFuseLinear(x, weight, bias)) return linearFused(x, weight, bias); // one GEMM with a bias epilogue
  if (x.ndim > 2 && x.isContiguous()) {
    // [..., in] as one [rows, in] matrix: one GEMM (and one for each gradient) instead of a batch
    const rows = x.reshape([-1, weight.shape[1]]);
    if (canFuseLinear(rows, weight, bias)) return linearFused(rows, weight, bias).reshape([...x.shape.slice(0, -1), weight.shape[0]]);
  }
  const y = x.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkFinite(p, 'p');
  check(p >= 0 && p <= 1, () => `p: expected a probability in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  // bfloat16: the float32 mask would promote the result; scale in float32, round once
  if (anyBf16(x)) return viaFloat32([x], (a) => dropout(a, p, training));
  if (p === 1) return x.mul(0);
  const u = rand(x.shape, { device: x.device });
  const keepMask = u.ge(p);
  u.dispose();
  const out = x.mul(keepMask).mul(1 / (1 - p));
  return out;
}

/** Rows of weight [num, dim] picked by int32 indices of any shape: [..., dim]. */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  check(indices.dtype === 'int32', () => `indices: expected an int32 tensor, got ${indices.dtype}`);
  check(weight.ndim === 2, () => `weight: expected [numEmbeddings, embeddingDim], got ${shapeStr(weight.shape)}`);
  const flat = indices.reshape([indices.numel]);
  const rows = indexSelect(weight, 0, flat);
  return rows.reshape([...indices.shape, weight.shape[1]]);
}

/** Normalises over the trailing dims given by normalizedShape, then scales and shifts. */
export function layerNorm(x: Tensor, normalizedShape: number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  // bfloat16: the statistics in float32, one rounding of the result
  if (anyBf16(x, weight, bias)) return viaFloat32([x, weight, bias], (a, w, b) => layerNorm(a, normalizedShape, w, b, eps));
  const k = normalizedShape.length;
  check(k > 0 && k <= x.ndim && normalizedShape.every((d, i) => d === x.shape[x.ndim - k + i]),
    () => `normalizedShape: ${shapeStr(normalizedShape)} does not match the trailing dims of input ${shapeStr(x.shape)}`);
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const mu = x.mean(dims, true);
  const centered = x.sub(mu);
  const v = centered.square().mean(dims, true);
  let y = centered.mul(v.add(eps).rsqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

export interface BatchNormOptions {
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over dim 1 of [N, C] or [N, C, ...]. In training, batch statistics are used
 * and the running ones (when given) updated in place (unbiased variance, as PyTorch); in eval the
 * running ones. Two call forms: PyTorch's `batchNorm(x, runningMean, runningVar, weight, bias,
 * { training, momentum, eps })` (the running statistics may be null in training), and
 * `batchNorm(x, { runningMean, runningVar, weight, bias, training, momentum, eps })`.
 */
export function batchNorm(x: Tensor, runningMeanOrOpts?: Tensor | null | BatchNormOptions, runningVar?: Tensor | null,
  weight?: Tensor | null, bias?: Tensor | null, opts?: { training?: boolean; momentum?: number; eps?: number }): Tensor {
  checkFloat(x, 'batchNorm: input');
  let o: BatchNormOptions;
  if (runningMeanOrOpts === undefined || runningMeanOrOpts === null || runningMeanOrOpts instanceof Tensor) {
    checkOptions(opts, ['training', 'momentum', 'eps'], 'batchNorm');
    o = { runningMean: runningMeanOrOpts ?? null, runningVar: runningVar ?? null, weight: weight ?? null, bias: bias ?? null, ...opts };
  } else {
    checkOptions(runningMeanOrOpts, ['runningMean', 'runningVar', 'weight', 'bias', 'training', 'momentum', 'eps'], 'batchNorm');
    o = runningMeanOrOpts;
  }
  const { runningMean = null, runningVar: rv = null, weight: w = null, bias: b = null, training = false, momentum = 0.1, eps = 1e-5 } = o;
  return batchNormImpl(x, runningMean, rv, w, b, training, momentum, eps);
}

function batchNormImpl(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null, bias: Tensor | null,
  training: boolean, momentum: number, eps: number): Tensor {
  check(x.ndim >= 2, () => `input: expected [N, C, ...], got ${shapeStr(x.shape)}`);
  const C = x.shape[1];
  const dims = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2)];
  const bshape = x.shape.map((_, i) => (i === 1 ? C : 1));
  let y: Tensor;
  if (training) {
    const n = dims.reduce((p, d) => p * x.shape[d], 1);
    check(n > 1, () => `input: batch norm in training needs more than one value per channel, got shape ${shapeStr(x.shape)}`);
    const mu = x.mean(dims, true);
    const centered = x.sub(mu);
    const v = centered.square().mean(dims, true);
    y = centered.mul(v.add(eps).rsqrt());
    if (runningMean && runningVar) {
      const muD = mu.detach().reshape([C]);
      const unbiased = v.detach().reshape([C]).mul(n / (n - 1));
      runningMean.mul_(1 - momentum).add_(muD, momentum);
      runningVar.mul_(1 - momentum).add_(unbiased, momentum);
      muD.dispose();
      unbiased.dispose();
    }
  } else {
    check(runningMean !== null && runningVar !== null, 'batchNorm: eval mode needs runningMean and runningVar');
    y = x.sub(runningMean.reshape(bshape)).mul(runningVar.reshape(bshape).add(eps).rsqrt());
  }
  if (weight) y = y.mul(weight.reshape(bshape));
  if (bias) y = y.add(bias.reshape(bshape));
  return y;
}
export * from './losses.js';
export { scaledDotProductAttention } from './ops/attention.js';
export type { SdpaOptions } from './ops/attention.js';
export { pad } from './ops/layout.js';
export type { PadOptions } from './ops/layout.js';

// ---- layers added for sequence and generative models (issue 13)

/** Group normalisation of [N, C, ...] over groups of C / numGroups channels, then a per-channel affine. */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  if (anyBf16(x, weight, bias)) return viaFloat32([x, weight, bias], (a, w, b) => groupNorm(a, numGroups, w, b, eps));
  checkFloat(x, 'input');
  check(x.ndim >= 2, () => `input: expected [N, C, ...], got ${shapeStr(x.shape)}`);
  const [N, C] = x.shape;
  check(Number.isInteger(numGroups) && numGroups > 0 && C % numGroups === 0,
    () => `numGroups: expected a positive divisor of the ${C} channels, got ${numGroups}`);
  const g = x.reshape([N, numGroups, -1]);
  const mu = g.mean(2, true);
  const centered = g.sub(mu);
  const v = centered.square().mean(2, true);
  let y = centered.mul(v.add(eps).rsqrt()).reshape([...x.shape]);
  const cshape = x.shape.map((d, i) => (i === 1 ? C : 1));
  if (weight) y = y.mul(weight.reshape(cshape));
  if (bias) y = y.add(bias.reshape(cshape));
  return y;
}

/** x / sqrt(mean(x^2 over the trailing normalizedShape dims) + eps) * weight (eps: float32's epsilon when omitted, as PyTorch). */
export function rmsNorm(x: Tensor, normalizedShape: number[], weight: Tensor | null = null, eps: number | null = null): Tensor {
  if (anyBf16(x, weight)) return viaFloat32([x, weight], (a, w) => rmsNorm(a, normalizedShape, w, eps));
  checkFloat(x, 'input');
  const k = normalizedShape.length;
  check(k > 0 && k <= x.ndim && normalizedShape.every((d, i) => d === x.shape[x.ndim - k + i]),
    () => `normalizedShape: ${shapeStr(normalizedShape)} does not match the trailing dims of input ${shapeStr(x.shape)}`);
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const y = x.mul(x.square().mean(dims, true).add(eps ?? 1.1920928955078125e-7).rsqrt());
  return weight ? y.mul(weight) : y;
}

/** (1 / beta) log(1 + exp(beta x)), and x itself where beta x > threshold (PyTorch's defaults 1 and 20). */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  if (anyBf16(x)) return viaFloat32([x], (a) => softplus(a, beta, threshold));
  checkFloat(x, 'input');
  checkFinite(beta, 'beta');
  checkFinite(threshold, 'threshold');
  const bx = x.mul(beta);
  // relu(bx) + log(1 + exp(-|bx|)): no overflow for large |x|
  const sp = bx.relu().add(bx.abs().neg().exp().add(1).log()).div(beta);
  return ew.where(bx.gt(threshold), x, sp);
}

/** x * sigmoid(x). */
export const silu = (x: Tensor) => x.mul(x.sigmoid());
/** x * tanh(softplus(x)). */
export const mish = (x: Tensor) => x.mul(softplus(x).tanh());

/** 1-D convolution: x [N, C, L], weight [OC, C, k] (a 2-D convolution over a height of 1). */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null,
  opts: { stride?: number; padding?: number; dilation?: number } = {}): Tensor {
  checkTensor(x, 'input');
  checkTensor(weight, 'weight');
  // conv2d takes bfloat16 input, weight and bias together
  if (!anyBf16(x, weight, bias)) {
    checkFloat(x, 'input');
    checkFloat(weight, 'weight');
  }
  check(x.ndim === 3, () => `input: expected [N, C, L], got ${shapeStr(x.shape)}`);
  check(weight.ndim === 3, () => `weight: expected [outChannels, inChannels, kernelSize], got ${shapeStr(weight.shape)}`);
  const int = (v: number | undefined, d: number, name: string) => {
    const r = v ?? d;
    check(Number.isInteger(r), () => `${name}: expected an integer, got ${String(v)}`);
    return r;
  };
  const stride = int(opts.stride, 1, 'stride');
  const padding = int(opts.padding, 0, 'padding');
  const dilation = int(opts.dilation, 1, 'dilation');
  const y = nnops.conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias,
    { stride: [1, stride], padding: [0, padding], dilation: [1, dilation] });
  return y.squeeze(2);
}

/** [out, size] averaging weights of adaptive pooling: row i averages [floor(i n / o), ceil((i + 1) n / o)). */
function adaptiveWeights(n: number, o: number, like: Tensor): Tensor {
  const host = new Float32Array(o * n);
  for (let i = 0; i < o; i++) {
    const s = Math.floor((i * n) / o);
    const e = Math.ceil(((i + 1) * n) / o);
    for (let j = s; j < e; j++) host[i * n + j] = 1 / (e - s);
  }
  return tensor(host, { shape: [o, n], device: like.device });
}

/** Adaptive average pooling of [N, C, H, W] (or [C, H, W]) to outputSize, as two small matmuls (exact, separable windows). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number | null, number | null]): Tensor {
  if (anyBf16(x)) return viaFloat32([x], (a) => adaptiveAvgPool2d(a, outputSize));
  checkFloat(x, 'input');
  check(x.ndim === 3 || x.ndim === 4, () => `input: expected [N, C, H, W] or [C, H, W], got ${shapeStr(x.shape)}`);
  const [H, W] = x.shape.slice(-2);
  const [oh0, ow0] = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
  const OH = oh0 ?? H;
  const OW = ow0 ?? W;
  check(Number.isInteger(OH) && Number.isInteger(OW) && OH > 0 && OW > 0, () => `outputSize: expected positive integers, got ${String(outputSize)}`);
  check(H > 0 && W > 0, () => `input: expected non-empty spatial dims, got ${shapeStr(x.shape)}`);
  return adaptiveWeights(H, OH, x).matmul(x).matmul(adaptiveWeights(W, OW, x).t());
}

/** [out, n] interpolation weights along one axis (nearest, or linear with PyTorch's half-pixel or corner-aligned rule). */
function interpWeights(n: number, o: number, mode: 'nearest' | 'bilinear', alignCorners: boolean, like: Tensor): Tensor {
  const host = new Float32Array(o * n);
  const scale = n / o;
  for (let i = 0; i < o; i++) {
    if (mode === 'nearest') {
      host[i * n + Math.min(Math.floor(i * scale), n - 1)] = 1;
      continue;
    }
    let src = alignCorners ? (o > 1 ? (i * (n - 1)) / (o - 1) : 0) : Math.max((i + 0.5) * scale - 0.5, 0);
    src = Math.min(src, n - 1);
    const i0 = Math.floor(src);
    const i1 = Math.min(i0 + 1, n - 1);
    const l = src - i0;
    host[i * n + i0] += 1 - l;
    host[i * n + i1] += l;
  }
  return tensor(host, { shape: [o, n], device: like.device });
}

export interface InterpolateOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

/**
 * Resizes [N, C, H, W] by size or scaleFactor, nearest or bilinear, as two small matmuls. Source
 * coordinates use in/out size (PyTorch's rule when size is given or the scaled size is exact).
 */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  checkOptions(opts, ['size', 'scaleFactor', 'mode', 'alignCorners'], 'interpolate');
  if (anyBf16(x)) return viaFloat32([x], (a) => interpolate(a, opts));
  checkFloat(x, 'input');
  check(x.ndim === 4, () => `input: expected [N, C, H, W], got ${shapeStr(x.shape)}`);
  const { size, scaleFactor, mode = 'nearest', alignCorners } = opts;
  check(mode === 'nearest' || mode === 'bilinear', () => `mode: expected 'nearest' or 'bilinear', got ${String(mode)}`);
  check(mode === 'bilinear' || alignCorners === undefined, 'alignCorners: only for bilinear mode');
  check((size === undefined) !== (scaleFactor === undefined), 'interpolate: pass size or scaleFactor, one of them');
  const [H, W] = x.shape.slice(2);
  let OH: number;
  let OW: number;
  if (size !== undefined) [OH, OW] = typeof size === 'number' ? [size, size] : size;
  else {
    const [sh, sw] = typeof scaleFactor === 'number' ? [scaleFactor, scaleFactor] : scaleFactor!;
    [OH, OW] = [Math.floor(H * sh), Math.floor(W * sw)];
  }
  check(Number.isInteger(OH) && Number.isInteger(OW) && OH > 0 && OW > 0, () => `size: the output ${OH}x${OW} is not positive integers`);
  const ac = alignCorners ?? false;
  return interpWeights(H, OH, mode, ac, x).matmul(x).matmul(interpWeights(W, OW, mode, ac, x).t());
}

/** [N, C r^2, H, W] -> [N, C, H r, W r]. */
export function pixelShuffle(x: Tensor, upscaleFactor: number): Tensor {
  checkTensor(x, 'input');
  const r = upscaleFactor;
  check(Number.isInteger(r) && r > 0, () => `upscaleFactor: expected a positive integer, got ${String(r)}`);
  check(x.ndim === 4 && x.shape[1] % (r * r) === 0, () => `input: expected [N, C * ${r * r}, H, W], got ${shapeStr(x.shape)}`);
  const [N, Cr, H, W] = x.shape;
  const C = Cr / (r * r);
  return x.reshape([N, C, r, r, H, W]).permute([0, 1, 4, 2, 5, 3]).reshape([N, C, H * r, W * r]);
}
