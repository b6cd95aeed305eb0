/** Loss modules: thin wrappers over the functional forms in src/losses.ts. */
import { checkOptions } from '../options.js';
import * as L from '../losses.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class MSELoss extends Module {
  constructor(readonly options: L.ReductionOptions = {}) { super(); checkOptions(options, ['reduction'], 'MSELoss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.mseLoss(input, target, this.options); }
}
export class L1Loss extends Module {
  constructor(readonly options: L.ReductionOptions = {}) { super(); checkOptions(options, ['reduction'], 'L1Loss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.l1Loss(input, target, this.options); }
}
export class HuberLoss extends Module {
  constructor(readonly options: L.ReductionOptions & { delta?: number } = {}) { super(); checkOptions(options, ['reduction', 'delta'], 'HuberLoss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.huberLoss(input, target, this.options); }
}
export class SmoothL1Loss extends Module {
  constructor(readonly options: L.ReductionOptions & { beta?: number } = {}) { super(); checkOptions(options, ['reduction', 'beta'], 'SmoothL1Loss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.smoothL1Loss(input, target, this.options); }
}
export class CrossEntropyLoss extends Module {
  constructor(readonly options: L.CrossEntropyOptions = {}) { super(); checkOptions(options, ['reduction', 'ignoreIndex', 'labelSmoothing', 'weight'], 'CrossEntropyLoss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.crossEntropy(input, target, this.options); }
}
export class NLLLoss extends Module {
  constructor(readonly options: Omit<L.CrossEntropyOptions, 'labelSmoothing'> = {}) { super(); checkOptions(options, ['reduction', 'ignoreIndex', 'weight'], 'NLLLoss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.nllLoss(input, target, this.options); }
}
export class BCELoss extends Module {
  constructor(readonly options: L.BCEOptions = {}) { super(); checkOptions(options, ['reduction', 'weight'], 'BCELoss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.binaryCrossEntropy(input, target, this.options); }
}
export class BCEWithLogitsLoss extends Module {
  constructor(readonly options: L.BCEOptions & { posWeight?: Tensor | null } = {}) { super(); checkOptions(options, ['reduction', 'weight', 'posWeight'], 'BCEWithLogitsLoss'); }
  forward(input: Tensor, target: Tensor): Tensor { return L.binaryCrossEntropyWithLogits(input, target, this.options); }
}
