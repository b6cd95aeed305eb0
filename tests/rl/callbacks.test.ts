// EvalCallback: evaluates at the right steps, keeps the best (first of ties, as SB3), saves the
// agent as it was at that evaluation, leaves training's trajectory unchanged, rejects bad input.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { rl } = kiln;
process.env.KILN_NUM_THREADS ??= '1';
const dqnOpts = { learningRate: 2.3e-3, batchSize: 32, learningStarts: 100, targetUpdateInterval: 10, trainFreq: 64,
  gradientSteps: 32, explorationFraction: 0.3, policyKwargs: { netArch: [32, 32] }, seed: 3 };
// fixed observations on which Q-values identify a network's weights
const probe = Float32Array.from({ length: 8 * 4 }, (_, i) => Math.sin(i * 1.7) * 0.2);
const qValues = (agent: kiln.rl.DQN) => kiln.scope(() => kiln.noGrad(() =>
  Array.from(agent.qNet.forward(kiln.tensor(probe, { shape: [8, 4] })).toTypedArray())));

describe('rl.EvalCallback', () => {
  it('evaluates every evalFreq steps, saves the best agent, and does not change training', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-evalcb-'));
    const ev = new rl.EvalCallback(rl.make('CartPole-v1'), { evalFreq: 500, nEvalEpisodes: 3, seed: 11, bestModelSavePath: dir });
    // a mirror env, seeded alike and stepped through the same evaluations, gives the reference
    const mirror = rl.make('CartPole-v1');
    const seen: { timesteps: number; q: number[]; meanReward: number }[] = [];
    const check = { onStep: ({ timesteps, agent }: { timesteps: number; agent: kiln.rl.BaseAlgorithm }) => {
      if (timesteps % 500 !== 0) return;
      const r = rl.evaluatePolicy(agent, mirror, { nEvalEpisodes: 3, seed: seen.length === 0 ? 11 : undefined });
      seen.push({ timesteps, q: qValues(agent as kiln.rl.DQN), meanReward: r.meanReward });
    } };
    const agent = new rl.DQN('CartPole-v1', dqnOpts);
    await agent.learn({ totalTimesteps: 2000, callback: [ev, check] });

    expect(ev.evaluations.map((e) => e.timesteps)).toEqual([500, 1000, 1500, 2000]);
    expect(ev.evaluations.map((e) => e.meanReward)).toEqual(seen.map((s) => s.meanReward));
    const means = seen.map((s) => s.meanReward), best = Math.max(...means);
    expect(ev.bestMeanReward).toBe(best);
    expect(ev.bestTimesteps).toBe(seen[means.indexOf(best)].timesteps);
    // the run must pass through different policies for the test to tell them apart
    expect(new Set(means).size).toBeGreaterThan(1);

    // the file holds the agent of the best evaluation, not the final one
    const loaded = await rl.DQN.load(ev.bestModelPath!);
    const at = seen[means.indexOf(best)];
    expect(qValues(loaded)).toEqual(at.q);
    if (at.timesteps !== 2000) expect(qValues(agent)).not.toEqual(at.q);

    // deterministic evaluation draws nothing from the agent's streams: same final weights without it
    const plain = new rl.DQN('CartPole-v1', dqnOpts);
    await plain.learn({ totalTimesteps: 2000 });
    expect(qValues(plain)).toEqual(qValues(agent));
  }, 60_000);

  it('keeps the first best of a known sequence of policies and saves that one', async () => {
    // a stand-in agent: a good controller (push toward the pole's fall) or always-left, by call
    const good = (o: Float32Array) => (o[2] + 0.5 * o[3] > 0 ? 1 : 0);
    const plan = ['bad', 'good', 'good', 'bad'];
    const saved: string[] = [];
    let phase = 'bad';
    const stub = { numTimesteps: 0, predict: (o: Float32Array) => (phase === 'good' ? good(o) : 0),
      save: async (path: string) => { saved.push(`${phase}@${stub.numTimesteps}:${path}`); } } as any;
    const ev = new rl.EvalCallback(rl.make('CartPole-v1'), { evalFreq: 2, nEvalEpisodes: 2, seed: 1, bestModelSavePath: mkdtempSync(join(tmpdir(), 'kiln-evalcb-')) });
    for (let call = 1; call <= 8; call++) {
      stub.numTimesteps = call * 10;
      phase = plan[(call >> 1) - 1] ?? 'bad';
      await ev.onStep({ timesteps: stub.numTimesteps, agent: stub });
    }
    expect(ev.evaluations.map((e) => e.timesteps)).toEqual([20, 40, 60, 80]);
    const m = ev.evaluations.map((e) => e.meanReward);
    expect(m[1]).toBeGreaterThan(5 * m[0]);
    // first improvement saves; an equal or worse later score keeps the earlier agent
    expect(ev.bestTimesteps).toBe(m[2] > m[1] ? 60 : 40);
    expect(ev.bestMeanReward).toBe(Math.max(...m));
    expect(saved.map((s) => s.split(':')[0])).toEqual(m[2] > m[1] ? ['bad@20', 'good@40', 'good@60'] : ['bad@20', 'good@40']);
    expect(saved[0].endsWith('best_model.safetensors')).toBe(true);
  });

  it('keeps memory flat', async () => {
    const agent = new rl.DQN('CartPole-v1', dqnOpts);
    await agent.learn({ totalTimesteps: 300 });
    // the same count throughout (the first 300 steps made what the agent keeps)
    const counts = [trackedTensors()];
    await agent.learn({ totalTimesteps: 1000, callback: [new rl.EvalCallback(rl.make('CartPole-v1'), { evalFreq: 100, nEvalEpisodes: 2 }),
      { onStep: ({ timesteps }: { timesteps: number }) => { if (timesteps % 100 === 1) counts.push(trackedTensors()); } }] });
    counts.push(trackedTensors());
    expect(counts.length).toBe(13); // 1024 steps (whole rollouts of 64): 11 probes between
    for (let i = 1; i < counts.length; i++) expect(counts[i], String(counts)).toBe(counts[0]);
  }, 60_000);

  it('rejects bad options with a clear error', () => {
    const env = rl.make('CartPole-v1');
    expect(() => new rl.EvalCallback(env, { evalFreq: 0 })).toThrow(/evalFreq: expected a positive integer, got 0/);
    expect(() => new rl.EvalCallback(env, { nEvalEpisodes: 1.5 })).toThrow(/nEvalEpisodes: expected a positive integer/);
    expect(() => new rl.EvalCallback(env, { evalFreqq: 5 } as any)).toThrow(/unknown key 'evalFreqq'/);
    expect(() => new rl.EvalCallback({} as any)).toThrow(/evalEnv: expected an environment/);
    expect(() => new rl.EvalCallback(env, { bestModelSavePath: '' })).toThrow(/bestModelSavePath: expected a folder path/);
    expect(() => new rl.DQN('CartPole-v1', { learningRat: 1e-3 } as any)).toThrow(/unknown key 'learningRat'/);
  });
});
