/**
 * ActorCriticPolicy (SB3's MlpPolicy for A2C/PPO): separate actor and critic MLPs (tanh, 64-64
 * by default), orthogonal initialisation with SB3's gains (sqrt 2 hidden, 0.01 action head,
 * 1 value head), a Categorical head for Discrete actions and a diagonal Gaussian with a
 * state-independent log standard deviation for Box actions.
 */
import { noGrad } from '../../autograd/engine.js';
import { full, tensor } from '../../creation.js';
import { Categorical } from '../../distributions/categorical.js';
import type { Distribution } from '../../distributions/distribution.js';
import { Independent } from '../../distributions/independent.js';
import { Normal } from '../../distributions/normal.js';
import { Linear } from '../../nn/linear.js';
import { Module } from '../../nn/module.js';
import { Parameter } from '../../nn/parameter.js';
import type { Sequential } from '../../nn/container.js';
import type { Tensor } from '../../tensor.js';
import type { Space } from '../spaces.js';
import type { PolicyKwargs } from './base.js';
import { checkNetArch, mlp, orthoInit } from './mlp.js';

export interface ActOutput {
  actions: Float32Array;
  values: Float32Array;
  logProbs: Float32Array;
}

export class ActorCriticPolicy extends Module {
  readonly piNet: Sequential;
  readonly vfNet: Sequential;
  readonly actionNet: Linear;
  readonly valueNet: Linear;
  readonly logStd: Tensor | null;
  readonly discrete: boolean;
  readonly actDim: number;

  constructor(readonly obsDim: number, actionSpace: Space, kw: PolicyKwargs = {}) {
    super();
    const arch = kw.netArch ?? { pi: [64, 64], vf: [64, 64] };
    const pi = checkNetArch(Array.isArray(arch) ? arch : arch.pi, 'policyKwargs.netArch.pi');
    const vf = checkNetArch(Array.isArray(arch) ? arch : arch.vf, 'policyKwargs.netArch.vf');
    const act = kw.activation ?? 'tanh';
    this.discrete = actionSpace.kind === 'discrete';
    this.actDim = actionSpace.kind === 'discrete' ? actionSpace.n : actionSpace.size;
    this.piNet = mlp(obsDim, pi, 0, act);
    this.vfNet = mlp(obsDim, vf, 0, act);
    this.actionNet = new Linear(pi.at(-1) ?? obsDim, this.actDim);
    this.valueNet = new Linear(vf.at(-1) ?? obsDim, 1);
    this.logStd = this.discrete ? null : Parameter(full([this.actDim], kw.logStdInit ?? 0));
    if (kw.orthoInit ?? true) {
      orthoInit(this.piNet, Math.SQRT2);
      orthoInit(this.vfNet, Math.SQRT2);
      orthoInit(this.actionNet, 0.01);
      orthoInit(this.valueNet, 1);
    }
  }

  /** The action distribution for observations x [n, obsDim]. */
  distribution(x: Tensor): Distribution {
    const out = this.actionNet.forward(this.piNet.forward(x));
    if (this.discrete) return new Categorical({ logits: out, validateArgs: false });
    return new Independent(new Normal(out, this.logStd!.exp(), { validateArgs: false }), 1);
  }

  /** V(s) [n] */
  values(x: Tensor): Tensor {
    const v = this.valueNet.forward(this.vfNet.forward(x));
    return v.reshape([v.shape[0]]);
  }

  forward(x: Tensor): { dist: Distribution; values: Tensor } {
    return { dist: this.distribution(x), values: this.values(x) };
  }

  /** Log-probabilities and entropies of given actions, and the values, with gradients. */
  evaluateActions(x: Tensor, actions: Tensor): { values: Tensor; logProb: Tensor; entropy: Tensor } {
    const dist = this.distribution(x);
    return { values: this.values(x), logProb: dist.logProb(actions), entropy: dist.entropy() };
  }

  /** Actions (sampled, or the mode when deterministic), values and log-probabilities for n observations. */
  act(obs: Float32Array, n: number, deterministic: boolean): ActOutput {
    return noGrad(() => {
      const x = tensor(obs, { shape: [n, this.obsDim] });
      const { dist, values } = this.forward(x);
      let a: Tensor;
      if (deterministic) a = this.discrete ? (dist as Categorical).mode : dist.mean;
      else a = dist.sample();
      const lp = dist.logProb(a);
      const actions = this.discrete ? Float32Array.from(a.toTypedArray()) : (a.toTypedArray() as Float32Array);
      return { actions, values: values.toTypedArray() as Float32Array, logProbs: lp.toTypedArray() as Float32Array };
    });
  }

  /** V(s) for n observations, on the host. */
  predictValues(obs: Float32Array, n: number): Float32Array {
    return noGrad(() => this.values(tensor(obs, { shape: [n, this.obsDim] })).toTypedArray() as Float32Array);
  }

  /** Actions as a tensor for a minibatch: int32 [m] (Discrete) or float32 [m, actDim]. */
  actionTensor(actions: Float32Array, m: number): Tensor {
    return this.discrete ? tensor(Int32Array.from(actions), { shape: [m] }) : tensor(actions, { shape: [m, this.actDim] });
  }
}
