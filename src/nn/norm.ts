import { ones, zeros } from '../creation.js';
import { check, shapeStr } from '../errors.js';
import { batchNorm, groupNorm, layerNorm, rmsNorm } from '../functional.js';
import { checkOptions } from '../options.js';
import type { Tensor } from '../tensor.js';
import { checkPositiveInt } from './linear.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export interface BatchNormOptions { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean }

class BatchNormBase extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  // buffer names match PyTorch's state-dict keys, so checkpoints interchange
  running_mean: Tensor | null = null;
  running_var: Tensor | null = null;
  num_batches_tracked: Tensor | null = null;
  readonly eps: number;
  readonly momentum: number;
  constructor(readonly numFeatures: number, private readonly inputDims: number[], opts: BatchNormOptions) {
    super();
    checkOptions(opts, ['eps', 'momentum', 'affine', 'trackRunningStats'], `BatchNorm${inputDims.includes(4) ? '2d' : '1d'}`);
    checkPositiveInt(numFeatures, 'numFeatures');
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum ?? 0.1;
    const affine = opts.affine ?? true;
    this.weight = affine ? Parameter(ones([numFeatures])) : null;
    this.bias = affine ? Parameter(zeros([numFeatures])) : null;
    if (opts.trackRunningStats ?? true) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    }
  }
  forward(x: Tensor): Tensor {
    check(this.inputDims.includes(x.ndim) && x.shape[1] === this.numFeatures,
      () => `input: expected ${this.inputDims.join(' or ')} dims with ${this.numFeatures} channels in dim 1, got ${shapeStr(x.shape)}`);
    const useBatchStats = this.training || this.running_mean === null;
    if (this.training && this.num_batches_tracked) this.num_batches_tracked.add_(1);
    return batchNorm(x, {
      runningMean: this.running_mean,
      runningVar: this.running_var,
      weight: this.weight,
      bias: this.bias,
      training: useBatchStats,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
}

/** Batch norm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) { super(numFeatures, [2, 3], opts); }
}
/** Batch norm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) { super(numFeatures, [4], opts); }
}

export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly options: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    checkOptions(options, ['eps', 'elementwiseAffine'], 'LayerNorm');
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? Parameter(ones(this.normalizedShape)) : null;
    this.bias = affine ? Parameter(zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.options.eps ?? 1e-5);
  }
}

/** Group norm over [N, C, ...]: weight and bias [C] (PyTorch's names and ones/zeros init). */
export class GroupNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly eps: number;
  constructor(readonly numGroups: number, readonly numChannels: number, opts: { eps?: number; affine?: boolean } = {}) {
    super();
    checkOptions(opts, ['eps', 'affine'], 'GroupNorm');
    checkPositiveInt(numGroups, 'numGroups');
    checkPositiveInt(numChannels, 'numChannels');
    check(numChannels % numGroups === 0, () => `numChannels: ${numChannels} is not divisible by numGroups (${numGroups})`);
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.affine ?? true;
    this.weight = affine ? Parameter(ones([numChannels])) : null;
    this.bias = affine ? Parameter(zeros([numChannels])) : null;
  }
  forward(x: Tensor): Tensor {
    check(x.ndim >= 2 && x.shape[1] === this.numChannels, () => `input: expected [N, ${this.numChannels}, ...], got ${shapeStr(x.shape)}`);
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }
}

/** RMS norm over the trailing normalizedShape dims, with a weight (ones) when elementwiseAffine. */
export class RMSNorm extends Module {
  weight: Tensor | null;
  readonly normalizedShape: number[];
  readonly eps: number | null;
  constructor(normalizedShape: number | number[], opts: { eps?: number | null; elementwiseAffine?: boolean } = {}) {
    super();
    checkOptions(opts, ['eps', 'elementwiseAffine'], 'RMSNorm');
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d) => checkPositiveInt(d, 'normalizedShape'));
    this.eps = opts.eps ?? null;
    this.weight = opts.elementwiseAffine ?? true ? Parameter(ones(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.eps);
  }
}
