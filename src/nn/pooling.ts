import { avgPool2d, maxPool2d } from '../functional.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

type IntOrPair = number | [number, number];

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: IntOrPair, readonly options: { stride?: IntOrPair; padding?: IntOrPair } = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: IntOrPair,
    readonly options: { stride?: IntOrPair; padding?: IntOrPair; countIncludePad?: boolean } = {}) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}
