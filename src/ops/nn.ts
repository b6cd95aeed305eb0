/**
 * Neural-network ops with their own kernels: softmax, fused softmax-cross-entropy,
 * convolution (im2col + GEMM), pooling. Layers and losses compose these (src/nn, src/losses).
 */
import { checkOptions } from '../options.js';
import { record } from '../autograd/engine.js';
import { autocastDtype, gemmOf, withAutocast } from '../autocast.js';
import { check, checkInt, shapeStr } from '../errors.js';
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { avgPool2d as avgPool2dKernel, col2im } from './grad-ops.js';
import { checkFloat, checkFloating, checkSameDevice, checkTensor, contiguous, disposeTemp, empty, normDim, splitAt } from './util.js';
import { anyBf16, viaFloat32 } from './bf16.js';
import { castTo } from './shape.js';

export function softmax(x: Tensor, dim = -1, log = false): Tensor {
  checkFloating(x, log ? 'logSoftmax' : 'softmax');
  if (x.dtype === 'bfloat16') return viaFloat32([x], (w) => softmax(w, dim, log));
  const d = normDim(dim, x.ndim);
  const xc = contiguous(x);
  const [outer, n, inner] = splitAt(x.shape, d);
  const out = empty(x.shape, x.dtype, x.device);
  native.softmax(out.storage.handle, 0, xc.storage.handle, xc.offset, outer, n, inner, log);
  disposeTemp(xc, x);
  return record(out, 'softmax', [x], { dim: d, log, out }, 0, null, [out]);
}

export const logSoftmax = (x: Tensor, dim = -1) => softmax(x, dim, true);

/**
 * Per-row cross-entropy of logits [B, C] against int32 class indices [B], with label smoothing;
 * rows whose target is ignoreIndex give 0. Reductions are composed by the caller.
 */
export function crossEntropyRows(logits: Tensor, target: Tensor, ignoreIndex = -100, labelSmoothing = 0): Tensor {
  checkTensor(logits, 'input');
  if (logits.dtype === 'bfloat16') return viaFloat32([logits], (w) => crossEntropyRows(w, target, ignoreIndex, labelSmoothing));
  checkFloat(logits, 'input');
  check(logits.ndim === 2, () => `input: expected logits of shape [batch, classes], got ${shapeStr(logits.shape)}`);
  check(target.dtype === 'int32', () => `target: expected int32 class indices, got ${target.dtype}`);
  check(target.ndim === 1 && target.shape[0] === logits.shape[0],
    () => `target: expected shape [${logits.shape[0]}], got ${shapeStr(target.shape)}`);
  check(labelSmoothing >= 0 && labelSmoothing <= 1, () => `labelSmoothing: expected a value in [0, 1], got ${labelSmoothing}`);
  checkInt(ignoreIndex, 'ignoreIndex');
  checkSameDevice(logits, target, 'crossEntropy');
  const [B, C] = logits.shape;
  const lc = contiguous(logits);
  const tc = contiguous(target);
  const rows = empty([B], 'float32', logits.device);
  const logProbs = empty([B, C], 'float32', logits.device);
  native.crossEntropyForward(rows.storage.handle, 0, logProbs.storage.handle, 0, lc.storage.handle, lc.offset,
    tc.storage.handle, tc.offset, B, C, ignoreIndex, labelSmoothing);
  disposeTemp(lc, logits);
  const owned = tc === target ? [logProbs] : [logProbs, tc];
  const out = record(rows, 'crossEntropy', [logits], { logProbs, target: tc, ignoreIndex, labelSmoothing }, 1, owned,
    tc === target ? [tc] : null);
  if (out.gradFn === null) {
    logProbs.dispose();
    disposeTemp(tc, target);
  }
  return out;
}

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
}

export function pair(v: number | [number, number] | undefined, dflt: number, name: string): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : v;
  check(Array.isArray(p) && p.length === 2 && p.every((e) => Number.isInteger(e)),
    () => `${name}: expected an integer or a pair of integers, got ${String(v)}`);
  return p;
}

function outSize(size: number, k: number, s: number, p: number, d: number, name: string): number {
  const o = Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
  check(o > 0, () => `${name}: the kernel (${k}, dilation ${d}) is larger than the padded input (${size} + 2*${p})`);
  return o;
}

/** 2-D convolution, NCHW input [N, C, H, W], weight [OC, C, kH, kW], optional bias [OC]. */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  checkOptions(opts, ['stride', 'padding', 'dilation', 'bias'], 'conv2d');
  checkTensor(x, 'input');
  checkTensor(weight, 'weight');
  if (anyBf16(x, weight, bias)) return conv2dBf16(x, weight, bias, opts);
  checkFloat(x, 'input');
  checkFloat(weight, 'weight');
  return conv2dCore(x, weight, bias, opts);
}

/** conv2d of a float32 input; the weight is float32, or bfloat16 read by the bf16 GEMM (conv2dBf16). */
function conv2dCore(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions): Tensor {
  check(x.ndim === 4, () => `input: expected [N, C, H, W], got ${shapeStr(x.shape)}`);
  check(weight.ndim === 4, () => `weight: expected [outChannels, inChannels, kH, kW], got ${shapeStr(weight.shape)}`);
  const [N, C, H, W] = x.shape;
  const [OC, WC, kH, kW] = weight.shape;
  check(WC === C, () => `weight: expects ${WC} input channels, input has ${C} (input ${shapeStr(x.shape)})`);
  if (bias) check(bias.ndim === 1 && bias.shape[0] === OC, () => `bias: expected shape [${OC}], got ${shapeStr(bias.shape)}`);
  checkSameDevice(x, weight, 'conv2d');
  const [sH, sW] = pair(opts.stride, 1, 'stride');
  const [pH, pW] = pair(opts.padding, 0, 'padding');
  const [dH, dW] = pair(opts.dilation, 1, 'dilation');
  check(sH > 0 && sW > 0 && dH > 0 && dW > 0 && pH >= 0 && pW >= 0, 'conv2d: stride and dilation must be positive, padding non-negative');
  const OH = outSize(H, kH, sH, pH, dH, 'input height');
  const OW = outSize(W, kW, sW, pW, dW, 'input width');
  const geom = { dims: [N, C, H, W], window: [kH, kW, sH, sW, pH, pW, dH, dW], out: [OH, OW] };
  const K = C * kH * kW;
  const L = OH * OW;
  const xc = contiguous(x);
  const wc = contiguous(weight);
  const col = empty([N, K, L], 'float32', x.device);
  native.im2col(col.storage.handle, 0, xc.storage.handle, xc.offset, geom.dims, geom.window, geom.out);
  const y = empty([N, OC, OH, OW], 'float32', x.device);
  // y[n] = W [OC, K] @ col[n] [K, L], the weight shared across the batch (bfloat16 operands under autocast)
  const bf16 = autocastDtype() === 'bfloat16';
  gemmOf(bf16)(false, false, OC, L, K, 1, wc.storage.handle, wc.offset, K, 0, col.storage.handle, 0, L, K * L, 0,
    y.storage.handle, 0, L, OC * L, N);
  disposeTemp(xc, x);
  disposeTemp(wc, weight);
  let out = record(y, 'conv2d', [x, weight], { col, geom, bf16 }, 0b11, [col]);
  if (out.gradFn === null) col.dispose();
  if (bias) out = out.add(bias.reshape([OC, 1, 1]));
  return out;
}

/**
 * conv2d of bfloat16 tensors (input, weight and bias all bfloat16, as PyTorch requires one
 * dtype): the input is widened (exactly) for im2col, the bf16 GEMM reads the bfloat16 weight
 * directly and accumulates in float32, the bias is added in float32 and the output rounded once.
 */
function conv2dBf16(x: Tensor, weight: Tensor, bias: Tensor | null, opts: Conv2dOptions): Tensor {
  check(x.dtype === 'bfloat16' && weight.dtype === 'bfloat16' && (bias === null || bias.dtype === 'bfloat16'),
    () => `conv2d: input, weight and bias must share a dtype, got ${x.dtype}, ${weight.dtype}${bias ? `, ${bias.dtype}` : ''}`);
  if (bias) check(bias.ndim === 1 && weight.ndim === 4 && bias.shape[0] === weight.shape[0],
    () => `bias: expected shape [${weight.shape[0]}], got ${shapeStr(bias.shape)}`);
  const x32 = castTo(x, 'float32');
  const y = withAutocast('bfloat16', () => conv2dCore(x32, weight, null, opts));
  const y2 = bias ? y.add(bias.reshape([weight.shape[0], 1, 1])) : y;
  const out = castTo(y2, 'bfloat16');
  if (!out.requiresGrad) for (const t of new Set([x32, y, y2])) t.dispose();
  return out;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: number | [number, number];
}

/**
 * Transposed convolution: x [N, Cin, H, W], weight [Cin, Cout, kH, kW]. It is conv2d's input
 * gradient: columns W^T x folded back into the (larger) output with col2im.
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  checkOptions(opts, ['stride', 'padding', 'dilation', 'outputPadding', 'bias'], 'convTranspose2d');
  if (anyBf16(x, weight, bias)) return viaFloat32([x, weight, bias], (a, w, b) => convTranspose2d(a, w, b, opts));
  checkFloat(x, 'input');
  checkFloat(weight, 'weight');
  check(x.ndim === 4, () => `input: expected [N, C, H, W], got ${shapeStr(x.shape)}`);
  check(weight.ndim === 4 && weight.shape[0] === x.shape[1],
    () => `weight: expected [${x.shape[1]}, outChannels, kH, kW], got ${shapeStr(weight.shape)}`);
  const [N, Cin, H, W] = x.shape;
  const [, Cout, kH, kW] = weight.shape;
  if (bias) check(bias.ndim === 1 && bias.shape[0] === Cout, () => `bias: expected shape [${Cout}], got ${shapeStr(bias.shape)}`);
  const [sH, sW] = pair(opts.stride, 1, 'stride');
  const [pH, pW] = pair(opts.padding, 0, 'padding');
  const [dH, dW] = pair(opts.dilation, 1, 'dilation');
  const [oH, oW] = pair(opts.outputPadding, 0, 'outputPadding');
  check(sH > 0 && sW > 0 && dH > 0 && dW > 0 && pH >= 0 && pW >= 0, 'convTranspose2d: stride and dilation must be positive, padding non-negative');
  check(oH >= 0 && oW >= 0 && oH < Math.max(sH, dH) && oW < Math.max(sW, dW), 'outputPadding: must be smaller than stride or dilation');
  const OH = (H - 1) * sH - 2 * pH + dH * (kH - 1) + oH + 1;
  const OW = (W - 1) * sW - 2 * pW + dW * (kW - 1) + oW + 1;
  check(OH > 0 && OW > 0, () => `padding: output size ${OH}x${OW} is not positive`);
  const cols = weight.reshape([Cin, Cout * kH * kW]).t().matmul(x.reshape([N, Cin, H * W]));
  const out = col2im(cols, { dims: [N, Cout, OH, OW], window: [kH, kW, sH, sW, pH, pW, dH, dW], out: [H, W] });
  return bias ? out.add(bias.reshape([Cout, 1, 1])) : out;
}

export interface Pool2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

function poolGeom(x: Tensor, kernelSize: number | [number, number], opts: Pool2dOptions, name: string) {
  checkFloat(x, 'input');
  check(x.ndim === 4, () => `input: ${name} expects [N, C, H, W], got ${shapeStr(x.shape)}`);
  const [N, C, H, W] = x.shape;
  const [kH, kW] = pair(kernelSize, 1, 'kernelSize');
  const [sH, sW] = pair(opts.stride, 0, 'stride').map((s, i) => (opts.stride === undefined ? [kH, kW][i] : s));
  const [pH, pW] = pair(opts.padding, 0, 'padding');
  check(kH > 0 && kW > 0 && sH > 0 && sW > 0, `${name}: kernelSize and stride must be positive`);
  check(pH >= 0 && pW >= 0 && 2 * pH <= kH && 2 * pW <= kW, `${name}: padding must be non-negative and at most half the kernel size`);
  const OH = outSize(H, kH, sH, pH, 1, 'input height');
  const OW = outSize(W, kW, sW, pW, 1, 'input width');
  return { dims: [N, C, H, W], window: [kH, kW, sH, sW, pH, pW], out: [OH, OW], outShape: [N, C, OH, OW] };
}

export function maxPool2d(x: Tensor, kernelSize: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  checkOptions(opts, ['stride', 'padding'], 'maxPool2d');
  if (anyBf16(x)) return viaFloat32([x], (w) => maxPool2d(w, kernelSize, opts));
  const g = poolGeom(x, kernelSize, opts, 'maxPool2d');
  const xc = contiguous(x);
  const y = empty(g.outShape, 'float32', x.device);
  const argmax = empty(g.outShape, 'int32', x.device);
  native.maxPool2d(y.storage.handle, 0, argmax.storage.handle, 0, xc.storage.handle, xc.offset, g.dims, g.window, g.out);
  disposeTemp(xc, x);
  const out = record(y, 'maxPool2d', [x], { argmax, geom: g }, 0, [argmax]);
  if (out.gradFn === null) argmax.dispose();
  return out;
}

export function avgPool2d(x: Tensor, kernelSize: number | [number, number], opts: Pool2dOptions & { countIncludePad?: boolean } = {}): Tensor {
  checkOptions(opts, ['stride', 'padding', 'countIncludePad'], 'avgPool2d');
  if (anyBf16(x)) return viaFloat32([x], (w) => avgPool2d(w, kernelSize, opts));
  const g = poolGeom(x, kernelSize, opts, 'avgPool2d');
  return avgPool2dKernel(x, g, opts.countIncludePad ?? true);
}
