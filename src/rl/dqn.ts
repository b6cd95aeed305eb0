/**
 * DQN (Mnih et al. 2015) with Stable-Baselines3's defaults, schedule and update order: epsilon-
 * greedy acting with a linearly decaying epsilon, a replay buffer, a target network copied every
 * targetUpdateInterval environment steps, the Huber (smooth L1) loss, gradient-norm clipping and,
 * as an option, Double DQN's target (the online network picks the next action).
 */
import { noGrad } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { check } from '../errors.js';
import { smoothL1Loss } from '../losses.js';
import { scope } from '../memory.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../optim/adam.js';
import { BaseAlgorithm, type CommonOptions, type EnvArg, type LearnContext } from './common/base.js';
import { ReplayBuffer } from './common/buffers.js';
import { clipGradNorm } from './common/grad.js';
import { checkNetArch, mlp } from './common/mlp.js';
import { type Schedule, type ScheduleLike, linearSchedule, scheduleSpec, toSchedule } from './common/schedules.js';

export interface DQNOptions extends CommonOptions {
  learningRate?: ScheduleLike;
  bufferSize?: number;
  learningStarts?: number;
  batchSize?: number;
  gamma?: number;
  /** Environment steps between copies of the online network into the target network. */
  targetUpdateInterval?: number;
  /** Target update rate: 1 copies (hard update), below 1 blends (Polyak). */
  tau?: number;
  /** Environment steps (per env) between training phases. */
  trainFreq?: number;
  /** Gradient steps per training phase; -1: as many as environment steps taken since the last. */
  gradientSteps?: number;
  explorationFraction?: number;
  explorationInitialEps?: number;
  explorationFinalEps?: number;
  maxGradNorm?: number;
  /** Double DQN target: Q_target(s', argmax_a Q(s', a)). */
  doubleQ?: boolean;
  /** Environment steps between log records (default 1000). */
  logInterval?: number;
  /**
   * SB3's replay_buffer_kwargs. handleTimeoutTermination (default true): a transition cut by a
   * time limit bootstraps from its last state; false stores it as terminal, as SB3 before 1.1.0
   * did (the version rl-baselines3-zoo's published DQN agents were trained with).
   */
  replayBufferKwargs?: { handleTimeoutTermination?: boolean };
}

const defaults = {
  learningRate: 1e-4 as ScheduleLike, bufferSize: 1_000_000, learningStarts: 100, batchSize: 32, gamma: 0.99,
  targetUpdateInterval: 10_000, tau: 1.0, trainFreq: 4, gradientSteps: 1, explorationFraction: 0.1,
  explorationInitialEps: 1.0, explorationFinalEps: 0.05, maxGradNorm: 10, doubleQ: false, logInterval: 1000,
  replayBufferKwargs: {} as { handleTimeoutTermination?: boolean },
};

export class DQN extends BaseAlgorithm {
  readonly algo = 'DQN';
  readonly opts: typeof defaults & CommonOptions;
  readonly qNet: Module;
  readonly qNetTarget: Module;
  readonly optimizer: Adam;
  readonly replayBuffer: ReplayBuffer;
  readonly lrSchedule: Schedule;
  readonly explorationSchedule: Schedule;
  /** Epsilon; 0 until the first environment step of learn(), as SB3's (so a learningStarts 0 run's first action is greedy). */
  explorationRate = 0;
  /** Whether a time-limit truncation bootstraps (replayBufferKwargs.handleTimeoutTermination). */
  readonly handleTimeoutTermination: boolean;
  /** Gradient steps taken. */
  nUpdates = 0;
  private nCalls = 0;

  constructor(env: EnvArg, options: DQNOptions = {}) {
    super(env, options);
    const known = [...Object.keys(defaults), 'seed', 'nEnvs', 'policyKwargs', '_spaces'];
    for (const k of Object.keys(options)) check(known.includes(k), () => `options: unknown key '${k}' (expected one of ${known.join(', ')})`);
    const o = { ...defaults, ...options };
    this.opts = o;
    check(this.discrete, 'env: DQN needs a Discrete action space');
    for (const k of ['bufferSize', 'batchSize', 'targetUpdateInterval', 'trainFreq', 'logInterval'] as const) {
      check(Number.isInteger(o[k]) && o[k] > 0, () => `${k}: expected a positive integer, got ${String(o[k])}`);
    }
    check(Number.isInteger(o.learningStarts) && o.learningStarts >= 0, () => `learningStarts: expected a non-negative integer, got ${String(o.learningStarts)}`);
    check(Number.isInteger(o.gradientSteps) && (o.gradientSteps > 0 || o.gradientSteps === -1), () => `gradientSteps: expected a positive integer or -1, got ${String(o.gradientSteps)}`);
    for (const k of ['gamma', 'tau', 'explorationFraction', 'explorationInitialEps', 'explorationFinalEps'] as const) {
      check(typeof o[k] === 'number' && o[k] >= 0 && o[k] <= 1, () => `${k}: expected a number in [0, 1], got ${String(o[k])}`);
    }
    check(o.explorationFraction > 0, 'explorationFraction: expected a number in (0, 1]');
    check(o.maxGradNorm > 0, () => `maxGradNorm: expected a positive number, got ${o.maxGradNorm}`);
    const rb = o.replayBufferKwargs;
    check(rb !== null && typeof rb === 'object', 'replayBufferKwargs: expected an object { handleTimeoutTermination }');
    for (const k of Object.keys(rb)) check(k === 'handleTimeoutTermination', () => `replayBufferKwargs: unknown key '${k}' (expected handleTimeoutTermination)`);
    check(rb.handleTimeoutTermination === undefined || typeof rb.handleTimeoutTermination === 'boolean',
      () => `replayBufferKwargs.handleTimeoutTermination: expected a boolean, got ${String(rb.handleTimeoutTermination)}`);
    this.handleTimeoutTermination = rb.handleTimeoutTermination ?? true;
    const netArch = checkNetArch(o.policyKwargs?.netArch ?? [64, 64], 'policyKwargs.netArch');
    const act = o.policyKwargs?.activation ?? 'relu';
    const nActions = (this.actionSpace as { n: number }).n;
    this.qNet = mlp(this.obsDim, netArch, nActions, act);
    this.qNetTarget = mlp(this.obsDim, netArch, nActions, act);
    this.qNetTarget.loadStateDict(this.qNet.stateDict());
    this.qNetTarget.eval();
    this.lrSchedule = toSchedule(o.learningRate, 'learningRate');
    this.explorationSchedule = linearSchedule(o.explorationInitialEps, o.explorationFinalEps, o.explorationFraction);
    this.optimizer = new Adam(this.qNet.parameters(), { lr: this.lrSchedule(1) });
    this.replayBuffer = new ReplayBuffer(o.bufferSize, this.obsDim, 1);
    this.sealRng();
  }

  protected modules(): Record<string, Module> {
    return { qNet: this.qNet, qNetTarget: this.qNetTarget };
  }

  protected config(): Record<string, unknown> {
    const { learningRate: _lr, _spaces, ...rest } = this.opts;
    return { ...rest, learningRate: scheduleSpec(this.lrSchedule) };
  }

  /** Greedy actions argmax_a Q(s, a); with deterministic false, each is random with probability explorationRate. */
  protected policyActions(obs: Float32Array, n: number, deterministic: boolean): Float32Array {
    const out = new Float32Array(n);
    const explore = deterministic ? null : Array.from({ length: n }, () => this.rng.random() < this.explorationRate);
    if (explore === null || explore.some((e) => !e)) {
      const greedy = noGrad(() => this.qNet.forward(tensor(obs, { shape: [n, this.obsDim] })).argmax(1).toTypedArray());
      out.set(greedy);
    }
    if (explore) explore.forEach((e, i) => { if (e) out[i] = this.actionSpace.sample(this.rng) as number; });
    return out;
  }

  protected async run(ctx: LearnContext): Promise<void> {
    const o = this.opts, env = this.env!, n = this.nEnvs;
    const targetEvery = Math.max(Math.floor(o.targetUpdateInterval / n), 1);
    let nextLog = this.numTimesteps + o.logInterval;
    while (!ctx.done) {
      let collected = 0;
      // a rollout is always trainFreq steps, as SB3's collect_rollouts: the last one may run past
      // totalTimesteps (50k steps at trainFreq 256 are 196 rollouts, 50 176 steps); only a callback stops it early
      for (let s = 0; s < o.trainFreq && !ctx.stopped; s++) {
        const obs = this.lastObs!;
        // before learningStarts the actions are uniformly random
        const actions = this.numTimesteps < o.learningStarts
          ? Float32Array.from({ length: n }, () => this.actionSpace.sample(this.rng) as number)
          : scope(() => this.policyActions(obs, n, false));
        const [next, rewards, terminated, truncated, infos] = env.step(actions);
        for (let e = 0; e < n; e++) {
          const done = terminated[e] || truncated[e];
          const nextObs = done && infos[e].finalObservation instanceof Float32Array
            ? infos[e].finalObservation as Float32Array : next.subarray(e * this.obsDim, (e + 1) * this.obsDim);
          // a truncated episode still bootstraps from its last state: only termination ends the
          // return (unless handleTimeoutTermination is off: then any episode end does)
          const end = this.handleTimeoutTermination ? terminated[e] : done;
          this.replayBuffer.add(obs.subarray(e * this.obsDim, (e + 1) * this.obsDim), nextObs, [actions[e]], rewards[e], end);
        }
        this.lastObs = next;
        collected += n;
        await ctx.afterStep(rewards, terminated, truncated, infos);
        this.onStepDone();
      }
      if (this.numTimesteps > o.learningStarts && this.replayBuffer.size > 0) {
        this.train(o.gradientSteps === -1 ? collected : o.gradientSteps);
      }
      if (this.numTimesteps >= nextLog || ctx.done) {
        nextLog += o.logInterval;
        await ctx.emit(this.losses.means(), { learningRate: this.optimizer.paramGroups[0].lr, explorationRate: this.explorationRate });
        this.losses.reset();
      }
    }
  }

  /** SB3's _on_step: target update every targetUpdateInterval steps, then the new epsilon. */
  private onStepDone(): void {
    this.nCalls++;
    if (this.nCalls % Math.max(Math.floor(this.opts.targetUpdateInterval / this.nEnvs), 1) === 0) this.updateTarget();
    this.explorationRate = this.explorationSchedule(this.progressRemaining);
  }

  /** target <- tau * online + (1 - tau) * target (tau = 1: a copy). */
  updateTarget(): void {
    const tau = this.opts.tau;
    const src = this.qNet.parameters(), dst = this.qNetTarget.parameters();
    scope(() => noGrad(() => {
      for (let i = 0; i < src.length; i++) {
        if (tau === 1) dst[i].copy_(src[i]);
        else dst[i].mul_(1 - tau).add_(src[i], tau);
      }
    }));
  }

  /** gradientSteps updates on minibatches from the replay buffer; returns their mean loss. */
  train(gradientSteps: number): number {
    const o = this.opts, B = o.batchSize, d = this.obsDim;
    this.optimizer.paramGroups[0].lr = this.lrSchedule(this.progressRemaining);
    const params = this.qNet.parameters();
    let total = 0;
    for (let g = 0; g < gradientSteps; g++) {
      const b = this.replayBuffer.sample(B, this.rng);
      const discount = b.dones.map((done) => (1 - done) * o.gamma);
      const loss = scope(() => {
        const nextObs = tensor(b.nextObs, { shape: [B, d] });
        const target = noGrad(() => {
          const nextQ = this.qNetTarget.forward(nextObs);
          const best = o.doubleQ
            ? nextQ.gather(1, this.qNet.forward(nextObs).argmax(1, true)).reshape([B])
            : nextQ.max(1);
          return best.mul(tensor(discount)).add(tensor(b.rewards));
        });
        const q = this.qNet.forward(tensor(b.obs, { shape: [B, d] }))
          .gather(1, tensor(Int32Array.from(b.actions), { shape: [B, 1] })).reshape([B]);
        const l = smoothL1Loss(q, target);
        this.optimizer.zeroGrad();
        l.backward();
        clipGradNorm(params, o.maxGradNorm);
        this.optimizer.step();
        return l.item();
      });
      this.losses.add('loss', loss);
      total += loss;
      this.nUpdates++;
    }
    return total / gradientSteps;
  }
}
