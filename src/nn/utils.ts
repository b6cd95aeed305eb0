/** nn.utils: gradient clipping. */
import { noGrad } from '../autograd/engine.js';
import { checkFinite, check } from '../errors.js';
import type { Tensor } from '../tensor.js';

/**
 * Scales all gradients so their joint norm is at most maxNorm (torch.nn.utils.clip_grad_norm_);
 * returns the total norm before clipping. normType may be Infinity.
 */
export function clipGradNorm(parameters: Tensor[], maxNorm: number, normType = 2): number {
  checkFinite(maxNorm, 'maxNorm');
  check(normType > 0, () => `normType: expected a positive number, got ${normType}`);
  const grads = parameters.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return 0;
  return noGrad(() => {
    let total: number;
    if (normType === Infinity) {
      total = Math.max(...grads.map((g) => { const a = g.abs(); const m = a.max().item(); a.dispose(); return m; }));
    } else {
      let acc = 0;
      for (const g of grads) {
        const a = g.abs();
        const p = a.pow(normType);
        const s = p.sum();
        acc += s.item();
        [a, p, s].forEach((t) => t.dispose());
      }
      total = acc ** (1 / normType);
    }
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    return total;
  });
}

/** Clamps every gradient element to [-clipValue, clipValue]. */
export function clipGradValue(parameters: Tensor[], clipValue: number): void {
  checkFinite(clipValue, 'clipValue');
  noGrad(() => {
    for (const p of parameters) {
      if (!p.grad) continue;
      const c = p.grad.clamp(-clipValue, clipValue);
      p.grad.copy_(c);
      c.dispose();
    }
  });
}
