import { zeros } from '../creation.js';
import { conv2d } from '../functional.js';
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
