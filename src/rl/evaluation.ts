/** evaluatePolicy: mean and standard deviation of the return over nEvalEpisodes episodes. */
import { check } from '../errors.js';
import type { BaseAlgorithm } from './common/base.js';
import { type Env, isEnv } from './env.js';

export interface EvaluateOptions {
  nEvalEpisodes?: number;
  deterministic?: boolean;
  /** Seeds the first reset (later episodes continue the env's generator). */
  seed?: number;
  /** Stops an episode after this many steps if the env has no time limit of its own. */
  maxEpisodeSteps?: number;
}

export interface EvaluateResult {
  meanReward: number;
  /** Population standard deviation (numpy's std, as SB3 reports). */
  stdReward: number;
  episodeRewards: number[];
  episodeLengths: number[];
}

/** Anything with predict(observation, { deterministic }) -> action. */
export interface Predictor {
  predict(observation: Float32Array, opts: { deterministic?: boolean }): number | Float32Array;
}

export function evaluatePolicy(agent: Predictor | BaseAlgorithm, env: Env,
  { nEvalEpisodes = 10, deterministic = true, seed, maxEpisodeSteps = 1_000_000 }: EvaluateOptions = {}): EvaluateResult {
  check(agent !== null && typeof agent === 'object' && typeof (agent as Predictor).predict === 'function', 'agent: expected an agent with predict()');
  check(isEnv(env), 'env: expected an environment (reset, step, observationSpace, actionSpace)');
  check(Number.isInteger(nEvalEpisodes) && nEvalEpisodes > 0, () => `nEvalEpisodes: expected a positive integer, got ${String(nEvalEpisodes)}`);
  const episodeRewards: number[] = [], episodeLengths: number[] = [];
  for (let ep = 0; ep < nEvalEpisodes; ep++) {
    let [obs] = env.reset(ep === 0 && seed !== undefined ? { seed } : {});
    let total = 0, len = 0;
    for (;;) {
      const [next, r, terminated, truncated] = env.step(agent.predict(obs, { deterministic }));
      total += r;
      len++;
      obs = next;
      if (terminated || truncated || len >= maxEpisodeSteps) break;
    }
    episodeRewards.push(total);
    episodeLengths.push(len);
  }
  const mean = episodeRewards.reduce((a, b) => a + b, 0) / nEvalEpisodes;
  const std = Math.sqrt(episodeRewards.reduce((a, b) => a + (b - mean) ** 2, 0) / nEvalEpisodes);
  return { meanReward: mean, stdReward: std, episodeRewards, episodeLengths };
}
