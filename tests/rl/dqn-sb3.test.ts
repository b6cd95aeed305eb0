// DQN's bookkeeping checked against Stable-Baselines3's code (dqn.py, off_policy_algorithm.py,
// buffers.py): what a time-limit truncation stores, the epsilon before the first step, the
// gradient steps of gradientSteps -1 and the target copies with several envs.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { rl } = kiln;

/**
 * Observation [10 * episode + t]; episode 0 is cut by a time limit after 5 steps (truncated),
 * episode 1 ends by itself after 3 (terminated), and so on alternately.
 */
class CountingEnv implements kiln.rl.Env {
  readonly observationSpace = new rl.Box([0], [1000]);
  readonly actionSpace = new rl.Discrete(2);
  private episode = -1;
  private t = 0;
  reset(): [Float32Array, kiln.rl.Info] {
    this.episode++;
    this.t = 0;
    return [this.obs(), {}];
  }
  step(): kiln.rl.StepResult {
    this.t++;
    const cut = this.episode % 2 === 0;
    return [this.obs(), 1, !cut && this.t === 3, cut && this.t === 5, {}];
  }
  close(): void {}
  private obs(): Float32Array {
    return Float32Array.of(10 * this.episode + this.t);
  }
}

async function fill(options: kiln.rl.DQNOptions = {}) {
  const agent = new rl.DQN(new CountingEnv(), { seed: 0, learningStarts: 100, trainFreq: 1, policyKwargs: { netArch: [4] }, ...options });
  await agent.learn({ totalTimesteps: 8 });
  const b = agent.replayBuffer;
  return { obs: Array.from(b.obs.subarray(0, 8)), next: Array.from(b.nextObs.subarray(0, 8)), dones: Array.from(b.dones.subarray(0, 8)) };
}

describe('DQN against SB3: replay contents at episode ends', () => {
  it('a truncated transition keeps its last observation as s\' and is not terminal (handle_timeout_termination)', async () => {
    const { obs, next, dones } = await fill();
    expect(obs).toEqual([0, 1, 2, 3, 4, 10, 11, 12]);
    // s' of the cut step is the final observation 5, not the next episode's first (10)
    expect(next).toEqual([1, 2, 3, 4, 5, 11, 12, 13]);
    expect(dones).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('handleTimeoutTermination false stores the cut as terminal, as SB3 before 1.1.0', async () => {
    const { next, dones } = await fill({ replayBufferKwargs: { handleTimeoutTermination: false } });
    expect(next).toEqual([1, 2, 3, 4, 5, 11, 12, 13]);
    expect(dones).toEqual([0, 0, 0, 0, 1, 0, 0, 1]);
  });
});

describe('DQN against SB3: schedules and counts', () => {
  it('epsilon is 0 until the first step of learn() (SB3 sets exploration_rate = 0.0), so learningStarts 0 acts greedily first', async () => {
    const agent = new rl.DQN('CartPole-v1', { seed: 3, learningStarts: 0, trainFreq: 4, policyKwargs: { netArch: [8] } });
    expect(agent.explorationRate).toBe(0);
    const obs = Float32Array.of(0.01, -0.02, 0.03, 0.04);
    // a fresh agent's stochastic prediction is its greedy one
    for (let i = 0; i < 5; i++) expect(agent.predict(obs, { deterministic: false })).toBe(agent.predict(obs, { deterministic: true }));
    const eps: number[] = [];
    await agent.learn({ totalTimesteps: 8, callback: { onStep: () => { eps.push(agent.explorationRate); } } });
    // onStep runs before the step's schedule update: 0 at step 1, then 1 - 0.95 * (t / 8) / 0.1 clipped at 0.05
    expect(eps[0]).toBe(0);
    expect(eps.slice(1)).toEqual([1, 2, 3, 4, 5, 6, 7].map(() => 0.05));
    expect(agent.explorationRate).toBe(0.05);
  });

  it('gradientSteps -1 takes one gradient step per transition collected, all envs counted (rollout.episode_timesteps)', async () => {
    const agent = new rl.DQN('CartPole-v1', { seed: 1, nEnvs: 2, learningStarts: 0, trainFreq: 4, gradientSteps: -1, batchSize: 4, policyKwargs: { netArch: [8] } });
    const phases: number[] = [];
    const orig = agent.train.bind(agent);
    agent.train = (g: number) => { phases.push(g); return orig(g); };
    await agent.learn({ totalTimesteps: 24 });
    // 3 rollouts of 4 vector steps x 2 envs = 8 transitions each
    expect(agent.numTimesteps).toBe(24);
    expect(phases).toEqual([8, 8, 8]);
    expect(agent.nUpdates).toBe(24);
  });

  it('with n envs the target is copied every targetUpdateInterval // n vector steps', async () => {
    const agent = new rl.DQN('CartPole-v1', { seed: 1, nEnvs: 2, learningStarts: 1000, targetUpdateInterval: 5, policyKwargs: { netArch: [8] } });
    const at: number[] = [];
    const orig = agent.updateTarget.bind(agent);
    agent.updateTarget = () => { at.push(agent.numTimesteps); orig(); };
    await agent.learn({ totalTimesteps: 24 });
    // 5 // 2 = 2 vector steps = 4 transitions between copies
    expect(at).toEqual([4, 8, 12, 16, 20, 24]);
  });

  it('replayBufferKwargs rejects what SB3 would not take', () => {
    expect(() => new rl.DQN('CartPole-v1', { replayBufferKwargs: { optimizeMemoryUsage: true } as any })).toThrow(/replayBufferKwargs: unknown key 'optimizeMemoryUsage'/);
    expect(() => new rl.DQN('CartPole-v1', { replayBufferKwargs: { handleTimeoutTermination: 1 } as any })).toThrow(/handleTimeoutTermination: expected a boolean/);
    expect(() => new rl.DQN('CartPole-v1', { replayBufferKwargs: null as any })).toThrow(/replayBufferKwargs: expected an object/);
  });
});
