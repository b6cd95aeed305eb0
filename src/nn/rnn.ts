/**
 * Recurrent layers with PyTorch's weight names and gate order: RNN (tanh | relu), LSTM (i, f, g,
 * o) and GRU (r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). Inputs are [T, B, I]
 * ([B, T, I] with batchFirst); bidirectional layers add the '_reverse' weights and concatenate
 * both directions' outputs; forward's `lengths` stands in for PyTorch's packed sequences. Each layer is the input projection of every time step as one
 * GEMM, then the recurrence as one native op (ops/rnn.ts).
 */
import { tensor, zeros } from '../creation.js';
import { checkOptions } from '../options.js';
import { check, shapeStr } from '../errors.js';
import { dropout, linear } from '../functional.js';
import { gruSequence, lstmSequence, rnnSequence } from '../ops/rnn.js';
import { cat, stack } from '../ops/shape.js';
import type { Tensor } from '../tensor.js';
import { uniform_ } from './init.js';
import { checkPositiveInt } from './linear.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  nonlinearity?: 'tanh' | 'relu';
  bidirectional?: boolean;
}

/**
 * forward's options. lengths: the valid length of each sequence of the batch (PyTorch's packed
 * sequences): outputs past a sequence's length are 0, its final state is the one at its last
 * valid step, and the reverse direction starts from that step.
 */
export interface RNNForwardOptions {
  lengths?: ArrayLike<number> | null;
}

type Mode = 'RNN' | 'LSTM' | 'GRU';
const GATES: Record<Mode, number> = { RNN: 1, LSTM: 4, GRU: 3 };

/** One direction's run: h of every step [T, B, H], and c of every step for the LSTM. */
interface Run {
  hs: Tensor;
  cs?: Tensor;
}

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;
  readonly hasBias: boolean;
  readonly bidirectional: boolean;
  readonly numDirections: number;

  constructor(readonly mode: Mode, readonly inputSize: number, readonly hiddenSize: number, opts: RNNOptions) {
    super();
    checkOptions(opts, mode === 'RNN' ? ['numLayers', 'bias', 'batchFirst', 'dropout', 'nonlinearity', 'bidirectional']
      : ['numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional'], mode);
    checkPositiveInt(inputSize, 'inputSize');
    checkPositiveInt(hiddenSize, 'hiddenSize');
    this.numLayers = opts.numLayers ?? 1;
    checkPositiveInt(this.numLayers, 'numLayers');
    this.batchFirst = opts.batchFirst ?? false;
    this.dropoutP = opts.dropout ?? 0;
    check(this.dropoutP >= 0 && this.dropoutP <= 1, () => `dropout: expected a probability in [0, 1], got ${this.dropoutP}`);
    this.hasBias = opts.bias ?? true;
    this.bidirectional = opts.bidirectional ?? false;
    check(typeof this.bidirectional === 'boolean', 'bidirectional: expected a boolean');
    this.numDirections = this.bidirectional ? 2 : 1;
    const G = GATES[mode] * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    const self = this as any;
    for (let l = 0; l < this.numLayers; l++) {
      for (let d = 0; d < this.numDirections; d++) {
        const sfx = d === 1 ? '_reverse' : '';
        const inSize = l === 0 ? inputSize : hiddenSize * this.numDirections;
        self[`weight_ih_l${l}${sfx}`] = Parameter(zeros([G, inSize]));
        self[`weight_hh_l${l}${sfx}`] = Parameter(zeros([G, hiddenSize]));
        if (this.hasBias) {
          self[`bias_ih_l${l}${sfx}`] = Parameter(zeros([G]));
          self[`bias_hh_l${l}${sfx}`] = Parameter(zeros([G]));
        }
      }
    }
    for (const p of this.parameters()) uniform_(p, -bound, bound);
  }

  protected layerWeights(l: number, d = 0): [Tensor, Tensor, Tensor | null, Tensor | null] {
    const self = this as any;
    const sfx = d === 1 ? '_reverse' : '';
    return [self[`weight_ih_l${l}${sfx}`], self[`weight_hh_l${l}${sfx}`], self[`bias_ih_l${l}${sfx}`] ?? null, self[`bias_hh_l${l}${sfx}`] ?? null];
  }

  /** x as [T, B, I], checked. */
  protected timeMajor(x: Tensor): Tensor {
    check(x.ndim === 3 && x.shape[2] === this.inputSize,
      () => `input: expected [${this.batchFirst ? 'batch, seq' : 'seq, batch'}, ${this.inputSize}], got ${shapeStr(x.shape)}`);
    check(x.shape[0] > 0 && x.shape[1] > 0, () => `input: expected a non-empty sequence and batch, got ${shapeStr(x.shape)}`);
    return this.batchFirst ? x.transpose(0, 1) : x;
  }

  protected initialState(h: Tensor | undefined | null, B: number, device: Tensor['device'], name: string): Tensor {
    const shape = [this.numLayers * this.numDirections, B, this.hiddenSize];
    if (h === undefined || h === null) return zeros(shape, { device });
    check(h.ndim === 3 && h.shape.every((d, i) => d === shape[i]), () => `${name}: expected shape ${shapeStr(shape)}, got ${shapeStr(h.shape)}`);
    return h;
  }

  /** The checked lengths (each in [1, T]), or null. */
  protected lengthsOf(opts: RNNForwardOptions, T: number, B: number): number[] | null {
    checkOptions(opts, ['lengths'], `${this.mode}.forward`);
    const lengths = opts.lengths ?? null;
    if (lengths === null) return null;
    const list = Array.from(lengths as ArrayLike<number>);
    check(list.length === B, () => `lengths: expected one length per sequence of the batch (${B}), got ${list.length}`);
    list.forEach((n, b) => check(Number.isInteger(n) && n >= 1 && n <= T, () => `lengths[${b}]: expected an integer in [1, ${T}], got ${n}`));
    return list;
  }

  /**
   * Runs every layer and direction: the input projection of all steps as one GEMM with its bias,
   * then recur(index, proj), the native recurrence (ops/rnn.ts) from initial state `index`. The
   * reverse direction runs on the time-reversed input (each sequence within its length) and its
   * output is reversed back. Dropout goes between layers. Returns the output and, per layer and
   * direction, the run (the finals are read from it at each sequence's last step).
   */
  protected layers(x: Tensor, lengths: number[] | null, recur: (index: number, proj: Tensor) => Run): [Tensor, Tensor[], (Tensor | null)[]] {
    let seq = this.timeMajor(x);
    const [T, B] = seq.shape;
    const device = seq.device;
    // time permutation of the reverse direction: t -> len - 1 - t inside each sequence
    const revIdx = (F: number) => {
      const host = new Int32Array(T * B * F);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const n = lengths?.[b] ?? T;
          const src = t < n ? n - 1 - t : t;
          host.fill(src, (t * B + b) * F, (t * B + b + 1) * F);
        }
      }
      return tensor(host, { dtype: 'int32', shape: [T, B, F], device });
    };
    const lastIdx = lengths === null ? null
      : tensor(Int32Array.from({ length: B * this.hiddenSize }, (_, i) => lengths[Math.floor(i / this.hiddenSize)] - 1),
        { dtype: 'int32', shape: [1, B, this.hiddenSize], device });
    const validMask = lengths === null ? null
      : tensor(Float32Array.from({ length: T * B }, (_, i) => (Math.floor(i / B) < lengths[i % B] ? 1 : 0)), { shape: [T, B, 1], device });
    const last = (t: Tensor) => (lastIdx === null ? t.select(0, T - 1) : t.gather(0, lastIdx).squeeze(0));
    const hFinals: Tensor[] = [];
    const cFinals: (Tensor | null)[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const [wIh, , bIh] = this.layerWeights(l, d);
        const input = d === 1 ? seq.gather(0, revIdx(seq.shape[2])) : seq;
        const proj = linear(input.reshape([T * B, input.shape[2]]), wIh, bIh).reshape([T, B, wIh.shape[0]]);
        const run = recur(l * this.numDirections + d, proj);
        hFinals.push(last(run.hs));
        cFinals.push(run.cs ? last(run.cs) : null);
        let out = d === 1 ? run.hs.gather(0, revIdx(this.hiddenSize)) : run.hs;
        if (validMask !== null) out = out.mul(validMask);
        outs.push(out);
      }
      const hs = outs.length === 1 ? outs[0] : cat(outs, 2);
      seq = l + 1 < this.numLayers && this.dropoutP > 0 ? dropout(hs, this.dropoutP, this.training) : hs;
    }
    return [this.batchFirst ? seq.transpose(0, 1) : seq, hFinals, cFinals];
  }
}

export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super('RNN', inputSize, hiddenSize, opts);
    this.nonlinearity = opts.nonlinearity ?? 'tanh';
    check(this.nonlinearity === 'tanh' || this.nonlinearity === 'relu',
      () => `nonlinearity: expected 'tanh' or 'relu', got ${String(this.nonlinearity)}`);
  }
  /** Returns [output, hN]. */
  forward(x: Tensor, h0?: Tensor | null, opts: RNNForwardOptions = {}): [Tensor, Tensor] {
    const [T, B] = this.timeMajor(x).shape;
    const lengths = this.lengthsOf(opts, T, B);
    const h = this.initialState(h0, B, x.device, 'h0');
    const [out, finals] = this.layers(x, lengths, (i, proj) => {
      const [, wHh, , bHh] = this.layerWeights(Math.floor(i / this.numDirections), i % this.numDirections);
      return { hs: rnnSequence(proj, wHh, bHh, h.select(0, i), this.nonlinearity) };
    });
    return [out, stack(finals, 0)];
  }
}

export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    super('LSTM', inputSize, hiddenSize, opts);
  }
  /** Returns [output, [hN, cN]]. The native recurrence packs h and c of every step in hc. */
  forward(x: Tensor, state?: [Tensor, Tensor] | null, opts: RNNForwardOptions = {}): [Tensor, [Tensor, Tensor]] {
    const [T, B] = this.timeMajor(x).shape;
    const lengths = this.lengthsOf(opts, T, B);
    const h = this.initialState(state?.[0], B, x.device, 'h0');
    const c = this.initialState(state?.[1], B, x.device, 'c0');
    const [out, hF, cF] = this.layers(x, lengths, (i, proj) => {
      const [, wHh, , bHh] = this.layerWeights(Math.floor(i / this.numDirections), i % this.numDirections);
      const hc = lstmSequence(proj, wHh, bHh, h.select(0, i), c.select(0, i));
      return { hs: hc.select(0, 0), cs: hc.select(0, 1) };
    });
    return [out, [stack(hF, 0), stack(cF as Tensor[], 0)]];
  }
}

export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    super('GRU', inputSize, hiddenSize, opts);
  }
  /** Returns [output, hN]. */
  forward(x: Tensor, h0?: Tensor | null, opts: RNNForwardOptions = {}): [Tensor, Tensor] {
    const [T, B] = this.timeMajor(x).shape;
    const lengths = this.lengthsOf(opts, T, B);
    const h = this.initialState(h0, B, x.device, 'h0');
    const [out, finals] = this.layers(x, lengths, (i, proj) => {
      const [, wHh, , bHh] = this.layerWeights(Math.floor(i / this.numDirections), i % this.numDirections);
      return { hs: gruSequence(proj, wHh, bHh, h.select(0, i)) };
    });
    return [out, stack(finals, 0)];
  }
}
