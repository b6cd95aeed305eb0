/**
 * EvalCallback (Stable-Baselines3's): every evalFreq calls of onStep, evaluates the agent on a
 * separate environment and keeps the best mean return seen, optionally saving that agent. DQN's
 * greedy policy can swing between training phases, so the last policy is not always the best
 * one training passed through; rl-baselines3-zoo's training runs this callback and saves
 * best_model next to the final model.
 */
import { join } from 'node:path';
import { check } from '../errors.js';
import type { BaseAlgorithm, RLCallback } from './common/base.js';
import { type Env, isEnv } from './env.js';
import { evaluatePolicy } from './evaluation.js';

export interface EvalCallbackOptions {
  /** Calls of onStep (vector steps) between evaluations; SB3's eval_freq (default 10000). */
  evalFreq?: number;
  nEvalEpisodes?: number;
  deterministic?: boolean;
  /** A folder: the best agent so far is saved there as best_model.safetensors. */
  bestModelSavePath?: string;
  /** Seeds the evaluation env's first reset (later evaluations continue its generator, as SB3's). */
  seed?: number;
}

export interface Evaluation {
  timesteps: number;
  meanReward: number;
  stdReward: number;
  episodeRewards: number[];
}

const known = ['evalFreq', 'nEvalEpisodes', 'deterministic', 'bestModelSavePath', 'seed'];

export class EvalCallback implements RLCallback {
  readonly evalFreq: number;
  readonly nEvalEpisodes: number;
  readonly deterministic: boolean;
  readonly bestModelSavePath: string | undefined;
  /** Every evaluation so far, in order. */
  readonly evaluations: Evaluation[] = [];
  bestMeanReward = -Infinity;
  /** The timestep of the best evaluation (-1 before the first). */
  bestTimesteps = -1;
  private readonly seed: number | undefined;
  private nCalls = 0;
  private seeded = false;

  constructor(readonly evalEnv: Env, options: EvalCallbackOptions = {}) {
    check(isEnv(evalEnv), 'evalEnv: expected an environment (reset, step, observationSpace, actionSpace)');
    check(options !== null && typeof options === 'object', 'options: expected an object');
    for (const k of Object.keys(options)) check(known.includes(k), () => `options: unknown key '${k}' (expected ${known.join(', ')})`);
    const { evalFreq = 10_000, nEvalEpisodes = 5, deterministic = true, bestModelSavePath, seed } = options;
    check(Number.isInteger(evalFreq) && evalFreq > 0, () => `evalFreq: expected a positive integer, got ${String(evalFreq)}`);
    check(Number.isInteger(nEvalEpisodes) && nEvalEpisodes > 0, () => `nEvalEpisodes: expected a positive integer, got ${String(nEvalEpisodes)}`);
    check(typeof deterministic === 'boolean', () => `deterministic: expected a boolean, got ${String(deterministic)}`);
    check(bestModelSavePath === undefined || (typeof bestModelSavePath === 'string' && bestModelSavePath.length > 0),
      'bestModelSavePath: expected a folder path');
    check(seed === undefined || (Number.isInteger(seed) && seed >= 0), () => `seed: expected a non-negative integer, got ${String(seed)}`);
    this.evalFreq = evalFreq;
    this.nEvalEpisodes = nEvalEpisodes;
    this.deterministic = deterministic;
    this.bestModelSavePath = bestModelSavePath;
    this.seed = seed;
  }

  /** The file the best agent is saved to, if bestModelSavePath was given. */
  get bestModelPath(): string | undefined {
    return this.bestModelSavePath === undefined ? undefined : join(this.bestModelSavePath, 'best_model.safetensors');
  }

  onStep({ agent }: { timesteps: number; agent: BaseAlgorithm }): void | Promise<void> {
    this.nCalls++;
    if (this.nCalls % this.evalFreq !== 0) return;
    const seed = this.seeded ? undefined : this.seed;
    this.seeded = true;
    const r = evaluatePolicy(agent, this.evalEnv, { nEvalEpisodes: this.nEvalEpisodes, deterministic: this.deterministic, seed });
    this.evaluations.push({ timesteps: agent.numTimesteps, meanReward: r.meanReward, stdReward: r.stdReward, episodeRewards: r.episodeRewards });
    // strictly better, as SB3: a tie keeps the earlier agent
    if (r.meanReward > this.bestMeanReward) {
      this.bestMeanReward = r.meanReward;
      this.bestTimesteps = agent.numTimesteps;
      if (this.bestModelPath !== undefined) return this.saveBest(agent, this.bestModelPath);
    }
  }

  private async saveBest(agent: BaseAlgorithm, path: string): Promise<void> {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(this.bestModelSavePath!, { recursive: true });
    await agent.save(path);
  }
}
