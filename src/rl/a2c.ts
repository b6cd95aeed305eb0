/**
 * A2C (Mnih et al. 2016, synchronous), as SB3's: one gradient step per rollout of nSteps x nEnvs
 * on -mean(A log pi) + vfCoef * MSE(V, returns) - entCoef * entropy, with RMSprop (alpha 0.99,
 * eps 1e-5) by default and gradient-norm clipping.
 */
import { tensor } from '../creation.js';
import { mseLoss } from '../losses.js';
import { scope } from '../memory.js';
import { Adam } from '../optim/adam.js';
import type { Optimizer } from '../optim/optimizer.js';
import { RMSprop } from '../optim/rmsprop.js';
import type { CommonOptions, EnvArg } from './common/base.js';
import { OnPolicyAlgorithm, type OnPolicyOptions, sdeDefaults } from './common/on-policy.js';

export interface A2COptions extends OnPolicyOptions {
  /** RMSprop (SB3's default) or Adam. */
  useRmsProp?: boolean;
  rmsPropEps?: number;
}

const defaults: Required<Omit<A2COptions, keyof CommonOptions>> = {
  learningRate: 7e-4, nSteps: 5, gamma: 0.99, gaeLambda: 1.0, entCoef: 0, vfCoef: 0.5, maxGradNorm: 0.5,
  normalizeAdvantage: false, useRmsProp: true, rmsPropEps: 1e-5, ...sdeDefaults,
};

export class A2C extends OnPolicyAlgorithm<A2COptions> {
  readonly algo = 'A2C';
  readonly optimizer: Optimizer<any>;

  constructor(env: EnvArg, options: A2COptions = {}) {
    super(env, options, defaults);
    const o = this.opts, params = this.policy.parameters(), lr = this.lrSchedule(1);
    this.optimizer = o.useRmsProp ? new RMSprop(params, { lr, alpha: 0.99, eps: o.rmsPropEps, weightDecay: 0 }) : new Adam(params, { lr });
  }

  protected train(): void {
    const size = this.rolloutBuffer.size;
    const mb = this.minibatch(Int32Array.from({ length: size }, (_, i) => i), this.opts.normalizeAdvantage);
    scope(() => {
      const o = this.opts, m = mb.m;
      const x = tensor(mb.obs, { shape: [m, this.obsDim] });
      const { values, logProb, entropy } = this.policy.evaluateActions(x, this.policy.actionTensor(mb.actions, m));
      const policyLoss = tensor(mb.adv).mul(logProb).mean().neg();
      const valueLoss = mseLoss(values, tensor(mb.ret));
      const entropyLoss = entropy.mean().neg();
      const loss = policyLoss.add(entropyLoss.mul(o.entCoef)).add(valueLoss.mul(o.vfCoef));
      this.losses.add('policyLoss', policyLoss.item());
      this.losses.add('valueLoss', valueLoss.item());
      this.losses.add('entropyLoss', entropyLoss.item());
      this.step(loss);
    });
  }
}
