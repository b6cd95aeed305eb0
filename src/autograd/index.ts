/**
 * kiln.autograd: grad, backward, custom Functions, gradcheck and gradgradcheck (as torch.autograd).
 */
import { type BackwardOptions, type GradOptions, backward as runBackward, grad as runGrad } from './backward.js';
import { check } from '../errors.js';
import type { Tensor } from '../tensor.js';

export type { BackwardOptions, GradOptions } from './backward.js';
export { Function, FunctionCtx } from './function.js';
export { gradcheck, gradgradcheck } from './gradcheck.js';
export type { GradcheckOptions } from './gradcheck.js';
export { RemovableHandle } from './hooks.js';
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from './engine.js';

/**
 * The gradients of outputs with respect to inputs, returned in the order of inputs (null for an
 * unused input with allowUnused). .grad is not touched. With createGraph the result can be
 * differentiated again.
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  return runGrad(outputs, inputs, options);
}

/** Accumulates the gradients of tensors (with their gradients, default 1 for scalars) into the leaves' .grad. */
export function backward(tensors: Tensor | Tensor[], gradTensors?: Tensor | (Tensor | null)[] | null,
  options: Omit<BackwardOptions, 'gradient'> = {}): void {
  const outs = Array.isArray(tensors) ? tensors : [tensors];
  check(outs.length > 0, 'tensors: expected a tensor or a non-empty array of tensors');
  const grads = gradTensors === undefined || gradTensors === null ? [] : Array.isArray(gradTensors) ? gradTensors : [gradTensors];
  check(grads.length === 0 || grads.length === outs.length,
    () => `gradTensors: expected ${outs.length} gradients (one per tensor), got ${grads.length}`);
  runBackward(outs, grads, options);
}
