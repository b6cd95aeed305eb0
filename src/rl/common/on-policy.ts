/**
 * OnPolicyAlgorithm: the rollout loop A2C and PPO share (SB3's collect_rollouts): nSteps steps of
 * every env with the current policy, a truncated episode's reward bootstrapped with
 * gamma * V(final observation), then GAE over the rollout and the algorithm's update.
 */
import { check } from '../../errors.js';
import { scope } from '../../memory.js';
import type { Module } from '../../nn/module.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Tensor } from '../../tensor.js';
import { BaseAlgorithm, type CommonOptions, type EnvArg, type LearnContext } from './base.js';
import { RolloutBuffer } from './buffers.js';
import { clipGradNorm as clipGrad } from './grad.js';
import { ActorCriticPolicy } from './policies.js';
import { type Schedule, type ScheduleLike, scheduleSpec, toSchedule } from './schedules.js';

export interface OnPolicyOptions extends CommonOptions {
  learningRate?: ScheduleLike;
  nSteps?: number;
  gamma?: number;
  gaeLambda?: number;
  entCoef?: number;
  vfCoef?: number;
  maxGradNorm?: number;
  normalizeAdvantage?: boolean;
  /** gSDE exploration (Box actions): noise latent(s) . E with E redrawn every sdeSampleFreq steps. */
  useSde?: boolean;
  /** Steps between new exploration matrices; -1: once per rollout. */
  sdeSampleFreq?: number;
}

/** Defaults every on-policy agent shares for the gSDE options. */
export const sdeDefaults = { useSde: false, sdeSampleFreq: -1 };

type Resolved<O> = Required<Omit<O, keyof CommonOptions>> & CommonOptions;

export abstract class OnPolicyAlgorithm<O extends OnPolicyOptions> extends BaseAlgorithm {
  readonly opts: Resolved<O>;
  /** The same object as opts, typed by the options every on-policy algorithm has. */
  private readonly common: Resolved<OnPolicyOptions>;
  readonly policy: ActorCriticPolicy;
  readonly rolloutBuffer: RolloutBuffer;
  readonly lrSchedule: Schedule;
  abstract readonly optimizer: Optimizer<any>;
  /** Gradient steps taken. */
  nUpdates = 0;

  constructor(env: EnvArg, options: O, defaults: Required<Omit<O, keyof CommonOptions>>) {
    super(env, options);
    const o = { ...defaults, ...options } as unknown as Resolved<OnPolicyOptions>;
    this.opts = o as unknown as Resolved<O>;
    this.common = o;
    check(Number.isInteger(o.nSteps) && o.nSteps > 0, () => `nSteps: expected a positive integer, got ${String(o.nSteps)}`);
    for (const k of ['gamma', 'gaeLambda'] as const) check(typeof o[k] === 'number' && o[k] >= 0 && o[k] <= 1, () => `${k}: expected a number in [0, 1], got ${String(o[k])}`);
    for (const k of ['entCoef', 'vfCoef'] as const) check(typeof o[k] === 'number' && o[k] >= 0, () => `${k}: expected a non-negative number, got ${String(o[k])}`);
    check(typeof o.maxGradNorm === 'number' && o.maxGradNorm > 0, () => `maxGradNorm: expected a positive number, got ${String(o.maxGradNorm)}`);
    this.lrSchedule = toSchedule(o.learningRate, 'learningRate');
    check(Number.isInteger(o.sdeSampleFreq) && (o.sdeSampleFreq > 0 || o.sdeSampleFreq === -1), () => `sdeSampleFreq: expected a positive integer or -1, got ${String(o.sdeSampleFreq)}`);
    this.policy = new ActorCriticPolicy(this.obsDim, this.actionSpace, { ...o.policyKwargs, useSde: o.useSde });
    this.rolloutBuffer = new RolloutBuffer(o.nSteps, this.nEnvs, this.obsDim, this.discrete ? 1 : this.actDim);
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

  /** The update after each rollout (losses go to this.losses). */
  protected abstract train(): void;

  protected async run(ctx: LearnContext): Promise<void> {
    const o = this.common, env = this.env!, n = this.nEnvs, d = this.obsDim, buf = this.rolloutBuffer;
    while (!ctx.done) {
      buf.reset();
      let complete = true;
      for (let s = 0; s < o.nSteps; s++) {
        if (o.useSde && (s === 0 || (o.sdeSampleFreq > 0 && s % o.sdeSampleFreq === 0))) this.policy.resetNoise(n);
        const obs = this.lastObs!;
        const { actions, values, logProbs } = scope(() => this.policy.act(obs, n, false));
        const [next, rewards, terminated, truncated, infos] = env.step(this.discrete ? actions : this.clipActions(actions));
        const adjusted = Float64Array.from(rewards);
        const cut: number[] = [];
        for (let e = 0; e < n; e++) if (truncated[e] && !terminated[e] && infos[e].finalObservation instanceof Float32Array) cut.push(e);
        if (cut.length > 0) {
          const finals = new Float32Array(cut.length * d);
          cut.forEach((e, j) => finals.set(infos[e].finalObservation as Float32Array, j * d));
          const v = scope(() => this.policy.predictValues(finals, cut.length));
          cut.forEach((e, j) => { adjusted[e] += o.gamma * v[j]; });
        }
        buf.add(obs, actions, adjusted, this.lastEpisodeStarts, values, logProbs);
        this.lastObs = next;
        for (let e = 0; e < n; e++) this.lastEpisodeStarts[e] = terminated[e] || truncated[e] ? 1 : 0;
        await ctx.afterStep(rewards, terminated, truncated, infos);
        if (ctx.stopped) {
          complete = false;
          break;
        }
      }
      if (!complete) break;
      const lastValues = scope(() => this.policy.predictValues(this.lastObs!, n));
      buf.computeReturnsAndAdvantage(lastValues, this.lastEpisodeStarts, o.gamma, o.gaeLambda);
      this.setLearningRate();
      this.train();
      this.losses.add('explainedVariance', explainedVariance(buf.values, buf.returns));
      await ctx.emit(this.losses.means(), { learningRate: this.optimizer.paramGroups[0].lr });
      this.losses.reset();
    }
  }

  protected setLearningRate(): void {
    for (const g of this.optimizer.paramGroups) g.lr = this.lrSchedule(this.progressRemaining);
  }

  /** Host arrays of a minibatch (indices into the rollout), advantages normalised when asked. */
  protected minibatch(idx: ArrayLike<number>, normalize: boolean) {
    const buf = this.rolloutBuffer, m = idx.length, d = this.obsDim, a = buf.actDim;
    const obs = new Float32Array(m * d), actions = new Float32Array(m * a);
    const adv = new Float32Array(m), ret = new Float32Array(m), oldLogProb = new Float32Array(m), oldValues = new Float32Array(m);
    for (let j = 0; j < m; j++) {
      const i = idx[j];
      obs.set(buf.obs.subarray(i * d, i * d + d), j * d);
      for (let k = 0; k < a; k++) actions[j * a + k] = buf.actions[i * a + k];
      adv[j] = buf.advantages[i];
      ret[j] = buf.returns[i];
      oldLogProb[j] = buf.logProbs[i];
      oldValues[j] = buf.values[i];
    }
    if (normalize && m > 1) normalizeInPlace(adv, idx, buf.advantages);
    return { m, obs, actions, adv, ret, oldLogProb, oldValues };
  }

  /** Clips the policy's gradients to maxGradNorm and steps the optimizer. */
  protected step(loss: Tensor): void {
    this.optimizer.zeroGrad();
    loss.backward();
    clipGrad(this.policy.parameters(), this.common.maxGradNorm);
    this.optimizer.step();
    this.nUpdates++;
  }
}

/** (a - mean) / (std + 1e-8), std with Bessel's correction (torch's .std()), computed in float64. */
function normalizeInPlace(out: Float32Array, idx: ArrayLike<number>, src: Float64Array): void {
  const m = idx.length;
  let mean = 0;
  for (let j = 0; j < m; j++) mean += src[idx[j]];
  mean /= m;
  let v = 0;
  for (let j = 0; j < m; j++) v += (src[idx[j]] - mean) ** 2;
  const std = Math.sqrt(v / (m - 1));
  for (let j = 0; j < m; j++) out[j] = (src[idx[j]] - mean) / (std + 1e-8);
}

/** 1 - Var(returns - values) / Var(returns): how much of the return the critic explains. */
export function explainedVariance(values: ArrayLike<number>, returns: ArrayLike<number>): number {
  const n = returns.length;
  let mr = 0, md = 0;
  for (let i = 0; i < n; i++) {
    mr += returns[i] / n;
    md += (returns[i] - values[i]) / n;
  }
  let vr = 0, vd = 0;
  for (let i = 0; i < n; i++) {
    vr += (returns[i] - mr) ** 2;
    vd += (returns[i] - values[i] - md) ** 2;
  }
  return vr === 0 ? NaN : 1 - vd / vr;
}
