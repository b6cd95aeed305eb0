/**
 * Attention layers with PyTorch's parameter names and call semantics: MultiheadAttention,
 * TransformerEncoderLayer / DecoderLayer, TransformerEncoder / Decoder. Inputs are [L, N, E]
 * (sequence first) unless batchFirst, as in PyTorch. Masks follow nn.MultiheadAttention: a bool
 * attnMask or keyPaddingMask is true where attention is NOT allowed; float masks are added to the
 * scores. Without needWeights the heads go through F.scaledDotProductAttention's fused kernel.
 */
import { zeros } from '../creation.js';
import { check, shapeStr } from '../errors.js';
import { dropout, linear } from '../functional.js';
import { softmax } from '../ops/nn.js';
import { causalMask, scaledDotProductAttention } from '../ops/attention.js';
import { where } from '../ops/elementwise.js';
import { checkOptions } from '../options.js';
import { checkTensor } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { ModuleList } from './container.js';
import { Dropout } from './dropout.js';
import { xavierUniform_ } from './init.js';
import { Linear, checkPositiveInt } from './linear.js';
import { Module } from './module.js';
import { LayerNorm } from './norm.js';
import { Parameter } from './parameter.js';

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  kdim?: number;
  vdim?: number;
  batchFirst?: boolean;
}

export interface MultiheadAttentionForwardOptions {
  keyPaddingMask?: Tensor | null;
  needWeights?: boolean;
  attnMask?: Tensor | null;
  averageAttnWeights?: boolean;
  isCausal?: boolean;
}

/** A mask as an additive float tensor: bool true (not allowed) -> -inf, false -> 0; float as it is. */
function toAdditive(mask: Tensor, name: string): Tensor {
  checkTensor(mask, name);
  if (mask.dtype === 'bool') return where(mask, -Infinity, 0);
  check(mask.dtype === 'float32', () => `${name}: expected a bool or float32 tensor, got ${mask.dtype}`);
  return mask;
}

export class MultiheadAttention extends Module {
  // field order gives PyTorch's state-dict order
  in_proj_weight: Tensor | null = null;
  q_proj_weight: Tensor | null = null;
  k_proj_weight: Tensor | null = null;
  v_proj_weight: Tensor | null = null;
  in_proj_bias: Tensor | null = null;
  out_proj: Linear;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;

  constructor(readonly embedDim: number, readonly numHeads: number, opts: MultiheadAttentionOptions = {}) {
    super();
    checkOptions(opts, ['dropout', 'bias', 'kdim', 'vdim', 'batchFirst'], 'MultiheadAttention');
    checkPositiveInt(embedDim, 'embedDim');
    checkPositiveInt(numHeads, 'numHeads');
    check(embedDim % numHeads === 0, () => `embedDim: ${embedDim} is not divisible by numHeads (${numHeads})`);
    this.headDim = embedDim / numHeads;
    this.kdim = opts.kdim ?? embedDim;
    this.vdim = opts.vdim ?? embedDim;
    checkPositiveInt(this.kdim, 'kdim');
    checkPositiveInt(this.vdim, 'vdim');
    this.batchFirst = opts.batchFirst ?? false;
    this.dropoutP = opts.dropout ?? 0;
    check(this.dropoutP >= 0 && this.dropoutP < 1, () => `dropout: expected a probability in [0, 1), got ${this.dropoutP}`);
    const bias = opts.bias ?? true;
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = Parameter(zeros([3 * embedDim, embedDim]));
      xavierUniform_(this.in_proj_weight);
    } else {
      this.q_proj_weight = Parameter(zeros([embedDim, embedDim]));
      this.k_proj_weight = Parameter(zeros([embedDim, this.kdim]));
      this.v_proj_weight = Parameter(zeros([embedDim, this.vdim]));
      for (const w of [this.q_proj_weight, this.k_proj_weight, this.v_proj_weight]) xavierUniform_(w);
    }
    if (bias) this.in_proj_bias = Parameter(zeros([3 * embedDim]));
    this.out_proj = new Linear(embedDim, embedDim, { bias });
    if (bias) this.out_proj.bias!.detach().zero_();
  }

  /** The q, k, v projections (one GEMM for self-attention with the packed weight). */
  private project(query: Tensor, key: Tensor, value: Tensor): [Tensor, Tensor, Tensor] {
    const E = this.embedDim;
    const b = this.in_proj_bias;
    const bq = b?.narrow(0, 0, E) ?? null;
    const bk = b?.narrow(0, E, E) ?? null;
    const bv = b?.narrow(0, 2 * E, E) ?? null;
    if (this.in_proj_weight !== null) {
      const w = this.in_proj_weight;
      if (query === key && key === value) {
        const [q, k, v] = linear(query, w, b).chunk(3, -1);
        return [q, k, v];
      }
      return [linear(query, w.narrow(0, 0, E), bq), linear(key, w.narrow(0, E, E), bk), linear(value, w.narrow(0, 2 * E, E), bv)];
    }
    return [linear(query, this.q_proj_weight!, bq), linear(key, this.k_proj_weight!, bk), linear(value, this.v_proj_weight!, bv)];
  }

  /** Returns [output, weights]: output like query; weights [N, L, S] (averaged) or [N, H, L, S], or null. */
  forward(query: Tensor, key: Tensor, value: Tensor, opts: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    checkOptions(opts, ['keyPaddingMask', 'needWeights', 'attnMask', 'averageAttnWeights', 'isCausal'], 'MultiheadAttention.forward');
    checkTensor(query, 'query');
    checkTensor(key, 'key');
    checkTensor(value, 'value');
    const { keyPaddingMask = null, needWeights = true, attnMask = null, averageAttnWeights = true, isCausal = false } = opts;
    const unbatched = query.ndim === 2;
    const E = this.embedDim;
    check(query.ndim === (unbatched ? 2 : 3) && key.ndim === query.ndim && value.ndim === query.ndim,
      () => `query, key, value: expected 3-d ${this.batchFirst ? '[N, L, E]' : '[L, N, E]'} (or 2-d unbatched) tensors, got ${shapeStr(query.shape)}, ${shapeStr(key.shape)}, ${shapeStr(value.shape)}`);
    // [N, L, E] from here on
    const bf = (t: Tensor) => (unbatched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    let q = bf(query);
    let k = bf(key);
    let v = bf(value);
    const [N, L] = q.shape;
    const S = k.shape[1];
    check(q.shape[2] === E, () => `query: expected embedding size ${E}, got ${shapeStr(query.shape)}`);
    check(k.shape[2] === this.kdim && v.shape[2] === this.vdim && k.shape[0] === N && v.shape[0] === N && v.shape[1] === S,
      () => `key, value: expected [${S}, ${N}, ${this.kdim}] and [${S}, ${N}, ${this.vdim}] (sequence first) shapes matching query, got ${shapeStr(key.shape)}, ${shapeStr(value.shape)}`);
    const self = query === key && key === value;
    [q, k, v] = this.project(self ? q : q, self ? q : k, self ? q : v);
    const H = this.numHeads;
    const Dh = this.headDim;
    const heads = (t: Tensor, T: number) => t.reshape([N, T, H, Dh]).transpose(1, 2);
    const qh = heads(q, L);
    const kh = heads(k, S);
    const vh = heads(v, S);
    // one additive mask [N or 1, H or 1, L or 1, S]
    let bias: Tensor | null = null;
    if (attnMask !== null) {
      const m = toAdditive(attnMask, 'attnMask');
      if (m.ndim === 2) {
        check(m.shape[0] === L && m.shape[1] === S, () => `attnMask: expected [${L}, ${S}] or [${N * H}, ${L}, ${S}], got ${shapeStr(m.shape)}`);
        bias = m;
      } else {
        check(m.ndim === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S,
          () => `attnMask: expected [${L}, ${S}] or [${N * H}, ${L}, ${S}], got ${shapeStr(m.shape)}`);
        bias = m.reshape([N, H, L, S]);
      }
    }
    if (keyPaddingMask !== null) {
      const kp = toAdditive(keyPaddingMask, 'keyPaddingMask');
      check(kp.ndim === (unbatched ? 1 : 2) && kp.shape[kp.ndim - 1] === S && (unbatched || kp.shape[0] === N),
        () => `keyPaddingMask: expected [${N}, ${S}], got ${shapeStr(kp.shape)}`);
      const kp4 = kp.reshape([N, 1, 1, S]);
      bias = bias === null ? kp4 : bias.add(kp4);
    }
    const p = this.training ? this.dropoutP : 0;
    let out: Tensor;
    let weights: Tensor | null = null;
    if (needWeights) {
      let s = qh.matmul(kh.transpose(-1, -2)).mul(1 / Math.sqrt(Dh));
      if (isCausal && bias === null) s = s.add(causalMask(L, S, s));
      else if (bias !== null) s = s.add(bias);
      let w = softmax(s, -1);
      if (p > 0) w = dropout(w, p, true);
      out = w.matmul(vh);
      weights = averageAttnWeights ? w.mean(1) : w;
      if (unbatched) weights = weights.squeeze(0);
    } else {
      out = scaledDotProductAttention(qh, kh, vh, { attnMask: bias, dropoutP: p, isCausal: isCausal && bias === null });
    }
    const merged = out.transpose(1, 2).reshape([N, L, E]);
    let y = this.out_proj.forward(merged);
    y = unbatched ? y.squeeze(0) : this.batchFirst ? y : y.transpose(0, 1);
    return [y, weights];
  }
}

export type Activation = 'relu' | 'gelu' | ((x: Tensor) => Tensor);

export interface TransformerLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: Activation;
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
}

const LAYER_KEYS = ['dimFeedforward', 'dropout', 'activation', 'layerNormEps', 'batchFirst', 'normFirst'];

function activationOf(a: Activation | undefined): (x: Tensor) => Tensor {
  if (a === undefined || a === 'relu') return (x) => x.relu();
  if (a === 'gelu') return (x) => x.gelu();
  check(typeof a === 'function', () => `activation: expected 'relu', 'gelu' or a function, got ${String(a)}`);
  return a;
}

export interface EncoderLayerForwardOptions {
  srcMask?: Tensor | null;
  srcKeyPaddingMask?: Tensor | null;
  isCausal?: boolean;
}

export class TransformerEncoderLayer extends Module {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  readonly normFirst: boolean;
  private readonly act: (x: Tensor) => Tensor;
  /** @internal the constructor arguments, for TransformerEncoder's copies */ readonly _args: [number, number, TransformerLayerOptions];

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super();
    checkOptions(opts, LAYER_KEYS, 'TransformerEncoderLayer');
    this._args = [dModel, nhead, { ...opts }];
    const p = opts.dropout ?? 0.1;
    const eps = opts.layerNormEps ?? 1e-5;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst: opts.batchFirst ?? false });
    this.linear1 = new Linear(dModel, opts.dimFeedforward ?? 2048);
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(opts.dimFeedforward ?? 2048, dModel);
    this.norm1 = new LayerNorm(dModel, { eps });
    this.norm2 = new LayerNorm(dModel, { eps });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.normFirst = opts.normFirst ?? false;
    this.act = activationOf(opts.activation);
  }

  private sa(x: Tensor, mask: Tensor | null, kpm: Tensor | null, isCausal: boolean): Tensor {
    const [y] = this.self_attn.forward(x, x, x, { attnMask: mask, keyPaddingMask: kpm, needWeights: false, isCausal });
    return this.dropout1.forward(y);
  }
  private ff(x: Tensor): Tensor {
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
  }

  forward(src: Tensor, opts: EncoderLayerForwardOptions = {}): Tensor {
    checkOptions(opts, ['srcMask', 'srcKeyPaddingMask', 'isCausal'], 'TransformerEncoderLayer.forward');
    const { srcMask = null, srcKeyPaddingMask = null, isCausal = false } = opts;
    let x = src;
    if (this.normFirst) {
      x = x.add(this.sa(this.norm1.forward(x), srcMask, srcKeyPaddingMask, isCausal));
      return x.add(this.ff(this.norm2.forward(x)));
    }
    x = this.norm1.forward(x.add(this.sa(x, srcMask, srcKeyPaddingMask, isCausal)));
    return this.norm2.forward(x.add(this.ff(x)));
  }
}

export interface DecoderLayerForwardOptions {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  tgtIsCausal?: boolean;
  memoryIsCausal?: boolean;
}
const DECODER_FORWARD_KEYS = ['tgtMask', 'memoryMask', 'tgtKeyPaddingMask', 'memoryKeyPaddingMask', 'tgtIsCausal', 'memoryIsCausal'];

export class TransformerDecoderLayer extends Module {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;
  readonly normFirst: boolean;
  private readonly act: (x: Tensor) => Tensor;
  /** @internal */ readonly _args: [number, number, TransformerLayerOptions];

  constructor(dModel: number, nhead: number, opts: TransformerLayerOptions = {}) {
    super();
    checkOptions(opts, LAYER_KEYS, 'TransformerDecoderLayer');
    this._args = [dModel, nhead, { ...opts }];
    const p = opts.dropout ?? 0.1;
    const eps = opts.layerNormEps ?? 1e-5;
    const batchFirst = opts.batchFirst ?? false;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { dropout: p, batchFirst });
    this.linear1 = new Linear(dModel, opts.dimFeedforward ?? 2048);
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(opts.dimFeedforward ?? 2048, dModel);
    this.norm1 = new LayerNorm(dModel, { eps });
    this.norm2 = new LayerNorm(dModel, { eps });
    this.norm3 = new LayerNorm(dModel, { eps });
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
    this.normFirst = opts.normFirst ?? false;
    this.act = activationOf(opts.activation);
  }

  private sa(x: Tensor, o: DecoderLayerForwardOptions): Tensor {
    const [y] = this.self_attn.forward(x, x, x, { attnMask: o.tgtMask ?? null, keyPaddingMask: o.tgtKeyPaddingMask ?? null,
      needWeights: false, isCausal: o.tgtIsCausal ?? false });
    return this.dropout1.forward(y);
  }
  private mha(x: Tensor, mem: Tensor, o: DecoderLayerForwardOptions): Tensor {
    const [y] = this.multihead_attn.forward(x, mem, mem, { attnMask: o.memoryMask ?? null,
      keyPaddingMask: o.memoryKeyPaddingMask ?? null, needWeights: false, isCausal: o.memoryIsCausal ?? false });
    return this.dropout2.forward(y);
  }
  private ff(x: Tensor): Tensor {
    return this.dropout3.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
  }

  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerForwardOptions = {}): Tensor {
    checkOptions(opts, DECODER_FORWARD_KEYS, 'TransformerDecoderLayer.forward');
    let x = tgt;
    if (this.normFirst) {
      x = x.add(this.sa(this.norm1.forward(x), opts));
      x = x.add(this.mha(this.norm2.forward(x), memory, opts));
      return x.add(this.ff(this.norm3.forward(x)));
    }
    x = this.norm1.forward(x.add(this.sa(x, opts)));
    x = this.norm2.forward(x.add(this.mha(x, memory, opts)));
    return this.norm3.forward(x.add(this.ff(x)));
  }
}

/** numLayers copies of layer with the same starting weights (PyTorch deep-copies it). */
function clones<T extends TransformerEncoderLayer | TransformerDecoderLayer>(layer: T, n: number): ModuleList {
  checkPositiveInt(n, 'numLayers');
  const list = new ModuleList([layer]);
  const Ctor = layer.constructor as new (...a: any[]) => T;
  const state = layer.stateDict();
  for (let i = 1; i < n; i++) {
    const copy = new Ctor(...layer._args);
    copy.loadStateDict(state);
    copy.train(layer.training);
    list.append(copy);
  }
  return list;
}

export class TransformerEncoder extends Module {
  layers: ModuleList;
  norm: Module | null;
  constructor(encoderLayer: TransformerEncoderLayer, readonly numLayers: number, opts: { norm?: Module | null } = {}) {
    super();
    checkOptions(opts, ['norm'], 'TransformerEncoder');
    check(encoderLayer instanceof TransformerEncoderLayer, 'encoderLayer: expected an nn.TransformerEncoderLayer');
    this.layers = clones(encoderLayer, numLayers);
    this.norm = opts.norm ?? null;
  }
  forward(src: Tensor, opts: { mask?: Tensor | null; srcKeyPaddingMask?: Tensor | null; isCausal?: boolean } = {}): Tensor {
    checkOptions(opts, ['mask', 'srcKeyPaddingMask', 'isCausal'], 'TransformerEncoder.forward');
    let x = src;
    for (let i = 0; i < this.layers.length; i++) {
      x = (this.layers.at(i) as TransformerEncoderLayer).forward(x,
        { srcMask: opts.mask ?? null, srcKeyPaddingMask: opts.srcKeyPaddingMask ?? null, isCausal: opts.isCausal ?? false });
    }
    return this.norm ? this.norm.forward(x) : x;
  }
}

export class TransformerDecoder extends Module {
  layers: ModuleList;
  norm: Module | null;
  constructor(decoderLayer: TransformerDecoderLayer, readonly numLayers: number, opts: { norm?: Module | null } = {}) {
    super();
    checkOptions(opts, ['norm'], 'TransformerDecoder');
    check(decoderLayer instanceof TransformerDecoderLayer, 'decoderLayer: expected an nn.TransformerDecoderLayer');
    this.layers = clones(decoderLayer, numLayers);
    this.norm = opts.norm ?? null;
  }
  forward(tgt: Tensor, memory: Tensor, opts: DecoderLayerForwardOptions = {}): Tensor {
    checkOptions(opts, DECODER_FORWARD_KEYS, 'TransformerDecoder.forward');
    let x = tgt;
    for (let i = 0; i < this.layers.length; i++) x = (this.layers.at(i) as TransformerDecoderLayer).forward(x, memory, opts);
    return this.norm ? this.norm.forward(x) : x;
  }
}
