/**
 * Cutting a model into pipeline stages. `splitSequential(model, [2, 5])` cuts an nn.Sequential
 * before its layers 2 and 5 into three Sequentials that share the original layers (and so their
 * parameters): stage i keeps part i, and running the parts one after the other is the model.
 */
import { check } from '../../errors.js';
import { Sequential } from '../../nn/container.js';

export function splitSequential(model: Sequential, splitPoints: readonly number[]): Sequential[] {
  check(model instanceof Sequential, 'model: expected an nn.Sequential (split other models by hand into modules per stage)');
  check(Array.isArray(splitPoints) && splitPoints.length > 0, 'splitPoints: expected a non-empty array of layer indices');
  let prev = 0;
  for (const p of splitPoints) {
    check(Number.isInteger(p) && p > prev && p < model.length,
      () => `splitPoints: expected increasing layer indices in [1, ${model.length - 1}], got [${splitPoints.join(', ')}]`);
    prev = p;
  }
  const bounds = [0, ...splitPoints, model.length];
  const parts: Sequential[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const layers = [];
    for (let k = bounds[i]; k < bounds[i + 1]; k++) layers.push(model.at(k));
    parts.push(new Sequential(...layers));
  }
  return parts;
}
