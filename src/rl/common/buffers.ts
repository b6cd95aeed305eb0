/**
 * Host-side buffers. Transitions live in flat typed arrays and a sampled batch is copied into
 * reused arrays, so building a batch costs one tensor() write per field instead of per-row ops.
 */
import { check } from '../../errors.js';
import type { Rng } from '../rng.js';

export interface ReplayBatch {
  obs: Float32Array;
  nextObs: Float32Array;
  /** Discrete: action indices; Box: actDim values per row. */
  actions: Float32Array;
  rewards: Float32Array;
  /** 1 where the episode terminated (not truncated) at this transition. */
  dones: Float32Array;
  indices: Int32Array;
}

/** A ring buffer of bufferSize transitions (s, a, r, s', terminated), sampled uniformly with replacement. */
export class ReplayBuffer {
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly actions: Float32Array;
  readonly rewards: Float32Array;
  readonly dones: Float32Array;
  pos = 0;
  full = false;
  private batch: ReplayBatch | null = null;

  constructor(readonly bufferSize: number, readonly obsDim: number, readonly actDim: number) {
    check(Number.isInteger(bufferSize) && bufferSize > 0, () => `bufferSize: expected a positive integer, got ${String(bufferSize)}`);
    this.obs = new Float32Array(bufferSize * obsDim);
    this.nextObs = new Float32Array(bufferSize * obsDim);
    this.actions = new Float32Array(bufferSize * actDim);
    this.rewards = new Float32Array(bufferSize);
    this.dones = new Float32Array(bufferSize);
  }

  get size(): number {
    return this.full ? this.bufferSize : this.pos;
  }

  add(obs: ArrayLike<number>, nextObs: ArrayLike<number>, action: ArrayLike<number>, reward: number, done: boolean): void {
    const i = this.pos, d = this.obsDim, a = this.actDim;
    for (let k = 0; k < d; k++) {
      this.obs[i * d + k] = obs[k];
      this.nextObs[i * d + k] = nextObs[k];
    }
    for (let k = 0; k < a; k++) this.actions[i * a + k] = action[k];
    this.rewards[i] = reward;
    this.dones[i] = done ? 1 : 0;
    this.pos++;
    if (this.pos === this.bufferSize) {
      this.pos = 0;
      this.full = true;
    }
  }

  /** batchSize transitions drawn uniformly (with replacement) from those stored. */
  sample(batchSize: number, rng: Rng): ReplayBatch {
    const n = this.size;
    check(n > 0, 'sample: the replay buffer is empty');
    const d = this.obsDim, a = this.actDim;
    let b = this.batch;
    if (b === null || b.rewards.length !== batchSize) {
      b = this.batch = {
        obs: new Float32Array(batchSize * d), nextObs: new Float32Array(batchSize * d), actions: new Float32Array(batchSize * a),
        rewards: new Float32Array(batchSize), dones: new Float32Array(batchSize), indices: new Int32Array(batchSize),
      };
    }
    for (let j = 0; j < batchSize; j++) {
      const i = rng.integer(n);
      b.indices[j] = i;
      b.obs.set(this.obs.subarray(i * d, i * d + d), j * d);
      b.nextObs.set(this.nextObs.subarray(i * d, i * d + d), j * d);
      for (let k = 0; k < a; k++) b.actions[j * a + k] = this.actions[i * a + k];
      b.rewards[j] = this.rewards[i];
      b.dones[j] = this.dones[i];
    }
    return b;
  }
}

/**
 * Generalised advantage estimation over a rollout stored step-major ([nSteps, nEnvs]):
 *   delta_t = r_t + gamma V(s_{t+1}) (1 - start_{t+1}) - V(s_t)
 *   A_t = delta_t + gamma lambda (1 - start_{t+1}) A_{t+1},   returns_t = A_t + V(s_t)
 * where start_{t+1} marks that s_{t+1} begins a new episode, and the step after the last uses
 * lastValues and lastDones. lambda = 1 gives Monte Carlo returns bootstrapped at the end.
 */
export function computeGae(rewards: ArrayLike<number>, values: ArrayLike<number>, episodeStarts: ArrayLike<number>,
  lastValues: ArrayLike<number>, lastDones: ArrayLike<number>, gamma: number, lambda: number, nSteps: number, nEnvs: number,
): { advantages: Float64Array; returns: Float64Array } {
  const advantages = new Float64Array(nSteps * nEnvs);
  const returns = new Float64Array(nSteps * nEnvs);
  for (let e = 0; e < nEnvs; e++) {
    let last = 0;
    for (let t = nSteps - 1; t >= 0; t--) {
      const i = t * nEnvs + e;
      const nextNonTerminal = t === nSteps - 1 ? 1 - lastDones[e] : 1 - episodeStarts[i + nEnvs];
      const nextValue = t === nSteps - 1 ? lastValues[e] : values[i + nEnvs];
      const delta = rewards[i] + gamma * nextValue * nextNonTerminal - values[i];
      last = delta + gamma * lambda * nextNonTerminal * last;
      advantages[i] = last;
      returns[i] = last + values[i];
    }
  }
  return { advantages, returns };
}

/** One on-policy rollout: nSteps steps of nEnvs envs, step-major. */
export class RolloutBuffer {
  readonly obs: Float32Array;
  readonly actions: Float32Array;
  readonly rewards: Float64Array;
  readonly episodeStarts: Float64Array;
  readonly values: Float64Array;
  readonly logProbs: Float64Array;
  advantages: Float64Array = new Float64Array(0);
  returns: Float64Array = new Float64Array(0);
  pos = 0;

  constructor(readonly nSteps: number, readonly nEnvs: number, readonly obsDim: number, readonly actDim: number) {
    const n = nSteps * nEnvs;
    this.obs = new Float32Array(n * obsDim);
    this.actions = new Float32Array(n * actDim);
    this.rewards = new Float64Array(n);
    this.episodeStarts = new Float64Array(n);
    this.values = new Float64Array(n);
    this.logProbs = new Float64Array(n);
  }

  get size(): number {
    return this.nSteps * this.nEnvs;
  }

  reset(): void {
    this.pos = 0;
  }

  /** One step of every env: obs [nEnvs*obsDim], actions [nEnvs*actDim], the rest [nEnvs]. */
  add(obs: Float32Array, actions: ArrayLike<number>, rewards: ArrayLike<number>, episodeStarts: ArrayLike<number>,
    values: ArrayLike<number>, logProbs: ArrayLike<number>): void {
    check(this.pos < this.nSteps, 'add: the rollout buffer is full');
    const n = this.nEnvs, base = this.pos * n;
    this.obs.set(obs, base * this.obsDim);
    for (let k = 0; k < n * this.actDim; k++) this.actions[base * this.actDim + k] = actions[k];
    for (let e = 0; e < n; e++) {
      this.rewards[base + e] = rewards[e];
      this.episodeStarts[base + e] = episodeStarts[e];
      this.values[base + e] = values[e];
      this.logProbs[base + e] = logProbs[e];
    }
    this.pos++;
  }

  computeReturnsAndAdvantage(lastValues: ArrayLike<number>, lastDones: ArrayLike<number>, gamma: number, lambda: number): void {
    const r = computeGae(this.rewards, this.values, this.episodeStarts, lastValues, lastDones, gamma, lambda, this.nSteps, this.nEnvs);
    this.advantages = r.advantages;
    this.returns = r.returns;
  }
}
