import { zeros } from '../creation.js';
import { conv1d, conv2d } from '../functional.js';
import { checkOptions } from '../options.js';
import { type ConvTranspose2dOptions, convTranspose2d, pair } from '../ops/nn.js';
import type { Tensor } from '../tensor.js';
import { calculateFans, kaimingUniform_, uniform_ } from './init.js';
import { checkPositiveInt } from './linear.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

type IntOrPair = number | [number, number];

export interface Conv2dOptions {
  stride?: IntOrPair;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  bias?: boolean;
}

function initConv(weight: Tensor, bias: Tensor | null): void {
  kaimingUniform_(weight, { a: Math.sqrt(5) });
  if (bias) {
    const bound = 1 / Math.sqrt(calculateFans(weight)[0]);
    uniform_(bias, -bound, bound);
  }
}

/** 2-D convolution over [N, C, H, W]; weight [out, in, kH, kW]. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: IntOrPair, readonly options: Conv2dOptions = {}) {
    super();
    checkOptions(options, ['stride', 'padding', 'dilation', 'bias'], 'Conv2d');
    checkPositiveInt(inChannels, 'inChannels');
    checkPositiveInt(outChannels, 'outChannels');
    this.kernelSize = pair(kernelSize, 1, 'kernelSize');
    this.weight = Parameter(zeros([outChannels, inChannels, ...this.kernelSize]));
    this.bias = options.bias === false ? null : Parameter(zeros([outChannels]));
    initConv(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.options);
  }
}

/** Transposed convolution (conv2d's input gradient as a layer); weight [in, out, kH, kW]. */
export class ConvTranspose2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: IntOrPair,
    readonly options: ConvTranspose2dOptions & { bias?: boolean } = {}) {
    super();
    checkOptions(options, ['stride', 'padding', 'dilation', 'outputPadding', 'bias'], 'ConvTranspose2d');
    checkPositiveInt(inChannels, 'inChannels');
    checkPositiveInt(outChannels, 'outChannels');
    this.kernelSize = pair(kernelSize, 1, 'kernelSize');
    this.weight = Parameter(zeros([inChannels, outChannels, ...this.kernelSize]));
    this.bias = options.bias === false ? null : Parameter(zeros([outChannels]));
    // PyTorch computes the fan-in from weight dim 1 (outChannels) here as well
    initConv(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, this.options);
  }
}

/** 1-D convolution over [N, C, L]; weight [out, in, k] (PyTorch's init). */
export class Conv1d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number,
    readonly options: { stride?: number; padding?: number; dilation?: number; bias?: boolean } = {}) {
    super();
    checkOptions(options, ['stride', 'padding', 'dilation', 'bias'], 'Conv1d');
    checkPositiveInt(inChannels, 'inChannels');
    checkPositiveInt(outChannels, 'outChannels');
    checkPositiveInt(kernelSize, 'kernelSize');
    this.weight = Parameter(zeros([outChannels, inChannels, kernelSize]));
    this.bias = options.bias === false ? null : Parameter(zeros([outChannels]));
    initConv(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor {
    const { stride, padding, dilation } = this.options;
    return conv1d(x, this.weight, this.bias, { stride, padding, dilation });
  }
}
