/** kiln.F: functional forms of layers, as torch.nn.functional. Losses live in losses.ts. */
import { canFuseLinear, linearFused } from './ops/linear.js';
import { rand } from './creation.js';
import { check, checkFinite, shapeStr } from './errors.js';
import * as ew from './ops/elementwise.js';
import { indexSelect } from './ops/indexing.js';
import * as nnops from './ops/nn.js';
import { checkFloat, checkTensor } from './ops/util.js';
import type { Tensor } from './tensor.js';

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
  checkFloat(x, 'input');
  checkTensor(weight, 'weight');
  if (bias) checkTensor(bias, 'bias');
  check(weight.ndim === 2, () => `weight: expected [outFeatures, inFeatures], got ${shapeStr(weight.shape)}`);
  check(x.ndim >= 1 && x.shape[x.ndim - 1] === weight.shape[1],
    () => `input: expected last dim ${weight.shape[1]} (inFeatures), got shape ${shapeStr(x.shape)}`);
  if (bias) check(bias.ndim === 1 && bias.shape[0] === weight.shape[0], () => `bias: expected shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
  if (canFuseLinear(x, weight, bias)) return linearFused(x, weight, bias); // one GEMM with a bias epilogue
  const y = x.matmul(weight.t());
  return bias ? y.add(bias) : y;
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkFinite(p, 'p');
  check(p >= 0 && p <= 1, () => `p: expected a probability in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
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
 * and the running ones updated in place (unbiased variance, as PyTorch); in eval the running ones.
 */
export function batchNorm(x: Tensor, opts: BatchNormOptions = {}): Tensor {
  const { runningMean = null, runningVar = null, weight = null, bias = null, training = false, momentum = 0.1, eps = 1e-5 } = opts;
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
