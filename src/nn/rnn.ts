/**
 * Recurrent layers with PyTorch's weight names and gate order: RNN (tanh | relu), LSTM (i, f, g,
 * o) and GRU (r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))). Inputs are [T, B, I]
 * ([B, T, I] with batchFirst). Each layer is the input projection of every time step as one
 * GEMM, then the recurrence as one native op (ops/rnn.ts).
 */
import { zeros } from '../creation.js';
import { check, shapeStr } from '../errors.js';
import { dropout, linear } from '../functional.js';
import { gruSequence, lstmSequence, rnnSequence } from '../ops/rnn.js';
import { stack } from '../ops/shape.js';
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
}

type Mode = 'RNN' | 'LSTM' | 'GRU';
const GATES: Record<Mode, number> = { RNN: 1, LSTM: 4, GRU: 3 };

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly dropoutP: number;
  readonly hasBias: boolean;

  constructor(readonly mode: Mode, readonly inputSize: number, readonly hiddenSize: number, opts: RNNOptions) {
    super();
    checkPositiveInt(inputSize, 'inputSize');
    checkPositiveInt(hiddenSize, 'hiddenSize');
    this.numLayers = opts.numLayers ?? 1;
    checkPositiveInt(this.numLayers, 'numLayers');
    this.batchFirst = opts.batchFirst ?? false;
    this.dropoutP = opts.dropout ?? 0;
    check(this.dropoutP >= 0 && this.dropoutP <= 1, () => `dropout: expected a probability in [0, 1], got ${this.dropoutP}`);
    this.hasBias = opts.bias ?? true;
    const G = GATES[mode] * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    const self = this as any;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize;
      self[`weight_ih_l${l}`] = Parameter(zeros([G, inSize]));
      self[`weight_hh_l${l}`] = Parameter(zeros([G, hiddenSize]));
      if (this.hasBias) {
        self[`bias_ih_l${l}`] = Parameter(zeros([G]));
        self[`bias_hh_l${l}`] = Parameter(zeros([G]));
      }
    }
    for (const p of this.parameters()) uniform_(p, -bound, bound);
  }

  protected layerWeights(l: number): [Tensor, Tensor, Tensor | null, Tensor | null] {
    const self = this as any;
    return [self[`weight_ih_l${l}`], self[`weight_hh_l${l}`], self[`bias_ih_l${l}`] ?? null, self[`bias_hh_l${l}`] ?? null];
  }

  /** x as [T, B, I], checked. */
  protected timeMajor(x: Tensor): Tensor {
    check(x.ndim === 3 && x.shape[2] === this.inputSize,
      () => `input: expected [${this.batchFirst ? 'batch, seq' : 'seq, batch'}, ${this.inputSize}], got ${shapeStr(x.shape)}`);
    check(x.shape[0] > 0 && x.shape[1] > 0, () => `input: expected a non-empty sequence and batch, got ${shapeStr(x.shape)}`);
    return this.batchFirst ? x.transpose(0, 1) : x;
  }

  protected initialState(h: Tensor | undefined, B: number, device: Tensor['device'], name: string): Tensor {
    const shape = [this.numLayers, B, this.hiddenSize];
    if (h === undefined) return zeros(shape, { device });
    check(h.ndim === 3 && h.shape.every((d, i) => d === shape[i]), () => `${name}: expected shape ${shapeStr(shape)}, got ${shapeStr(h.shape)}`);
    return h;
  }

  /**
   * Runs every layer: the input projection of all steps as one GEMM with its bias, then
   * recur(l, proj), the layer's native recurrence (ops/rnn.ts), which returns h of every step
   * [T, B, H] and the layer's final states. Dropout goes between layers.
   */
  protected layers(x: Tensor, recur: (l: number, proj: Tensor) => [Tensor, Tensor[]]): [Tensor, Tensor[][]] {
    let seq = this.timeMajor(x);
    const [T, B] = seq.shape;
    const finals: Tensor[][] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const [wIh, , bIh] = this.layerWeights(l);
      const proj = linear(seq.reshape([T * B, seq.shape[2]]), wIh, bIh).reshape([T, B, wIh.shape[0]]);
      const [hs, final] = recur(l, proj);
      finals.push(final);
      seq = l + 1 < this.numLayers && this.dropoutP > 0 ? dropout(hs, this.dropoutP, this.training) : hs;
    }
    return [this.batchFirst ? seq.transpose(0, 1) : seq, finals];
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
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const h = this.initialState(h0, this.timeMajor(x).shape[1], x.device, 'h0');
    const [out, finals] = this.layers(x, (l, proj) => {
      const [, wHh, , bHh] = this.layerWeights(l);
      const hs = rnnSequence(proj, wHh, bHh, h.select(0, l), this.nonlinearity);
      return [hs, [hs.select(0, proj.shape[0] - 1)]];
    });
    return [out, stack(finals.map((f) => f[0]), 0)];
  }
}

export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    super('LSTM', inputSize, hiddenSize, opts);
  }
  /** Returns [output, [hN, cN]]. The native recurrence packs h and c of every step in hc. */
  forward(x: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const B = this.timeMajor(x).shape[1];
    const h = this.initialState(state?.[0], B, x.device, 'h0');
    const c = this.initialState(state?.[1], B, x.device, 'c0');
    const [out, finals] = this.layers(x, (l, proj) => {
      const [, wHh, , bHh] = this.layerWeights(l);
      const hc = lstmSequence(proj, wHh, bHh, h.select(0, l), c.select(0, l));
      const last = proj.shape[0] - 1;
      return [hc.select(0, 0), [hc.select(0, 0).select(0, last), hc.select(0, 1).select(0, last)]];
    });
    return [out, [stack(finals.map((f) => f[0]), 0), stack(finals.map((f) => f[1]), 0)]];
  }
}

export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, opts: Omit<RNNOptions, 'nonlinearity'> = {}) {
    super('GRU', inputSize, hiddenSize, opts);
  }
  /** Returns [output, hN]. */
  forward(x: Tensor, h0?: Tensor): [Tensor, Tensor] {
    const h = this.initialState(h0, this.timeMajor(x).shape[1], x.device, 'h0');
    const [out, finals] = this.layers(x, (l, proj) => {
      const [, wHh, , bHh] = this.layerWeights(l);
      const hs = gruSequence(proj, wHh, bHh, h.select(0, l));
      return [hs, [hs.select(0, proj.shape[0] - 1)]];
    });
    return [out, stack(finals.map((f) => f[0]), 0)];
  }
}
