/**
 * ActorCriticPolicy (SB3's MlpPolicy for A2C/PPO): separate actor and critic MLPs (tanh, 64-64
 * by default), orthogonal initialisation with SB3's gains (sqrt 2 hidden, 0.01 action head,
 * 1 value head), a Categorical head for Discrete actions and a diagonal Gaussian with a
 * state-independent log standard deviation for Box actions — or, with useSde, generalised
 * state-dependent exploration (gSDE, Raffin et al. 2021, SB3's StateDependentNoiseDistribution
 * with full_std): the action noise is latent(s) . E for a matrix E ~ N(0, exp(logStd)^2) held
 * fixed between resetNoise() calls, so Var[a_k | s] = sum_j latent_j(s)^2 exp(2 logStd_jk).
 */
import { noGrad } from '../../autograd/engine.js';
import { full, randn, tensor } from '../../creation.js';
import { check } from '../../errors.js';
import { keep, scope } from '../../memory.js';
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
  readonly useSde: boolean;
  /** gSDE exploration matrices [k, latentDim, actDim], one per env (resetNoise). */
  private explorationMatrices: Tensor | null = null;

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
    this.useSde = kw.useSde ?? false;
    check(!this.useSde || !this.discrete, 'useSde: gSDE needs a Box action space');
    const latentPi = pi.at(-1) ?? obsDim;
    this.logStd = this.discrete ? null : Parameter(full(this.useSde ? [latentPi, this.actDim] : [this.actDim], kw.logStdInit ?? 0));
    if (kw.orthoInit ?? true) {
      orthoInit(this.piNet, Math.SQRT2);
      orthoInit(this.vfNet, Math.SQRT2);
      orthoInit(this.actionNet, 0.01);
      orthoInit(this.valueNet, 1);
    }
  }

  /** The action distribution for observations x [n, obsDim]. */
  distribution(x: Tensor): Distribution {
    return this.distributionAndLatent(x).dist;
  }

  private distributionAndLatent(x: Tensor): { dist: Distribution; latent: Tensor } {
    const latent = this.piNet.forward(x);
    const out = this.actionNet.forward(latent);
    if (this.discrete) return { dist: new Categorical({ logits: out, validateArgs: false }), latent };
    if (!this.useSde) return { dist: new Independent(new Normal(out, this.logStd!.exp(), { validateArgs: false }), 1), latent };
    // the features are detached (SB3's learn_features=False): only logStd shapes the variance
    const lat = latent.detach();
    const variance = lat.square().matmul(this.logStd!.exp().square());
    return { dist: new Independent(new Normal(out, variance.add(1e-6).sqrt(), { validateArgs: false }), 1), latent: lat };
  }

  /** Draws new gSDE exploration matrices, one per env (k of them), from N(0, exp(logStd)^2). */
  resetNoise(k: number): void {
    if (!this.useSde) return;
    const e = scope(() => noGrad(() => randn([k, ...this.logStd!.shape]).mul(this.logStd!.detach().exp())));
    this.explorationMatrices?.dispose();
    this.explorationMatrices = keep(e);
  }

  /** latent . E: per row its own matrix when there is one per row, else the first (as SB3). */
  private sdeNoise(latent: Tensor): Tensor {
    if (this.explorationMatrices === null || this.explorationMatrices.shape[0] < 1) this.resetNoise(1);
    const E = this.explorationMatrices!;
    const n = latent.shape[0];
    if (E.shape[0] === n) return latent.unsqueeze(1).matmul(E).reshape([n, this.actDim]);
    return latent.matmul(E.select(0, 0));
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
      const { dist, latent } = this.distributionAndLatent(x);
      const values = this.values(x);
      let a: Tensor;
      if (deterministic) a = this.discrete ? (dist as Categorical).mode : dist.mean;
      else if (this.useSde) a = dist.mean.add(this.sdeNoise(latent));
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
