/**
 * BaseAlgorithm: what every agent shares — turning the env argument into a vector environment,
 * seeding, learn()'s bookkeeping (timesteps, episodes, callbacks, progress bar, log records,
 * report), predict(), save() and load(). Each algorithm writes only its own loop and update.
 */
import { type RngState, getRngState, manualSeed, setRngState } from '../../random.js';
import { KilnError, check } from '../../errors.js';
import { load as loadFile, save as saveFile } from '../../io/index.js';
import { scope } from '../../memory.js';
import type { Module } from '../../nn/module.js';
import { Tensor } from '../../tensor.js';
import { type Env, type Info, isEnv } from '../env.js';
import { make } from '../registry.js';
import { Rng } from '../rng.js';
import { type Space, flatSize, spaceFromJSON } from '../spaces.js';
import { SyncVectorEnv, type VectorEnv, isVectorEnv } from '../vec-env.js';
import { VecNormalize } from '../vec-normalize.js';
import { RecordEpisodeStatistics } from '../wrappers.js';
import { writeLearningCurve } from '../report.js';
import { EpisodeTracker, type EpisodeRecord, type LogRecord, LossMeter, type TrainingLog } from './logger.js';
import { ProgressBar } from './progress.js';

type Maybe<T> = T | Promise<T>;

/** Hooks learn() calls; any may be async. Returning 'stop' (or false from onStep) ends learn() early. */
export interface RLCallback {
  onTrainingStart?(agent: BaseAlgorithm): Maybe<void>;
  /** After every step of the (vector) environment. */
  onStep?(info: { timesteps: number; agent: BaseAlgorithm }): Maybe<void | boolean | 'stop'>;
  onEpisodeEnd?(episode: EpisodeRecord): Maybe<void | 'stop'>;
  /** After each iteration (a rollout and its update; for DQN every logInterval steps). */
  onLog?(record: LogRecord): Maybe<void | 'stop'>;
  onTrainingEnd?(log: TrainingLog): Maybe<void>;
}

export interface LearnOptions {
  totalTimesteps: number;
  callback?: RLCallback | RLCallback[];
  /** A bar on a terminal (a line per tenth of training elsewhere); default false. */
  progressBar?: boolean;
  /** Restart the timestep count and the log (default true); false continues a previous learn(). */
  resetNumTimesteps?: boolean;
  /** Writes an HTML report with the learning curve to this path at the end. */
  report?: string;
  /** Where the progress bar writes (default process.stdout). */
  write?: (text: string) => void;
}

export interface PolicyKwargs {
  /** Hidden layer widths; { pi, vf } gives the actor and critic their own (on-policy agents). */
  netArch?: number[] | { pi: number[]; vf: number[] };
  activation?: 'relu' | 'tanh';
  orthoInit?: boolean;
  /** Initial log standard deviation of a Gaussian policy. */
  logStdInit?: number;
  /** Generalised state-dependent exploration for Box actions (set by the agents' useSde option). */
  useSde?: boolean;
}

export interface CommonOptions {
  seed?: number;
  /** Copies of the environment when env is an id (default 1). */
  nEnvs?: number;
  policyKwargs?: PolicyKwargs;
  /** @internal the spaces of a loaded agent that has no environment */
  _spaces?: { observationSpace: any; actionSpace: any };
}

export type EnvArg = Env | VectorEnv | string | null;

function toVectorEnv(env: Env | VectorEnv | string, nEnvs: number | undefined): VectorEnv {
  if (typeof env === 'string') {
    return new SyncVectorEnv(Array.from({ length: nEnvs ?? 1 }, () => () => new RecordEpisodeStatistics(make(env))));
  }
  if (isVectorEnv(env)) return env;
  check(isEnv(env), 'env: expected an environment, a vector environment or a registered id such as "CartPole-v1"');
  check(nEnvs === undefined || nEnvs === 1, () => `nEnvs: ${nEnvs} copies need env given as an id or a VectorEnv`);
  return new SyncVectorEnv([env]);
}

export abstract class BaseAlgorithm {
  abstract readonly algo: string;
  readonly env: VectorEnv | null;
  readonly nEnvs: number;
  readonly observationSpace: Space;
  readonly actionSpace: Space;
  readonly obsDim: number;
  /** Numbers per action: 1 for Discrete. */
  readonly actDim: number;
  readonly discrete: boolean;
  readonly seed: number;
  protected readonly rng: Rng;
  numTimesteps = 0;
  log: TrainingLog = { episodes: [], records: [] };
  /** The step count at which the learn() in progress ends (schedules read progressRemaining from it). */
  totalTimesteps = 1;
  protected lastObs: Float32Array | null = null;
  /** 1 where the last observation starts a new episode. */
  protected lastEpisodeStarts: Float64Array;
  protected readonly losses = new LossMeter();
  /** This agent's position in Kiln's generator: swapped in while it works, so agents do not disturb each other. */
  private rngState: RngState;

  constructor(env: EnvArg, opts: CommonOptions) {
    check(opts !== null && typeof opts === 'object', 'options: expected an object');
    check(opts.nEnvs === undefined || (Number.isInteger(opts.nEnvs) && opts.nEnvs > 0), () => `nEnvs: expected a positive integer, got ${String(opts.nEnvs)}`);
    this.env = env === null ? null : toVectorEnv(env, opts.nEnvs);
    if (this.env) {
      this.observationSpace = this.env.singleObservationSpace;
      this.actionSpace = this.env.singleActionSpace;
    } else {
      check(opts._spaces !== undefined, 'env: needed (an agent without one can only be made by load())');
      this.observationSpace = spaceFromJSON(opts._spaces.observationSpace);
      this.actionSpace = spaceFromJSON(opts._spaces.actionSpace);
    }
    check(this.observationSpace.kind === 'box', 'env: expected a Box observation space (a flat Float32Array per observation)');
    this.nEnvs = this.env?.numEnvs ?? 1;
    this.obsDim = flatSize(this.observationSpace);
    this.discrete = this.actionSpace.kind === 'discrete';
    this.actDim = flatSize(this.actionSpace);
    this.seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    check(Number.isInteger(this.seed) && this.seed >= 0, () => `seed: expected a non-negative integer, got ${String(opts.seed)}`);
    // Kiln's generator is global: the agent draws from its own stream (seeded here, used for the
    // networks' initialisation and tensor-side sampling) and swaps it in only while it works
    this.rngState = getRngState();
    manualSeed(this.seed);
    this.rng = new Rng(this.seed);
    this.lastEpisodeStarts = new Float64Array(this.nEnvs).fill(1);
  }

  /** Subclasses call this at the end of their constructor: the stream moves past the initialisation. */
  protected sealRng(): void {
    const outer = this.rngState;
    this.rngState = getRngState();
    setRngState(outer);
  }

  /** @internal Puts the agent's stream in Kiln's generator; returns the one it replaced. */
  _swapRngIn(): RngState {
    const outer = getRngState();
    setRngState(this.rngState);
    return outer;
  }
  /** @internal Saves the agent's stream and restores `outer`. */
  _swapRngOut(outer: RngState): void {
    this.rngState = getRngState();
    setRngState(outer);
  }

  /** The agent's modules, saved by name. */
  protected abstract modules(): Record<string, Module>;
  /** Hyperparameters as given to the constructor (plain data, saved with the weights). */
  protected abstract config(): Record<string, unknown>;
  /** Actions for n observations [n * obsDim]: indices for Discrete, raw (unclipped) values for Box. */
  protected abstract policyActions(obs: Float32Array, n: number, deterministic: boolean): Float32Array;
  /** The algorithm's loop; calls ctx.afterStep after each env step and ctx.emit after each update. */
  protected abstract run(ctx: LearnContext): Promise<void>;

  /** 1 at the start of learn(), 0 at its end. */
  get progressRemaining(): number {
    return Math.max(0, 1 - this.numTimesteps / this.totalTimesteps);
  }

  async learn(opts: LearnOptions): Promise<this> {
    check(opts !== null && typeof opts === 'object', 'options: expected { totalTimesteps, ... }');
    const { totalTimesteps, resetNumTimesteps = true } = opts;
    check(Number.isInteger(totalTimesteps) && totalTimesteps > 0, () => `totalTimesteps: expected a positive integer, got ${String(totalTimesteps)}`);
    check(this.env !== null, 'learn: this agent has no environment (pass one to load(path, { env }))');
    const callbacks = opts.callback === undefined ? [] : Array.isArray(opts.callback) ? opts.callback : [opts.callback];
    callbacks.forEach((c, i) => check(c !== null && typeof c === 'object', () => `callback[${i}]: expected an object of hooks`));
    if (resetNumTimesteps || this.lastObs === null) {
      this.numTimesteps = resetNumTimesteps ? 0 : this.numTimesteps;
      if (resetNumTimesteps) this.log = { episodes: [], records: [] };
      const [obs] = this.env.reset({ seed: this.lastObs === null ? this.seed : undefined });
      this.lastObs = obs;
      this.lastEpisodeStarts.fill(1);
    }
    this.totalTimesteps = (resetNumTimesteps ? 0 : this.numTimesteps) + totalTimesteps;
    const write = opts.write ?? ((s: string) => process.stdout.write(s));
    const bar = opts.progressBar ? new ProgressBar(this.totalTimesteps, write, opts.write === undefined && process.stdout.isTTY === true) : null;
    const ctx = new LearnContext(this, callbacks, bar);
    for (const c of callbacks) await c.onTrainingStart?.(this);
    ctx.outer = this._swapRngIn();
    try {
      await this.run(ctx);
    } finally {
      this._swapRngOut(ctx.outer);
    }
    bar?.end();
    if (opts.report) await writeLearningCurve(opts.report, this.log, `${this.algo} learning curve`);
    for (const c of callbacks) await c.onTrainingEnd?.(this.log);
    return this;
  }

  /** The action for one observation: an integer (Discrete) or a Float32Array clipped to the Box. */
  predict(observation: ArrayLike<number>, { deterministic = false } = {}): number | Float32Array {
    check(observation !== null && typeof observation === 'object' && observation.length === this.obsDim,
      () => `observation: expected ${this.obsDim} numbers, got ${String((observation as any)?.length ?? observation)}`);
    const a = this.predictBatch(observation, { deterministic });
    return this.discrete ? a[0] : (a as Float32Array);
  }

  /** Actions for several observations packed as [n * obsDim]: Int32Array (Discrete) or Float32Array [n * actDim]. */
  predictBatch(observations: ArrayLike<number>, { deterministic = false } = {}): Int32Array | Float32Array {
    check(observations !== null && typeof observations === 'object' && observations.length > 0 && observations.length % this.obsDim === 0,
      () => `observations: expected a multiple of ${this.obsDim} numbers`);
    let obs: Float32Array = Float32Array.from(observations);
    if (this.env instanceof VecNormalize) obs = this.env.normalizeObs(obs);
    const n = obs.length / this.obsDim;
    const outer = this._swapRngIn();
    let raw: Float32Array;
    try {
      raw = scope(() => this.policyActions(obs, n, deterministic));
    } finally {
      this._swapRngOut(outer);
    }
    return this.discrete ? Int32Array.from(raw) : this.clipActions(raw);
  }

  /** Box actions clipped to the space's bounds (the env sees these; the buffer keeps the raw ones). */
  protected clipActions(raw: Float32Array): Float32Array {
    if (this.actionSpace.kind !== 'box') return raw;
    const { low, high } = this.actionSpace, d = this.actDim;
    return raw.map((v, i) => Math.min(Math.max(v, low[i % d]), high[i % d]));
  }

  async save(path: string): Promise<void> {
    check(typeof path === 'string' && path.length > 0, 'path: expected a file path');
    const modules: Record<string, Record<string, Tensor>> = {};
    for (const [k, m] of Object.entries(this.modules())) modules[k] = m.stateDict();
    await saveFile({
      algo: this.algo, format: 1, config: { ...this.config(), seed: this.seed },
      observationSpace: this.observationSpace.toJSON(), actionSpace: this.actionSpace.toJSON(),
      numTimesteps: this.numTimesteps, modules,
      vecNormalize: this.env instanceof VecNormalize ? this.env.stateDict() : null,
    } as any, path);
  }

  /** Reads save()'s file into a new agent (env optional: without one it can predict but not learn). */
  static async load<T extends BaseAlgorithm>(this: new (env: EnvArg, opts: any) => T, path: string, { env = null }: { env?: EnvArg } = {}): Promise<T> {
    const data = (await loadFile(path)) as any;
    try {
      check(data !== null && typeof data === 'object' && typeof data.algo === 'string', () => `path: ${path} is not an agent saved by save()`);
      const agent = new this(env, { ...data.config, _spaces: { observationSpace: data.observationSpace, actionSpace: data.actionSpace } });
      if (data.algo !== agent.algo) throw new KilnError(`path: ${path} holds a ${data.algo} agent, not a ${agent.algo}`);
      for (const [k, m] of Object.entries(agent.modules())) {
        check(data.modules?.[k] !== undefined, () => `path: ${path} has no weights for '${k}'`);
        m.loadStateDict(data.modules[k]);
      }
      agent.numTimesteps = data.numTimesteps ?? 0;
      if (data.vecNormalize && agent.env instanceof VecNormalize) agent.env.loadStateDict(data.vecNormalize);
      return agent;
    } finally {
      disposeTree(data);
    }
  }
}

function disposeTree(v: unknown): void {
  if (v instanceof Tensor) v.dispose();
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) disposeTree(x);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** learn()'s shared bookkeeping, handed to each algorithm's loop. */
export class LearnContext {
  readonly tracker: EpisodeTracker;
  readonly start = performance.now();
  stopped = false;
  /** Kiln's generator state outside the agent (restored while learn() waits on the event loop). */
  outer: RngState = getRngState();
  private readonly startSteps: number;

  constructor(private readonly agent: BaseAlgorithm, private readonly callbacks: RLCallback[], private readonly bar: ProgressBar | null) {
    this.tracker = new EpisodeTracker(agent.nEnvs, agent.log);
    this.startSteps = agent.numTimesteps;
  }

  get done(): boolean {
    return this.stopped || this.agent.numTimesteps >= this.agent.totalTimesteps;
  }

  /** Counts one vector step, records finished episodes, runs onStep/onEpisodeEnd. */
  async afterStep(rewards: ArrayLike<number>, terminated: boolean[], truncated: boolean[], _infos: Info[]): Promise<void> {
    const a = this.agent;
    a.numTimesteps += a.nEnvs;
    const raw = a.env instanceof VecNormalize ? a.env.getOriginalReward() : rewards;
    const ended = this.tracker.step(raw, terminated, truncated, a.numTimesteps);
    for (const c of this.callbacks) {
      if (c.onStep) {
        let r = c.onStep({ timesteps: a.numTimesteps, agent: a });
        if (r instanceof Promise) r = await this.awaitOutside(r);
        if (r === false || r === 'stop') this.stopped = true;
      }
      if (c.onEpisodeEnd) {
        for (const ep of ended) {
          let r = c.onEpisodeEnd(ep);
          if (r instanceof Promise) r = await this.awaitOutside(r);
          if (r === 'stop') this.stopped = true;
        }
      }
    }
    if (this.bar) this.bar.update(a.numTimesteps, { episodeReturnMean: this.tracker.recentMeans()[0] }, this.seconds());
  }

  seconds(): number {
    return (performance.now() - this.start) / 1000;
  }

  /** Appends a log record with the iteration's mean losses, runs onLog, and yields to the event loop. */
  async emit(losses: Record<string, number>, extra: Partial<LogRecord> = {}): Promise<void> {
    const a = this.agent;
    const [ret, len] = this.tracker.recentMeans();
    const seconds = this.seconds();
    const rec: LogRecord = {
      timesteps: a.numTimesteps, episodes: a.log.episodes.length, episodeReturnMean: ret, episodeLengthMean: len,
      fps: (a.numTimesteps - this.startSteps) / Math.max(seconds, 1e-9), seconds, losses, ...extra,
    };
    a.log.records.push(rec);
    for (const c of this.callbacks) if ((await this.awaitOutside(c.onLog?.(rec))) === 'stop') this.stopped = true;
    await this.awaitOutside(yieldToEventLoop());
  }

  /** Awaits with the agent's generator stream swapped out, so other code that runs meanwhile does not draw from it. */
  private async awaitOutside<T>(p: T | Promise<T>): Promise<T> {
    if (!(p instanceof Promise)) return p;
    this.agent._swapRngOut(this.outer);
    try {
      return await p;
    } finally {
      this.outer = this.agent._swapRngIn();
    }
  }
}
