import { checkOptions } from '../options.js';
import { zeros } from '../creation.js';
import { checkInt, check } from '../errors.js';
import { linear } from '../functional.js';
import type { Tensor } from '../tensor.js';
import { calculateFans, kaimingUniform_, uniform_ } from './init.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

export function checkPositiveInt(v: number, name: string): void {
  checkInt(v, name);
  check(v > 0, () => `${name}: expected a positive integer, got ${v}`);
}

/** y = x W^T + b. PyTorch's default init: W, b ~ U(-1/sqrt(in), 1/sqrt(in)). */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    checkOptions(opts, ['bias'], 'Linear');
    const bias = opts.bias ?? true;
    checkPositiveInt(inFeatures, 'inFeatures');
    checkPositiveInt(outFeatures, 'outFeatures');
    this.weight = Parameter(zeros([outFeatures, inFeatures]));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    this.bias = bias ? Parameter(zeros([outFeatures])) : null;
    if (this.bias) {
      const bound = 1 / Math.sqrt(calculateFans(this.weight)[0]);
      uniform_(this.bias, -bound, bound);
    }
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
