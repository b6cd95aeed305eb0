import { type InterpolateOptions, adaptiveAvgPool2d, avgPool2d, interpolate, maxPool2d, pixelShuffle } from '../functional.js';
import { checkOptions } from '../options.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

type IntOrPair = number | [number, number];

export class MaxPool2d extends Module {
  constructor(readonly kernelSize: IntOrPair, readonly options: { stride?: IntOrPair; padding?: IntOrPair } = {}) {
    super();
    checkOptions(options, ['stride', 'padding'], 'MaxPool2d');
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(readonly kernelSize: IntOrPair,
    readonly options: { stride?: IntOrPair; padding?: IntOrPair; countIncludePad?: boolean } = {}) {
    super();
    checkOptions(options, ['stride', 'padding', 'countIncludePad'], 'AvgPool2d');
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
}

/** Averages each of outputSize windows (PyTorch's adaptive windows) of [N, C, H, W]. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | [number | null, number | null]) {
    super();
  }
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** Resizes [N, C, H, W] by size or scaleFactor (nearest or bilinear), as F.interpolate. */
export class Upsample extends Module {
  constructor(readonly options: InterpolateOptions) {
    super();
    checkOptions(options, ['size', 'scaleFactor', 'mode', 'alignCorners'], 'Upsample');
  }
  forward(x: Tensor): Tensor {
    return interpolate(x, this.options);
  }
}

/** [N, C r^2, H, W] -> [N, C, H r, W r]. */
export class PixelShuffle extends Module {
  constructor(readonly upscaleFactor: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
}
