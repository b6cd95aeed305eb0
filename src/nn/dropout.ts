import { checkFinite, check } from '../errors.js';
import { dropout } from '../functional.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

/** Zeroes elements with probability p in training mode; identity in eval mode. */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    checkFinite(p, 'p');
    check(p >= 0 && p <= 1, () => `p: expected a probability in [0, 1], got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}
