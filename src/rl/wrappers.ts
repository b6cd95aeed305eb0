/** Gymnasium's wrappers: Wrapper (delegation), TimeLimit, RecordEpisodeStatistics. */
import { check } from '../errors.js';
import { type Action, type Env, type Info, type ResetOptions, type StepResult, isEnv } from './env.js';
import type { Space } from './spaces.js';

export class Wrapper implements Env {
  constructor(readonly env: Env) {
    check(isEnv(env), 'env: expected an environment (reset, step, observationSpace, actionSpace)');
  }
  get observationSpace(): Space {
    return this.env.observationSpace;
  }
  get actionSpace(): Space {
    return this.env.actionSpace;
  }
  /** The innermost environment. */
  get unwrapped(): Env {
    let e: Env = this.env;
    while (e instanceof Wrapper) e = e.env;
    return e;
  }
  reset(options?: ResetOptions): [Float32Array, Info] {
    return this.env.reset(options);
  }
  step(action: Action): StepResult {
    return this.env.step(action);
  }
  close(): void {
    this.env.close();
  }
}

/** Truncates an episode after maxEpisodeSteps steps (truncated = true, terminated unchanged). */
export class TimeLimit extends Wrapper {
  private elapsed = 0;
  constructor(env: Env, readonly maxEpisodeSteps: number) {
    super(env);
    check(Number.isInteger(maxEpisodeSteps) && maxEpisodeSteps > 0,
      () => `maxEpisodeSteps: expected a positive integer, got ${String(maxEpisodeSteps)}`);
  }
  override reset(options?: ResetOptions): [Float32Array, Info] {
    this.elapsed = 0;
    return this.env.reset(options);
  }
  override step(action: Action): StepResult {
    const r = this.env.step(action);
    this.elapsed++;
    if (this.elapsed >= this.maxEpisodeSteps) r[3] = true;
    return r;
  }
}

export interface EpisodeStats {
  /** Return (sum of rewards), length in steps, and seconds since the episode's reset. */
  r: number;
  l: number;
  t: number;
}

/** Adds info.episode = { r, l, t } at the end of each episode, and keeps the last `dequeSize`. */
export class RecordEpisodeStatistics extends Wrapper {
  private ret = 0;
  private len = 0;
  private start = 0;
  readonly returnQueue: number[] = [];
  readonly lengthQueue: number[] = [];
  episodeCount = 0;

  constructor(env: Env, readonly dequeSize = 100) {
    super(env);
  }
  override reset(options?: ResetOptions): [Float32Array, Info] {
    this.ret = 0;
    this.len = 0;
    this.start = performance.now();
    return this.env.reset(options);
  }
  override step(action: Action): StepResult {
    const r = this.env.step(action);
    this.ret += r[1];
    this.len++;
    if (r[2] || r[3]) {
      const episode: EpisodeStats = { r: this.ret, l: this.len, t: (performance.now() - this.start) / 1000 };
      r[4] = { ...r[4], episode };
      this.returnQueue.push(this.ret);
      this.lengthQueue.push(this.len);
      if (this.returnQueue.length > this.dequeSize) {
        this.returnQueue.shift();
        this.lengthQueue.shift();
      }
      this.episodeCount++;
    }
    return r;
  }
}
