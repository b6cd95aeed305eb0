import * as F from '../functional.js';
import { check } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return F.relu(x); }
}
export class Sigmoid extends Module {
  forward(x: Tensor): Tensor { return F.sigmoid(x); }
}
export class Tanh extends Module {
  forward(x: Tensor): Tensor { return F.tanh(x); }
}
export class GELU extends Module {
  forward(x: Tensor): Tensor { return F.gelu(x); }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return F.leakyRelu(x, this.negativeSlope); }
}
export class Softmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return F.softmax(x, this.dim); }
}
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return F.logSoftmax(x, this.dim); }
}
export class Identity extends Module {
  forward(x: Tensor): Tensor { return x; }
}
/** Flattens dims startDim..endDim (default: all but the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
}
/** Unflattens dim into sizes (Flatten's inverse, as torch.nn.Unflatten): [N, 1568] -> [N, 32, 7, 7]. */
export class Unflatten extends Module {
  readonly sizes: readonly number[];
  constructor(readonly dim: number, sizes: readonly number[]) {
    super();
    check(Number.isInteger(dim), () => `dim: expected an integer, got ${String(dim)}`);
    check(Array.isArray(sizes) && sizes.length > 0 && sizes.every((s) => Number.isInteger(s) && s > 0),
      () => `sizes: expected a non-empty array of positive integers, got ${String(sizes)}`);
    this.sizes = [...sizes];
  }
  forward(x: Tensor): Tensor {
    const d = this.dim < 0 ? this.dim + x.ndim : this.dim;
    check(d >= 0 && d < x.ndim, () => `dim: ${this.dim} is out of range for an input with ${x.ndim} dims`);
    const n = this.sizes.reduce((a, b) => a * b, 1);
    check(x.shape[d] === n, () => `input: dim ${this.dim} has size ${x.shape[d]}, expected ${n} (the product of sizes [${this.sizes.join(', ')}])`);
    return x.reshape([...x.shape.slice(0, d), ...this.sizes, ...x.shape.slice(d + 1)]);
  }
}
export class SiLU extends Module {
  forward(x: Tensor): Tensor { return F.silu(x); }
}
export class Mish extends Module {
  forward(x: Tensor): Tensor { return F.mish(x); }
}
export class Softplus extends Module {
  constructor(readonly beta = 1, readonly threshold = 20) { super(); }
  forward(x: Tensor): Tensor { return F.softplus(x, this.beta, this.threshold); }
}
