/**
 * kl.klDivergence(p, q) = E_p[log p - log q], for the pairs PyTorch registers among Kiln's
 * distributions: Normal-Normal, Bernoulli-Bernoulli, Categorical-Categorical and
 * Independent-Independent (same reinterpreted dims). registerKl adds a pair.
 */
import { KilnError, check } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Bernoulli } from './bernoulli.js';
import { Categorical } from './categorical.js';
import { Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { Normal } from './normal.js';
import { softplus } from './util.js';

type Ctor = abstract new (...args: any[]) => Distribution;
type KlFn = (p: any, q: any) => Tensor;
const registry: [Ctor, Ctor, KlFn][] = [];

export function registerKl<P extends Distribution, Q extends Distribution>(
  typeP: abstract new (...args: any[]) => P, typeQ: abstract new (...args: any[]) => Q, fn: (p: P, q: Q) => Tensor): void {
  check(typeof fn === 'function', 'fn: expected a function (p, q) => Tensor');
  registry.unshift([typeP, typeQ, fn]);
}

export function klDivergence(p: Distribution, q: Distribution): Tensor {
  check(p instanceof Distribution, 'p: expected a kiln.distributions Distribution');
  check(q instanceof Distribution, 'q: expected a kiln.distributions Distribution');
  const hit = registry.find(([a, b]) => p instanceof a && q instanceof b);
  if (!hit) throw new KilnError(`klDivergence: no KL registered for (${p.constructor.name}, ${q.constructor.name})`);
  return hit[2](p, q);
}

/** (var_p / var_q + (mu_p - mu_q)^2 / var_q - 1 - log(var_p / var_q)) / 2 */
registerKl(Normal, Normal, (p: Normal, q: Normal) => {
  const varRatio = p.scale.div(q.scale).square();
  const t1 = p.loc.sub(q.loc).div(q.scale).square();
  return varRatio.add(t1).sub(1).sub(varRatio.log()).mul(0.5);
});

/** p (log p - log q) + (1 - p)(log(1 - p) - log(1 - q)), with log p = -softplus(-l). */
registerKl(Bernoulli, Bernoulli, (p: Bernoulli, q: Bernoulli) => {
  const t1 = p.probs.mul(softplus(q.logits.neg()).sub(softplus(p.logits.neg())));
  const t2 = p.probs.rsub(1).mul(softplus(q.logits).sub(softplus(p.logits)));
  return t1.add(t2);
});

/** sum_k p_k (log p_k - log q_k) */
registerKl(Categorical, Categorical, (p: Categorical, q: Categorical) => {
  check(p.numEvents === q.numEvents, () => `klDivergence: Categoricals over ${p.numEvents} and ${q.numEvents} categories`);
  return p.probs.mul(p.logits.sub(q.logits)).sum(-1);
});

registerKl(Independent, Independent, (p: Independent, q: Independent) => {
  check(p.reinterpretedBatchNdims === q.reinterpretedBatchNdims,
    () => `klDivergence: Independent with ${p.reinterpretedBatchNdims} and ${q.reinterpretedBatchNdims} reinterpreted dims`);
  return p.sumRightmost(klDivergence(p.baseDist, q.baseDist));
});
