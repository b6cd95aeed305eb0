/**
 * Parameters are ordinary leaf float32 tensors that require grad, marked in a WeakSet so that
 * Module can find them among its fields. They are kept out of any kiln.scope.
 */
import { check } from '../errors.js';
import { keep } from '../memory.js';
import type { Tensor } from '../tensor.js';

const parameters = new WeakSet<Tensor>();

export function markParameter(t: Tensor): Tensor {
  check(t.dtype === 'float32' || t.dtype === 'bfloat16', () => `parameter: expected a float32 or bfloat16 tensor, got ${t.dtype}`);
  t.requiresGrad = true;
  parameters.add(keep(t));
  return t;
}

/** Makes a trainable parameter from a tensor (detached from any graph). */
export function Parameter(t: Tensor): Tensor {
  return markParameter(t.isLeaf ? t : t.detach());
}

export function isParameter(t: Tensor): boolean {
  return parameters.has(t);
}
