/**
 * Modules exported whole, as one ONNX op each: the recurrent layers (their recurrence is one
 * native op in Kiln, and ONNX has LSTM/GRU/RNN), ConvTranspose2d (Kiln composes it from a GEMM
 * and col2im, which ONNX 17 lacks), BatchNorm in eval mode and LayerNorm (one node instead of
 * their elementwise arithmetic). While tracing, each such module's forward is wrapped so the
 * trace sees one composite node (trace.ts composite) and not the ops inside.
 */
import { ConvTranspose2d } from '../nn/conv.js';
import type { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from '../nn/norm.js';
import { GRU, LSTM, RNN } from '../nn/rnn.js';
import { pair } from '../ops/nn.js';
import { Tensor } from '../tensor.js';
import { type AttrValue, float, int, ints, str, strs } from './builder.js';
import type { EmitContext } from './context.js';
import type { Trace } from './trace.js';

type Kind = 'LSTM' | 'GRU' | 'RNN' | 'ConvTranspose2d' | 'BatchNorm' | 'LayerNorm';

function kindOf(m: Module): Kind | null {
  if (m instanceof LSTM) return 'LSTM';
  if (m instanceof GRU) return 'GRU';
  if (m instanceof RNN) return 'RNN';
  if (m instanceof ConvTranspose2d) return 'ConvTranspose2d';
  if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) return 'BatchNorm';
  if (m instanceof LayerNorm) return 'LayerNorm';
  return null;
}

/** The tensors among a module call's arguments (the state pair of an LSTM flattened). */
function tensorArgs(args: unknown[]): Tensor[] {
  const out: Tensor[] = [];
  for (const a of args) {
    if (a instanceof Tensor) out.push(a);
    else if (Array.isArray(a)) for (const t of a) if (t instanceof Tensor) out.push(t);
  }
  return out;
}

/**
 * Wraps the forward of every module of model that is exported whole; returns the function that
 * puts the original forwards back.
 */
export function wrapComposites(model: Module, trace: Trace): () => void {
  const restore: (() => void)[] = [];
  for (const m of model.modules()) {
    const kind = kindOf(m);
    if (kind === null) continue;
    const own = Object.getOwnPropertyDescriptor(m, 'forward');
    const forward = m.forward;
    const wrapped = (...args: unknown[]) => {
      // batch norm in eval with running statistics only; otherwise its ops are traced one by one
      if (kind === 'BatchNorm' && (m.training || (m as any).running_mean === null)) return forward.apply(m, args);
      const tensors = tensorArgs(args);
      // a recurrent layer's lengths (packed sequences) become ONNX's sequence_lens
      const lengths = kind === 'LSTM' || kind === 'GRU' || kind === 'RNN' ? (args[2] as { lengths?: ArrayLike<number> | null } | undefined)?.lengths ?? null : null;
      const attrs = { stateGiven: tensors.length > 1, lengths: lengths === null ? null : Array.from(lengths) };
      return trace.composite(kind, m, tensors, attrs, () => forward.apply(m, args));
    };
    Object.defineProperty(m, 'forward', { value: wrapped, writable: true, configurable: true, enumerable: false });
    restore.push(() => {
      if (own) Object.defineProperty(m, 'forward', own);
      else delete (m as any).forward;
    });
  }
  return () => restore.forEach((r) => r());
}

/** Rows of a gate-stacked weight [G*H, ...] reordered block by block (Kiln's gate order to ONNX's). */
function reorderGates(t: Tensor, H: number, order: number[]): Float32Array {
  const src = t.toTypedArray() as Float32Array;
  const block = H * (t.ndim === 2 ? t.shape[1] : 1);
  const out = new Float32Array(src.length);
  order.forEach((from, to) => out.set(src.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/** Both directions' rows of a gate-stacked weight, in ONNX's gate order, one after the other. */
function directions(self: any, name: string, D: number, H: number, order: number[]): Float32Array {
  const parts = Array.from({ length: D }, (_, d) => reorderGates(self[`${name}${d === 1 ? '_reverse' : ''}`], H, order));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/**
 * LSTM, GRU and RNN: one ONNX recurrent node per layer (both directions in one bidirectional node),
 * with weights in ONNX's gate order; lengths become sequence_lens (ONNX zeroes the steps past a
 * sequence's length and runs the reverse direction from its last step, as Kiln does).
 */
function recurrent(c: EmitContext, kind: 'LSTM' | 'GRU' | 'RNN'): void {
  const m = c.node.module as LSTM | GRU | RNN;
  const H = m.hiddenSize;
  const D = m.numDirections;
  const b = c.b;
  const lengths = c.node.attrs.lengths as number[] | null;
  const seqLens = lengths === null ? '' : b.initializer('sequence_lens', { dtype: 'int32', dims: [lengths.length], data: lengths });
  // Kiln's (PyTorch's) gate order -> ONNX's: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h
  const order = kind === 'LSTM' ? [0, 3, 1, 2] : kind === 'GRU' ? [1, 0, 2] : [0];
  const G = order.length;
  const stateGiven = c.node.attrs.stateGiven as boolean;
  let x = c.input(0);
  if (m.batchFirst) [x] = b.node('Transpose', [x], { perm: ints([1, 0, 2]) });
  const finals: string[][] = [[], []];
  const self = m as any;
  const base = kind.toLowerCase();
  for (let l = 0; l < m.numLayers; l++) {
    const inSize = (self[`weight_ih_l${l}`] as Tensor).shape[1];
    const W = b.initializer(`${base}_W_l${l}`, { dtype: 'float32', dims: [D, G * H, inSize], data: directions(self, `weight_ih_l${l}`, D, H, order) });
    const R = b.initializer(`${base}_R_l${l}`, { dtype: 'float32', dims: [D, G * H, H], data: directions(self, `weight_hh_l${l}`, D, H, order) });
    let B = '';
    if (m.hasBias) {
      // per direction: [Wb (input biases), Rb (hidden biases)]
      const both = new Float32Array(D * 2 * G * H);
      for (let d = 0; d < D; d++) {
        const sfx = d === 1 ? '_reverse' : '';
        both.set(reorderGates(self[`bias_ih_l${l}${sfx}`], H, order), d * 2 * G * H);
        both.set(reorderGates(self[`bias_hh_l${l}${sfx}`], H, order), (d * 2 + 1) * G * H);
      }
      B = b.initializer(`${base}_B_l${l}`, { dtype: 'float32', dims: [D, 2 * G * H], data: both });
    }
    // the initial states of this layer's directions: rows l*D .. l*D+D-1 of Kiln's [layers*D, B, H]
    const stateOf = (i: number) => {
      if (!stateGiven) return '';
      const [s] = b.node('Slice', [c.input(i), b.int64([l * D], 'starts'), b.int64([(l + 1) * D], 'ends'), b.int64([0], 'axes')]);
      return s;
    };
    const inputs = [x, W, R, B, seqLens, stateOf(1)];
    if (kind === 'LSTM') inputs.push(stateOf(2));
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const attrs: Record<string, AttrValue> = { hidden_size: int(H) };
    if (D === 2) attrs.direction = str('bidirectional');
    if (kind === 'GRU') attrs.linear_before_reset = int(1); // n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    if (kind === 'RNN') attrs.activations = strs(Array(D).fill((m as RNN).nonlinearity === 'relu' ? 'Relu' : 'Tanh'));
    const outs = b.node(kind, inputs, attrs, kind === 'LSTM' ? 3 : 2);
    // Y [T, D, B, H] -> [T, B, D*H] for the next layer (Kiln concatenates the directions' features)
    if (D === 1) [x] = b.node('Squeeze', [outs[0], b.int64([1], 'axes')]);
    else [x] = b.node('Reshape', [b.node('Transpose', [outs[0]], { perm: ints([0, 2, 1, 3]) })[0], b.int64([0, 0, -1], 'shape')]);
    finals[0].push(outs[1]);
    if (kind === 'LSTM') finals[1].push(outs[2]);
  }
  if (m.batchFirst) b.node('Transpose', [x], { perm: ints([1, 0, 2]) }, [c.output(0)]);
  else b.node('Identity', [x], {}, [c.output(0)]);
  const stack = (list: string[], out: string) => {
    if (list.length === 1) b.node('Identity', list, {}, [out]);
    else b.node('Concat', list, { axis: int(0) }, [out]);
  };
  stack(finals[0], c.output(1));
  if (kind === 'LSTM') stack(finals[1], c.output(2));
}

export const MODULE_OPS: Record<Kind, (c: EmitContext) => void> = {
  LSTM: (c) => recurrent(c, 'LSTM'),
  GRU: (c) => recurrent(c, 'GRU'),
  RNN: (c) => recurrent(c, 'RNN'),
  ConvTranspose2d: (c) => {
    const m = c.node.module as ConvTranspose2d;
    const o = m.options;
    const [sH, sW] = pair(o.stride, 1, 'stride');
    const [pH, pW] = pair(o.padding, 0, 'padding');
    const [dH, dW] = pair(o.dilation, 1, 'dilation');
    const [oH, oW] = pair(o.outputPadding, 0, 'outputPadding');
    // ONNX's ConvTranspose weight is [Cin, Cout, kH, kW], as Kiln's
    const inputs = [c.input(0), c.param(m.weight)];
    if (m.bias) inputs.push(c.param(m.bias));
    c.b.node('ConvTranspose', inputs, {
      kernel_shape: ints(m.kernelSize), strides: ints([sH, sW]), pads: ints([pH, pW, pH, pW]), dilations: ints([dH, dW]),
      output_padding: ints([oH, oW]),
    }, [c.output(0)]);
  },
  BatchNorm: (c) => {
    const m = c.node.module as BatchNorm1d;
    const C = m.numFeatures;
    const scale = m.weight ? c.param(m.weight) : c.b.initializer('bn_scale', { dtype: 'float32', dims: [C], data: new Float32Array(C).fill(1) });
    const bias = m.bias ? c.param(m.bias) : c.b.initializer('bn_bias', { dtype: 'float32', dims: [C], data: new Float32Array(C) });
    c.b.node('BatchNormalization', [c.input(0), scale, bias, c.param(m.running_mean!), c.param(m.running_var!)],
      { epsilon: float(m.eps) }, [c.output(0)]);
  },
  LayerNorm: (c) => {
    const m = c.node.module as LayerNorm;
    const shape = m.normalizedShape;
    const n = shape.reduce((a, d) => a * d, 1);
    const scale = m.weight ? c.param(m.weight) : c.b.initializer('ln_scale', { dtype: 'float32', dims: shape, data: new Float32Array(n).fill(1) });
    const inputs = [c.input(0), scale];
    if (m.bias) inputs.push(c.param(m.bias));
    c.b.node('LayerNormalization', inputs, { axis: int(-shape.length), epsilon: float(m.options.eps ?? 1e-5) }, [c.output(0)]);
  },
};

export function isModuleOp(op: string): op is Kind {
  return op in MODULE_OPS;
}
