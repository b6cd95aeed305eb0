/**
 * VecNormalize (Stable-Baselines3's): observations scaled by a running mean and variance, and
 * rewards by the running standard deviation of the discounted return, each clipped.
 * Statistics are float64 and updated only while `training` is true (set it false to evaluate).
 */
import { check } from '../errors.js';
import type { Info } from './env.js';
import { flatSize } from './spaces.js';
import type { VecStepResult, VectorEnv } from './vec-env.js';

/** Running mean and variance of vectors of `size`, merged batch by batch (Chan et al.). */
export class RunningMeanStd {
  mean: Float64Array;
  var: Float64Array;
  count: number;
  constructor(readonly size: number, epsilon = 1e-4) {
    this.mean = new Float64Array(size);
    this.var = new Float64Array(size).fill(1);
    this.count = epsilon;
  }
  /** x holds `n` rows of `size` values. */
  update(x: ArrayLike<number>, n: number): void {
    const d = this.size;
    const bMean = new Float64Array(d), bVar = new Float64Array(d);
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) bMean[k] += x[i * d + k] / n;
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) bVar[k] += (x[i * d + k] - bMean[k]) ** 2 / n;
    const total = this.count + n;
    for (let k = 0; k < d; k++) {
      const delta = bMean[k] - this.mean[k];
      const m2 = this.var[k] * this.count + bVar[k] * n + (delta * delta * this.count * n) / total;
      this.mean[k] += (delta * n) / total;
      this.var[k] = m2 / total;
    }
    this.count = total;
  }
}

export interface VecNormalizeOptions {
  training?: boolean;
  normObs?: boolean;
  normReward?: boolean;
  clipObs?: number;
  clipReward?: number;
  /** Discount of the return whose spread scales the rewards. */
  gamma?: number;
  epsilon?: number;
}

export class VecNormalize implements VectorEnv {
  readonly numEnvs: number;
  readonly obsRms: RunningMeanStd;
  readonly retRms = new RunningMeanStd(1);
  training: boolean;
  readonly normObs: boolean;
  readonly normReward: boolean;
  readonly clipObs: number;
  readonly clipReward: number;
  readonly gamma: number;
  readonly epsilon: number;
  private returns: Float64Array;
  private oldObs: Float32Array = new Float32Array(0);
  private oldRewards: Float64Array = new Float64Array(0);

  constructor(readonly venv: VectorEnv, opts: VecNormalizeOptions = {}) {
    this.numEnvs = venv.numEnvs;
    this.training = opts.training ?? true;
    this.normObs = opts.normObs ?? true;
    this.normReward = opts.normReward ?? true;
    this.clipObs = opts.clipObs ?? 10;
    this.clipReward = opts.clipReward ?? 10;
    this.gamma = opts.gamma ?? 0.99;
    this.epsilon = opts.epsilon ?? 1e-8;
    for (const k of ['clipObs', 'clipReward', 'epsilon'] as const) check(this[k] > 0, () => `${k}: expected a positive number, got ${this[k]}`);
    check(this.gamma >= 0 && this.gamma <= 1, () => `gamma: expected a number in [0, 1], got ${this.gamma}`);
    check(venv.singleObservationSpace.kind === 'box' || !this.normObs, 'normObs: needs a Box observation space');
    this.obsRms = new RunningMeanStd(flatSize(venv.singleObservationSpace));
    this.returns = new Float64Array(this.numEnvs);
  }
  get singleObservationSpace() {
    return this.venv.singleObservationSpace;
  }
  get singleActionSpace() {
    return this.venv.singleActionSpace;
  }

  reset(options?: { seed?: number }): [Float32Array, Info[]] {
    const [obs, infos] = this.venv.reset(options);
    this.oldObs = obs;
    this.returns.fill(0);
    if (this.training && this.normObs) this.obsRms.update(obs, this.numEnvs);
    return [this.normalizeObs(obs), infos];
  }

  step(actions: ArrayLike<number>): VecStepResult {
    const [obs, rewards, terminated, truncated, infos] = this.venv.step(actions);
    this.oldObs = obs;
    this.oldRewards = rewards;
    if (this.training && this.normObs) this.obsRms.update(obs, this.numEnvs);
    const outInfos = infos.map((info) =>
      info.finalObservation instanceof Float32Array ? { ...info, finalObservation: this.normalizeObs(info.finalObservation) } : info);
    if (this.training && this.normReward) {
      for (let i = 0; i < this.numEnvs; i++) this.returns[i] = this.returns[i] * this.gamma + rewards[i];
      this.retRms.update(this.returns, this.numEnvs);
    }
    const outRewards = this.normalizeReward(rewards);
    for (let i = 0; i < this.numEnvs; i++) if (terminated[i] || truncated[i]) this.returns[i] = 0;
    return [this.normalizeObs(obs), outRewards, terminated, truncated, outInfos];
  }

  /** clip((obs - mean) / sqrt(var + eps), -clipObs, clipObs), per element; rows of obsSize. */
  normalizeObs(obs: Float32Array): Float32Array {
    if (!this.normObs) return obs;
    const d = this.obsRms.size, out = new Float32Array(obs.length);
    for (let i = 0; i < obs.length; i++) {
      const k = i % d;
      const z = (obs[i] - this.obsRms.mean[k]) / Math.sqrt(this.obsRms.var[k] + this.epsilon);
      out[i] = Math.min(Math.max(z, -this.clipObs), this.clipObs);
    }
    return out;
  }

  normalizeReward(rewards: Float64Array): Float64Array {
    if (!this.normReward) return rewards;
    const s = Math.sqrt(this.retRms.var[0] + this.epsilon);
    return rewards.map((r) => Math.min(Math.max(r / s, -this.clipReward), this.clipReward));
  }

  /** The observations and rewards of the last step before normalisation. */
  getOriginalObs(): Float32Array {
    return this.oldObs;
  }
  getOriginalReward(): Float64Array {
    return this.oldRewards;
  }

  /** The statistics as plain numbers (for a checkpoint). */
  stateDict(): Record<string, number[] | number> {
    return {
      obsMean: Array.from(this.obsRms.mean), obsVar: Array.from(this.obsRms.var), obsCount: this.obsRms.count,
      retMean: Array.from(this.retRms.mean), retVar: Array.from(this.retRms.var), retCount: this.retRms.count,
    };
  }
  loadStateDict(s: Record<string, any>): void {
    check(s !== null && typeof s === 'object' && Array.isArray(s.obsMean) && s.obsMean.length === this.obsRms.size,
      () => `state: expected VecNormalize statistics for ${this.obsRms.size} observation values`);
    this.obsRms.mean = Float64Array.from(s.obsMean);
    this.obsRms.var = Float64Array.from(s.obsVar);
    this.obsRms.count = s.obsCount;
    this.retRms.mean = Float64Array.from(s.retMean);
    this.retRms.var = Float64Array.from(s.retVar);
    this.retRms.count = s.retCount;
  }

  close(): void {
    this.venv.close();
  }
}
