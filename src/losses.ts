/**
 * Loss functions (kiln.F forms), with reductions 'mean' | 'sum' | 'none' as PyTorch. Each is
 * written in a numerically stable form: cross-entropy through log-softmax (log-sum-exp), BCE
 * with logs clamped at -100, BCE-with-logits as max(x, 0) - x*y + log(1 + exp(-|x|)).
 */
import { anyBf16, viaFloat32 } from './ops/bf16.js';
import { checkOptions } from './options.js';
import { check, shapeStr } from './errors.js';
import { noGrad, record } from './autograd/engine.js';
import { scope } from './memory.js';
import { where } from './ops/elementwise.js';
import { crossEntropyRows } from './ops/nn.js';
import { checkFloat, checkTensor } from './ops/util.js';
import type { Tensor } from './tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(loss: Tensor, reduction: Reduction = 'mean'): Tensor {
  switch (reduction) {
    case 'mean': return loss.mean();
    case 'sum': return loss.sum();
    case 'none': return loss;
  }
  throw new Error(`reduction: expected 'mean', 'sum' or 'none', got ${String(reduction)}`);
}

function checkReduction(r: unknown): asserts r is Reduction {
  check(r === 'mean' || r === 'sum' || r === 'none', () => `reduction: expected 'mean', 'sum' or 'none', got ${String(r)}`);
}

function checkSameShape(input: Tensor, target: Tensor): void {
  checkTensor(input, 'input');
  checkTensor(target, 'target');
  checkFloat(input, 'input');
  check(target.dtype === 'float32', () => `target: expected a float32 tensor, got ${target.dtype}`);
  check(input.shape.length === target.shape.length && input.shape.every((d, i) => d === target.shape[i]),
    () => `target: expected the input's shape ${shapeStr(input.shape)}, got ${shapeStr(target.shape)}`);
}

export interface ReductionOptions { reduction?: Reduction }

export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => mseLoss(x, t, opts));
  checkOptions(opts, ['reduction'], 'mseLoss');
  const { reduction = 'mean' } = opts;
  checkReduction(reduction);
  checkSameShape(input, target);
  return reduce(input.sub(target).square(), reduction);
}

export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => l1Loss(x, t, opts));
  checkOptions(opts, ['reduction'], 'l1Loss');
  const { reduction = 'mean' } = opts;
  checkReduction(reduction);
  checkSameShape(input, target);
  return reduce(input.sub(target).abs(), reduction);
}

export function huberLoss(input: Tensor, target: Tensor, opts: ReductionOptions & { delta?: number } = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => huberLoss(x, t, opts));
  checkOptions(opts, ['reduction', 'delta'], 'huberLoss');
  const { reduction = 'mean', delta = 1 } = opts;
  checkReduction(reduction);
  checkSameShape(input, target);
  check(delta > 0 && Number.isFinite(delta), () => `delta: expected a positive number, got ${delta}`);
  const d = input.sub(target).abs();
  return reduce(where(d.lt(delta), d.square().mul(0.5), d.sub(0.5 * delta).mul(delta)), reduction);
}

export function smoothL1Loss(input: Tensor, target: Tensor, opts: ReductionOptions & { beta?: number } = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => smoothL1Loss(x, t, opts));
  checkOptions(opts, ['reduction', 'beta'], 'smoothL1Loss');
  const { reduction = 'mean', beta = 1 } = opts;
  checkReduction(reduction);
  checkSameShape(input, target);
  check(beta >= 0 && Number.isFinite(beta), () => `beta: expected a non-negative number, got ${beta}`);
  const d = input.sub(target).abs();
  if (beta === 0) return reduce(d, reduction);
  return reduce(where(d.lt(beta), d.square().mul(0.5 / beta), d.sub(0.5 * beta)), reduction);
}

export interface CrossEntropyOptions extends ReductionOptions {
  ignoreIndex?: number;
  labelSmoothing?: number;
  /** Per-class weight [C]. */
  weight?: Tensor | null;
}

/** How many elements of an int32 tensor differ from value (read on the host). */
function countOtherThan(t: Tensor, value: number): number {
  const v = t.toTypedArray();
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== value) n++;
  return n;
}

/** [N, C, d1, ...] -> [N * d1 * ..., C] so classes are the last dim. */
function classesLast(input: Tensor): Tensor {
  if (input.ndim === 2) return input;
  const C = input.shape[1];
  const perm = [0, ...Array.from({ length: input.ndim - 2 }, (_, i) => i + 2), 1];
  return input.permute(perm).reshape([-1, C]);
}

/**
 * Cross-entropy of logits [N, C] (or [N, C, d...]) with int32 class indices [N] (or [N, d...]), or
 * with float32 class probabilities of the input's shape.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => crossEntropy(x, t, opts));
  checkOptions(opts, ['reduction', 'ignoreIndex', 'labelSmoothing', 'weight'], 'crossEntropy');
  const { reduction = 'mean', ignoreIndex = -100, labelSmoothing = 0, weight = null } = opts;
  checkReduction(reduction);
  checkTensor(input, 'input');
  checkTensor(target, 'target');
  checkFloat(input, 'input');
  check(input.ndim >= 2, () => `input: expected logits [batch, classes, ...], got ${shapeStr(input.shape)}`);
  check(labelSmoothing >= 0 && labelSmoothing <= 1, () => `labelSmoothing: expected a value in [0, 1], got ${labelSmoothing}`);
  const C = input.shape[1];
  if (weight) check(weight.ndim === 1 && weight.shape[0] === C, () => `weight: expected shape [${C}], got ${shapeStr(weight.shape)}`);
  const logits = classesLast(input);
  if (target.dtype === 'float32') {
    check(target.shape.length === input.shape.length && target.shape.every((d, i) => d === input.shape[i]),
      () => `target: class probabilities must have the input's shape ${shapeStr(input.shape)}, got ${shapeStr(target.shape)}`);
    let p = classesLast(target);
    if (labelSmoothing > 0) p = p.mul(1 - labelSmoothing).add(labelSmoothing / C);
    let terms = logits.logSoftmax(1).mul(p);
    if (weight) terms = terms.mul(weight);
    const rows = terms.sum(1).neg();
    if (reduction === 'none') return rows.reshape([input.shape[0], ...input.shape.slice(2)]);
    return reduction === 'sum' ? rows.sum() : rows.sum().div(input.numel / C);
  }
  check(target.dtype === 'int32', () => `target: expected int32 class indices or float32 probabilities, got ${target.dtype}`);
  const expected = [input.shape[0], ...input.shape.slice(2)];
  check(target.shape.length === expected.length && target.shape.every((d, i) => d === expected[i]),
    () => `target: expected class indices of shape ${shapeStr(expected)}, got ${shapeStr(target.shape)}`);
  const flatTarget = target.reshape([-1]);
  if (!weight && reduction === 'mean' && flatTarget.device === 'cpu') {
    // On the CPU the rows that count are counted on the host (one read of the int32 targets)
    // instead of by ne + sum + div and their backward: a quarter of a small MLP's step (W4).
    const tc = flatTarget.contiguous();
    const kept = countOtherThan(tc, ignoreIndex);
    const rows = crossEntropyRows(logits, tc, ignoreIndex, labelSmoothing);
    return kept === rows.numel ? rows.mean() : rows.sum().div(kept);
  }
  const kept = flatTarget.ne(ignoreIndex); // 1 where the row counts
  let rows: Tensor;
  let denominator: Tensor = kept;
  if (!weight) {
    rows = crossEntropyRows(logits, flatTarget.contiguous(), ignoreIndex, labelSmoothing);
  } else {
    // rows are 0 where ignored; index the weight with a safe class there
    const safe = where(kept, flatTarget, 0).int();
    const w = weight.indexSelect(0, safe).mul(kept);
    rows = crossEntropyRows(logits, flatTarget.contiguous(), ignoreIndex, 0).mul(w);
    if (labelSmoothing > 0) {
      // PyTorch weighs the smoothing term per class, -sum_c w_c log p_c, not by the target's weight
      const smooth = logits.logSoftmax(1).mul(weight).sum(1).neg().mul(kept);
      rows = rows.mul(1 - labelSmoothing).add(smooth.mul(labelSmoothing / C));
    }
    denominator = w;
  }
  if (reduction === 'none') return rows.reshape(expected);
  if (reduction === 'sum') return rows.sum();
  return rows.sum().div(denominator.sum());
}

/** Negative log-likelihood of log-probabilities [N, C] (or [N, C, d...]) with int32 targets [N] (or [N, d...]). */
export function nllLoss(input: Tensor, target: Tensor, opts: Omit<CrossEntropyOptions, 'labelSmoothing'> = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => nllLoss(x, t, opts));
  checkOptions(opts, ['reduction', 'ignoreIndex', 'weight'], 'nllLoss');
  const { reduction = 'mean', ignoreIndex = -100, weight = null } = opts;
  checkReduction(reduction);
  checkTensor(input, 'input');
  checkTensor(target, 'target');
  checkFloat(input, 'input');
  check(input.ndim >= 2, () => `input: expected log-probabilities [batch, classes, ...], got ${shapeStr(input.shape)}`);
  check(target.dtype === 'int32', () => `target: expected int32 class indices, got ${target.dtype}`);
  const expected = [input.shape[0], ...input.shape.slice(2)];
  check(target.shape.length === expected.length && target.shape.every((d, i) => d === expected[i]),
    () => `target: expected class indices of shape ${shapeStr(expected)}, got ${shapeStr(target.shape)}`);
  const C = input.shape[1];
  if (weight) check(weight.ndim === 1 && weight.shape[0] === C, () => `weight: expected shape [${C}], got ${shapeStr(weight.shape)}`);
  checkClassIndices(target, C, ignoreIndex);
  const flatTarget = target.reshape([-1]);
  const kept = flatTarget.ne(ignoreIndex);
  const safe = where(kept, flatTarget, 0).int();
  const picked = classesLast(input).gather(1, safe.unsqueeze(1)).reshape([-1]);
  const w: Tensor = weight ? weight.indexSelect(0, safe).mul(kept) : kept;
  const rows = picked.mul(w).neg();
  if (reduction === 'none') return rows.reshape(expected);
  if (reduction === 'sum') return rows.sum();
  return rows.sum().div(w.sum());
}

/** Every target is a class in [0, C) or ignoreIndex (read on the host: targets are small). */
function checkClassIndices(target: Tensor, C: number, ignoreIndex: number): void {
  const values = target.toTypedArray();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    check(v === ignoreIndex || (v >= 0 && v < C), () => `target: class index ${v} is out of range [0, ${C})`);
  }
}

export interface BCEOptions extends ReductionOptions { weight?: Tensor | null }

/**
 * Binary cross-entropy of probabilities in [0, 1]; logs are clamped at -100 as PyTorch, and the
 * input gradient is PyTorch's (x - y) w / max(x (1 - x), 1e-12), finite at exactly 0 and 1 where
 * the chain rule through the clamped logs would give 0/0.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => binaryCrossEntropy(x, t, opts));
  checkOptions(opts, ['reduction', 'weight'], 'binaryCrossEntropy');
  const { reduction = 'mean', weight = null } = opts;
  checkReduction(reduction);
  checkSameShape(input, target);
  if (input.numel > 0) {
    const lo = input.min().item();
    const hi = input.max().item();
    check(lo >= 0 && hi <= 1, () => `input: binaryCrossEntropy expects probabilities in [0, 1], got values in [${lo}, ${hi}]`);
  }
  // one recorded op: its rule (autograd/rules.ts) gives PyTorch's gradients and can be differentiated again
  const loss = scope(() => noGrad(() => {
    const logP = input.log().clamp(-100, null);
    const log1mP = input.rsub(1).log().clamp(-100, null);
    const unweighted = target.mul(logP).add(target.rsub(1).mul(log1mP)).neg();
    return weight ? unweighted.mul(weight) : unweighted;
  }));
  return reduce(record(loss, 'binaryCrossEntropy', weight ? [input, target, weight] : [input, target], undefined, 0b111), reduction);
}

/** BCE on logits, stable for any magnitude; posWeight [C] weighs the positive term. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor,
  opts: BCEOptions & { posWeight?: Tensor | null } = {}): Tensor {
  // bfloat16: the loss in float32, its value rounded to bfloat16 once (gradients come back in bfloat16)
  if (anyBf16(input, target)) return viaFloat32([input, target], (x, t) => binaryCrossEntropyWithLogits(x, t, opts));
  checkOptions(opts, ['reduction', 'weight', 'posWeight'], 'binaryCrossEntropyWithLogits');
  const { reduction = 'mean', weight = null, posWeight = null } = opts;
  checkReduction(reduction);
  checkSameShape(input, target);
  // log(1 + exp(-|x|)) + max(-x, 0) = -log(sigmoid(x)), without overflow
  const softplusNeg = input.abs().neg().exp().add(1).log().add(input.neg().relu());
  let loss: Tensor;
  if (posWeight) {
    const lw = target.mul(posWeight.sub(1)).add(1);
    loss = target.rsub(1).mul(input).add(lw.mul(softplusNeg));
  } else {
    loss = target.rsub(1).mul(input).add(softplusNeg);
  }
  if (weight) loss = loss.mul(weight);
  return reduce(loss, reduction);
}
