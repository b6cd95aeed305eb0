/**
 * REINFORCE with a learned baseline (Williams 1992; Sutton and Barto ch. 13.4): after every
 * episodesPerUpdate complete episodes, one gradient step on
 *   -mean((G_t - V(s_t)) log pi(a_t | s_t)) + vfCoef * MSE(V(s_t), G_t) - entCoef * entropy,
 * with G_t the discounted return to the episode's end (Monte Carlo: no bootstrapping, a
 * time-limit cut counts as an end). With several envs, an episode that was already running at
 * an update is dropped, so every episode used was played by the policy being updated.
 */
import { tensor } from '../creation.js';
import { check } from '../errors.js';
import { mseLoss } from '../losses.js';
import { scope } from '../memory.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import { BaseAlgorithm, type CommonOptions, type EnvArg, type LearnContext } from './common/base.js';
import { clipGradNorm } from './common/grad.js';
import { ActorCriticPolicy } from './common/policies.js';
import { type Schedule, type ScheduleLike, scheduleSpec, toSchedule } from './common/schedules.js';

export interface REINFORCEOptions extends CommonOptions {
  learningRate?: ScheduleLike;
  gamma?: number;
  episodesPerUpdate?: number;
  /** Subtract the learned V(s) from the return (false: plain REINFORCE). */
  useBaseline?: boolean;
  normalizeAdvantage?: boolean;
  vfCoef?: number;
  entCoef?: number;
  maxGradNorm?: number;
}

const defaults = {
  learningRate: 1e-3 as ScheduleLike, gamma: 0.99, episodesPerUpdate: 4, useBaseline: true, normalizeAdvantage: true,
  vfCoef: 0.5, entCoef: 0, maxGradNorm: 0.5,
};

/** G_t = r_t + gamma G_{t+1} within one episode's rewards. */
export function discountedReturns(rewards: ArrayLike<number>, gamma: number): Float64Array {
  const out = new Float64Array(rewards.length);
  let g = 0;
  for (let t = rewards.length - 1; t >= 0; t--) {
    g = rewards[t] + gamma * g;
    out[t] = g;
  }
  return out;
}

interface Trajectory {
  obs: number[];
  actions: number[];
  rewards: number[];
  valid: boolean;
}

export class REINFORCE extends BaseAlgorithm {
  readonly algo = 'REINFORCE';
  readonly opts: typeof defaults & CommonOptions;
  readonly policy: ActorCriticPolicy;
  readonly optimizer: Adam;
  readonly lrSchedule: Schedule;
  nUpdates = 0;

  constructor(env: EnvArg, options: REINFORCEOptions = {}) {
    super(env, options);
    const o = { ...defaults, ...options };
    this.opts = o;
    check(Number.isInteger(o.episodesPerUpdate) && o.episodesPerUpdate > 0, () => `episodesPerUpdate: expected a positive integer, got ${String(o.episodesPerUpdate)}`);
    check(o.gamma >= 0 && o.gamma <= 1, () => `gamma: expected a number in [0, 1], got ${String(o.gamma)}`);
    check(o.vfCoef >= 0 && o.entCoef >= 0, 'vfCoef, entCoef: expected non-negative numbers');
    check(o.maxGradNorm > 0, () => `maxGradNorm: expected a positive number, got ${String(o.maxGradNorm)}`);
    this.lrSchedule = toSchedule(o.learningRate, 'learningRate');
    this.policy = new ActorCriticPolicy(this.obsDim, this.actionSpace, o.policyKwargs);
    this.optimizer = new Adam(this.policy.parameters(), { lr: this.lrSchedule(1) });
    this.sealRng();
  }

  protected modules(): Record<string, Module> {
    return { policy: this.policy };
  }
  protected config(): Record<string, unknown> {
    const { learningRate: _lr, _spaces, ...rest } = this.opts as any;
    return { ...rest, learningRate: scheduleSpec(this.lrSchedule) };
  }
  protected policyActions(obs: Float32Array, n: number, deterministic: boolean): Float32Array {
    return this.policy.act(obs, n, deterministic).actions;
  }

  protected async run(ctx: LearnContext): Promise<void> {
    const env = this.env!, n = this.nEnvs, d = this.obsDim, a = this.discrete ? 1 : this.actDim;
    const fresh = (valid: boolean): Trajectory => ({ obs: [], actions: [], rewards: [], valid });
    // an episode counts only if it started after the last update (or at learn()'s reset)
    const running = Array.from({ length: n }, (_, e) => fresh(this.lastEpisodeStarts[e] === 1));
    let finished: Trajectory[] = [];
    while (!ctx.done) {
      const obs = this.lastObs!;
      const actions = scope(() => this.policy.act(obs, n, false)).actions;
      const [next, rewards, terminated, truncated, infos] = env.step(this.discrete ? actions : this.clipActions(actions));
      for (let e = 0; e < n; e++) {
        const tr = running[e];
        for (let k = 0; k < d; k++) tr.obs.push(obs[e * d + k]);
        for (let k = 0; k < a; k++) tr.actions.push(actions[e * a + k]);
        tr.rewards.push(rewards[e]);
        const done = terminated[e] || truncated[e];
        this.lastEpisodeStarts[e] = done ? 1 : 0;
        if (done) {
          if (tr.valid) finished.push(tr);
          running[e] = fresh(true);
        }
      }
      this.lastObs = next;
      await ctx.afterStep(rewards, terminated, truncated, infos);
      if (finished.length >= this.opts.episodesPerUpdate) {
        this.update(finished);
        finished = [];
        for (let e = 0; e < n; e++) if (running[e].rewards.length > 0) running[e].valid = false;
        await ctx.emit(this.losses.means(), { learningRate: this.optimizer.paramGroups[0].lr });
        this.losses.reset();
      }
    }
  }

  /** One gradient step on complete episodes. */
  update(episodes: Trajectory[]): void {
    const o = this.opts, d = this.obsDim;
    const m = episodes.reduce((s, e) => s + e.rewards.length, 0);
    const obs = new Float32Array(m * d), actions = new Float32Array(m * (this.discrete ? 1 : this.actDim)), ret = new Float32Array(m);
    let row = 0;
    for (const ep of episodes) {
      obs.set(ep.obs, row * d);
      actions.set(ep.actions, row * (this.discrete ? 1 : this.actDim));
      ret.set(discountedReturns(ep.rewards, o.gamma), row);
      row += ep.rewards.length;
    }
    for (const g of this.optimizer.paramGroups) g.lr = this.lrSchedule(this.progressRemaining);
    scope(() => {
      const x = tensor(obs, { shape: [m, d] });
      const { values, logProb, entropy } = this.policy.evaluateActions(x, this.policy.actionTensor(actions, m));
      const returns = tensor(ret);
      let adv = o.useBaseline ? returns.sub(values.detach()) : returns;
      if (o.normalizeAdvantage && m > 1) adv = adv.sub(adv.mean()).div(adv.std().add(1e-8));
      const policyLoss = adv.mul(logProb).mean().neg();
      const entropyLoss = entropy.mean().neg();
      let loss = policyLoss.add(entropyLoss.mul(o.entCoef));
      if (o.useBaseline) {
        const valueLoss = mseLoss(values, returns);
        loss = loss.add(valueLoss.mul(o.vfCoef));
        this.losses.add('valueLoss', valueLoss.item());
      }
      this.losses.add('policyLoss', policyLoss.item());
      this.losses.add('entropyLoss', entropyLoss.item());
      this.optimizer.zeroGrad();
      loss.backward();
      clipGradNorm(this.policy.parameters(), o.maxGradNorm);
      this.optimizer.step();
    });
    this.nUpdates++;
  }
}
