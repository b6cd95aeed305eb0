/**
 * scaledDotProductAttention: softmax(q k^T * scale + mask) v, as torch.nn.functional's. The fused
 * kernel (native attentionForward/Backward: key tiles with an online softmax, no [L, S] matrix)
 * runs when it can; the composed form (matmul, softmax, matmul) when dropout is on or the mask
 * itself needs a gradient. Under createGraph the fused op's rule is the composed gradient, so
 * higher derivatives work.
 *
 * Shapes: q [..., L, E], k [..., S, E], v [..., S, Ev] with the same leading dims; the mask
 * broadcasts to [..., L, S] (bool: true takes part; float: added to the scores).
 */
import { record, traceOp } from '../autograd/engine.js';
import { checkOptions } from '../options.js';
import { check, checkFinite, shapeStr } from '../errors.js';
import { dropout } from '../functional.js';
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { where } from './elementwise.js';
import { softmax } from './nn.js';
import { broadcastShapes, checkFloat, checkSameDevice, checkTensor, contiguous, disposeTemp, empty } from './util.js';

export interface SdpaOptions {
  attnMask?: Tensor | null;
  dropoutP?: number;
  isCausal?: boolean;
  scale?: number | null;
}

const SDPA_KEYS = ['attnMask', 'dropoutP', 'isCausal', 'scale'] as const;

/** A float mask to add to the scores: a bool mask becomes 0 where true and -inf where false. */
export function additiveMask(mask: Tensor): Tensor {
  if (mask.dtype === 'float32') return mask;
  check(mask.dtype === 'bool', () => `attnMask: expected a bool or float32 tensor, got ${mask.dtype}`);
  return where(mask, 0, -Infinity);
}

/** 4 strides of x as [B, H, T, D] for a tensor of rank 4 (itself), or null when another rank. */
function strides4(x: Tensor): number[] {
  return x.ndim === 4 ? [...x.strides] : [0, 0, 0, 0];
}

/** The input as a rank-4 [B, H, T, D] tensor whose last dim is contiguous (a view when it can be). */
function as4d(x: Tensor, lead: readonly number[]): Tensor {
  let t = x;
  if (x.ndim !== 4) {
    const B = lead.slice(0, -1).reduce((p, d) => p * d, 1);
    const H = lead.length > 0 ? lead[lead.length - 1] : 1;
    t = x.reshape([B, H, x.shape[x.ndim - 2], x.shape[x.ndim - 1]]);
  }
  if (t.shape[3] > 1 && t.strides[3] !== 1) t = t.contiguous();
  return t;
}

/** The composed form: softmax(q k^T * scale + mask) (dropout) v, recorded op by op. */
function composed(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, causal: boolean, scale: number,
  dropoutP: number): Tensor {
  let s = q.matmul(k.transpose(-1, -2)).mul(scale);
  if (causal) s = s.add(causalMask(q.shape[q.ndim - 2], k.shape[k.ndim - 2], s));
  if (mask !== null) s = s.add(mask);
  let p = softmax(s, -1);
  if (dropoutP > 0) p = dropout(p, dropoutP, true);
  return p.matmul(v);
}

/**
 * [L, S] with 0 on and below the diagonal and -inf above (top-left aligned), on like's device.
 * An export trace sees it as an op on like when like ends in [L, S] (the scores), so its size
 * follows dynamic axes.
 */
export function causalMask(L: number, S: number, like: Tensor): Tensor {
  const host = new Float32Array(L * S);
  for (let i = 0; i < L; i++) for (let j = i + 1; j < S; j++) host[i * S + j] = -Infinity;
  const m = empty([L, S], 'float32', like.device);
  if (host.length > 0) native.write(m.storage.handle, 0, host);
  const sized = like.ndim >= 2 && like.shape[like.ndim - 2] === L && like.shape[like.ndim - 1] === S;
  return traceOp(m, 'causalMask', sized ? [like] : [], { L, S });
}

export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: SdpaOptions = {}): Tensor {
  checkOptions(opts, SDPA_KEYS, 'scaledDotProductAttention');
  checkFloat(q, 'scaledDotProductAttention: query');
  checkFloat(k, 'scaledDotProductAttention: key');
  checkFloat(v, 'scaledDotProductAttention: value');
  checkSameDevice(q, k, 'scaledDotProductAttention');
  checkSameDevice(q, v, 'scaledDotProductAttention');
  const { attnMask = null, dropoutP = 0, isCausal = false } = opts;
  check(q.ndim >= 2 && k.ndim === q.ndim && v.ndim === q.ndim,
    () => `query, key, value: expected tensors [..., L, E], [..., S, E], [..., S, Ev] of one rank, got ${shapeStr(q.shape)}, ${shapeStr(k.shape)}, ${shapeStr(v.shape)}`);
  const nd = q.ndim;
  const lead = q.shape.slice(0, -2);
  check(k.shape.slice(0, -2).every((d, i) => d === lead[i]) && v.shape.slice(0, -2).every((d, i) => d === lead[i]),
    () => `key, value: expected the leading dims ${shapeStr(lead)} of query, got ${shapeStr(k.shape)} and ${shapeStr(v.shape)}`);
  const [L, E] = [q.shape[nd - 2], q.shape[nd - 1]];
  const S = k.shape[nd - 2];
  check(k.shape[nd - 1] === E, () => `key: expected last dim ${E} (query's), got ${shapeStr(k.shape)}`);
  check(v.shape[nd - 2] === S, () => `value: expected ${S} rows (key's), got ${shapeStr(v.shape)}`);
  checkFinite(dropoutP, 'dropoutP');
  check(dropoutP >= 0 && dropoutP < 1, () => `dropoutP: expected a probability in [0, 1), got ${dropoutP}`);
  check(typeof isCausal === 'boolean', 'isCausal: expected a boolean');
  check(!(isCausal && attnMask !== null), 'scaledDotProductAttention: pass attnMask or isCausal, not both');
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  checkFinite(scale, 'scale');
  let mask: Tensor | null = null;
  if (attnMask !== null) {
    checkTensor(attnMask, 'attnMask');
    checkSameDevice(q, attnMask, 'scaledDotProductAttention');
    const b = broadcastShapes(attnMask.shape, [...lead, L, S], 'attnMask');
    check(b.length === nd && b.every((d, i) => d === (i < nd - 2 ? lead[i] : i === nd - 2 ? L : S)),
      () => `attnMask: shape ${shapeStr(attnMask.shape)} does not broadcast to ${shapeStr([...lead, L, S])}`);
    mask = additiveMask(attnMask);
  }
  // the fused kernel: no dropout, and a mask (if any) that needs no gradient
  if (dropoutP > 0 || (mask !== null && mask.requiresGrad)) return composed(q, k, v, mask, isCausal, scale, dropoutP);
  return fused(q, k, v, mask, isCausal, scale, lead);
}

function fused(q0: Tensor, k0: Tensor, v0: Tensor, mask: Tensor | null, causal: boolean, scale: number,
  lead: number[]): Tensor {
  const q = as4d(q0, lead);
  const k = as4d(k0, lead);
  const v = as4d(v0, lead);
  const [B, H, L, E] = q.shape;
  const S = k.shape[2];
  const Ev = v.shape[3];
  let bias: Tensor | null = null;
  let biasStrides = [0, 0, 0, 0];
  if (mask !== null) {
    // the mask read in place with broadcast strides over [B, H, L, S]
    const m4 = lead.length === 2 ? mask : mask.expand([...lead, L, S]).reshape([B, H, L, S]);
    const target = [B, H, L, S];
    const off = 4 - m4.ndim;
    biasStrides = target.map((d, i) => (i < off || m4.shape[i - off] === 1 ? 0 : m4.strides[i - off]));
    bias = m4;
  }
  const out = empty([B, H, L, Ev], 'float32', q.device);
  const lse = empty([B, H, L], 'float32', q.device);
  native.attentionForward(out.storage.handle, 0, lse.storage.handle, 0, q.storage.handle, q.offset, k.storage.handle, k.offset,
    v.storage.handle, v.offset, bias === null ? null : bias.storage.handle, bias === null ? 0 : bias.offset,
    B, H, L, S, E, Ev, strides4(q), strides4(k), strides4(v), biasStrides, scale, causal);
  const saved = { lse, out, bias, biasStrides, scale, causal, mask };
  let y = record(out, 'attention', [q, k, v], saved, 0b111, [lse], [out]);
  if (y.gradFn === null) lse.dispose();
  if (q0.ndim !== 4) y = y.reshape([...lead, L, Ev]);
  return y;
}

/** The fused op's gradients of q, k, v (4-d): the kernel, or the composed form under createGraph. */
export function attentionBackward(inputs: Tensor[], saved: Record<string, any>, dy: Tensor, composedGrad: boolean): Tensor[] {
  const [q, k, v] = inputs;
  const [B, H, L, E] = q.shape;
  const S = k.shape[2];
  const Ev = v.shape[3];
  if (composedGrad) {
    // recorded ops: P from the inputs, then the softmax-matmul gradients
    let s = q.matmul(k.transpose(-1, -2)).mul(saved.scale);
    if (saved.causal) s = s.add(causalMask(L, S, q));
    if (saved.mask !== null) s = s.add(saved.mask);
    const p = softmax(s, -1);
    const dp = dy.matmul(v.transpose(-1, -2));
    const ds = p.mul(dp.sub(dp.mul(p).sum(-1, true))).mul(saved.scale);
    return [ds.matmul(k), ds.transpose(-1, -2).matmul(q), p.transpose(-1, -2).matmul(dy)];
  }
  const dyc = contiguous(dy);
  const dq = empty([B, H, L, E], 'float32', q.device);
  const dk = empty([B, H, S, E], 'float32', q.device);
  const dv = empty([B, H, S, Ev], 'float32', q.device);
  const bias: Tensor | null = saved.bias;
  native.attentionBackward(dq.storage.handle, 0, dk.storage.handle, 0, dv.storage.handle, 0, dyc.storage.handle, dyc.offset,
    saved.out.storage.handle, 0, saved.lse.storage.handle, 0, q.storage.handle, q.offset, k.storage.handle, k.offset,
    v.storage.handle, v.offset, bias === null ? null : bias.storage.handle, bias === null ? 0 : bias.offset,
    B, H, L, S, E, Ev, strides4(q), strides4(k), strides4(v), saved.biasStrides, saved.scale, saved.causal);
  disposeTemp(dyc, dy);
  return [dq, dk, dv];
}
