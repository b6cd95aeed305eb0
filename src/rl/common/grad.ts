/**
 * Gradient-norm clipping for the agents' small networks: one square-sum and one read per
 * gradient. (bench/rl/profile.mjs measured the alternatives: cat of the flattened gradients goes
 * through a per-element indexAdd and costs 15x more; a 1xK GEMM per gradient 10x more.)
 */
import { noGrad } from '../../autograd/engine.js';
import { scope } from '../../memory.js';
import type { Tensor } from '../../tensor.js';

/** Scales the gradients so their joint L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(parameters: Tensor[], maxNorm: number): number {
  const grads: Tensor[] = [];
  for (const p of parameters) if (p.grad) grads.push(p.grad);
  if (grads.length === 0) return 0;
  return scope(() => noGrad(() => {
    let sq = 0;
    for (const g of grads) sq += g.square().sum().item();
    const total = Math.sqrt(sq);
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    return total;
  }));
}
