/** nn.init: in-place initialisers with PyTorch's fan and gain rules. */
import { checkOptions } from '../options.js';
import { noGrad } from '../autograd/engine.js';
import { normal, uniform } from '../creation.js';
import { KilnError, check } from '../errors.js';
import type { Tensor } from '../tensor.js';

function fill(t: Tensor, make: () => Tensor): Tensor {
  noGrad(() => {
    const v = make();
    t.copy_(v);
    v.dispose();
  });
  return t;
}

export const uniform_ = (t: Tensor, a = 0, b = 1) => fill(t, () => uniform(t.shape, a, b, { device: t.device }));
export const normal_ = (t: Tensor, mean = 0, std = 1) => fill(t, () => normal(t.shape, mean, std, { device: t.device }));
export const constant_ = (t: Tensor, value: number) => noGrad(() => t.fill_(value));
export const zeros_ = (t: Tensor) => constant_(t, 0);
export const ones_ = (t: Tensor) => constant_(t, 1);

/** [fanIn, fanOut] of a weight: dims 1 and 0 times the receptive field, as PyTorch. */
export function calculateFans(t: Tensor): [number, number] {
  check(t.ndim >= 2, () => `tensor: fan in and fan out need at least 2 dims, got ${t.ndim}`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1] * receptive, t.shape[0] * receptive];
}

export type Nonlinearity = 'linear' | 'conv2d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';

export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv2d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': return Math.sqrt(2 / (1 + (param ?? 0.01) ** 2));
    default: throw new KilnError(`nonlinearity: unsupported ${String(nonlinearity)}`);
  }
}

export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFans(t);
  const a = gain * Math.sqrt(6 / (fi + fo));
  return uniform_(t, -a, a);
}
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const [fi, fo] = calculateFans(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)));
}

export interface KaimingOptions { a?: number; mode?: 'fanIn' | 'fanOut'; nonlinearity?: Nonlinearity }

function kaimingStd(t: Tensor, { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' }: KaimingOptions): number {
  const [fi, fo] = calculateFans(t);
  return calculateGain(nonlinearity, a) / Math.sqrt(mode === 'fanIn' ? fi : fo);
}
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkOptions(opts, ['a', 'mode', 'nonlinearity'], 'kaimingUniform_');
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound);
}
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  checkOptions(opts, ['a', 'mode', 'nonlinearity'], 'kaimingNormal_');
  return normal_(t, 0, kaimingStd(t, opts));
}
