// Agents end to end: a short CI training run of DQN and PPO on CartPole that must improve,
// flat memory during learn(), same seed -> same learning curve, save/load, callbacks, errors.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { rl } = kiln;
// These networks are small: one thread does them as fast as two and does not stall when the
// machine is shared (read by the native pool when its first kernel runs, in this file's process).
process.env.KILN_NUM_THREADS ??= '1';
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const returns = (agent: kiln.rl.BaseAlgorithm) => agent.log.episodes.map((e) => e.return);

// zoo hyperparameters with a 64-64 network and fewer steps, so CI takes seconds
const dqnCi = { learningRate: 2.3e-3, batchSize: 64, bufferSize: 20_000, learningStarts: 1000, targetUpdateInterval: 10,
  trainFreq: 256, gradientSteps: 128, explorationFraction: 0.16, explorationFinalEps: 0.04 };
const ppoCi = { nEnvs: 8, nSteps: 32, batchSize: 256, gaeLambda: 0.8, gamma: 0.98, nEpochs: 20, learningRate: 'lin_0.001', clipRange: 'lin_0.2' };

/** Live tensors at every log record: a training loop must not grow them. */
function memoryProbe() {
  const counts: number[] = [];
  return { counts, callback: { onLog: () => { counts.push(trackedTensors()); } } };
}

/** The same count at every record from record `from` on. */
function expectFlat(counts: number[], from: number): void {
  expect(counts.length).toBeGreaterThan(from + 2);
  for (let i = from + 1; i < counts.length; i++) expect(counts[i], String(counts)).toBe(counts[from]);
}

describe('CI training runs on CartPole-v1', () => {
  it('DQN improves within 15k steps and keeps memory flat', async () => {
    const agent = new rl.DQN('CartPole-v1', { ...dqnCi, seed: 0 });
    const probe = memoryProbe();
    await agent.learn({ totalTimesteps: 15_000, callback: probe.callback });
    const r = returns(agent);
    expect(mean(r.slice(-10))).toBeGreaterThan(2.5 * mean(r.slice(0, 10)));
    expect(rl.evaluatePolicy(agent, rl.make('CartPole-v1'), { nEvalEpisodes: 10, seed: 5 }).meanReward).toBeGreaterThan(60);
    // from the first update on (Adam's state exists), the count does not grow
    expectFlat(probe.counts, 2);
  });

  it('PPO improves within 20k steps and keeps memory flat', async () => {
    const agent = new rl.PPO('CartPole-v1', { ...ppoCi, seed: 0 });
    const probe = memoryProbe();
    await agent.learn({ totalTimesteps: 20_000, callback: probe.callback });
    const r = returns(agent);
    expect(mean(r.slice(-10))).toBeGreaterThan(3 * mean(r.slice(0, 10)));
    expect(rl.evaluatePolicy(agent, rl.make('CartPole-v1'), { nEvalEpisodes: 10, seed: 5 }).meanReward).toBeGreaterThan(100);
    expectFlat(probe.counts, 0);
    expect(probe.counts.length).toBe(Math.ceil(20_000 / 256));
  });
});

describe('reproducibility', () => {
  it('the same seed gives the same learning curve and weights (PPO, DQN, A2C, REINFORCE)', async () => {
    const runs = [
      (seed: number) => new rl.PPO('CartPole-v1', { ...ppoCi, nEpochs: 2, seed }),
      (seed: number) => new rl.DQN('CartPole-v1', { ...dqnCi, learningStarts: 300, trainFreq: 4, gradientSteps: 1, seed }),
      (seed: number) => new rl.A2C('CartPole-v1', { nEnvs: 4, seed }),
      (seed: number) => new rl.REINFORCE('CartPole-v1', { seed }),
    ];
    for (const make of runs) {
      // both built before either learns: each agent keeps its own generator stream
      const [a, b] = [make(3), make(3)];
      await a.learn({ totalTimesteps: 2048 });
      await b.learn({ totalTimesteps: 2048 });
      expect(returns(a).length).toBeGreaterThan(20);
      expect(returns(a)).toEqual(returns(b));
      const wa = Object.values((a as any).modules())[0] as kiln.nn.Module;
      const wb = Object.values((b as any).modules())[0] as kiln.nn.Module;
      wa.parameters().forEach((p, i) => expect(Array.from(p.toTypedArray())).toEqual(Array.from(wb.parameters()[i].toTypedArray())));
      const c = make(4);
      await c.learn({ totalTimesteps: 2048 });
      expect(returns(c)).not.toEqual(returns(a));
    }
  });
});

describe('continuous actions and REINFORCE', () => {
  it('PPO and A2C on Pendulum act within the Box, with a learned log std', async () => {
    for (const agent of [new rl.PPO('Pendulum-v1', { nSteps: 64, batchSize: 32, nEpochs: 2, seed: 0 }), new rl.A2C('Pendulum-v1', { seed: 0 })]) {
      const probe = memoryProbe();
      const logStd0 = Array.from(agent.policy.logStd!.toTypedArray());
      await agent.learn({ totalTimesteps: 640, callback: probe.callback });
      expect(Array.from(agent.policy.logStd!.toTypedArray())).not.toEqual(logStd0);
      expectFlat(probe.counts, 0);
      const [obs] = rl.make('Pendulum-v1').reset({ seed: 1 });
      for (let i = 0; i < 20; i++) {
        const a = agent.predict(obs) as Float32Array;
        expect(a).toBeInstanceOf(Float32Array);
        expect(Math.abs(a[0])).toBeLessThanOrEqual(2);
      }
      // the deterministic action is the Gaussian's mean (clipped)
      expect(agent.predict(obs, { deterministic: true })).toEqual(agent.predict(obs, { deterministic: true }));
    }
  });

  it('REINFORCE updates after every episodesPerUpdate complete episodes', async () => {
    const agent = new rl.REINFORCE('CartPole-v1', { episodesPerUpdate: 3, seed: 0 });
    const probe = memoryProbe();
    await agent.learn({ totalTimesteps: 3000, callback: probe.callback });
    expect(agent.nUpdates).toBe(Math.floor(agent.log.episodes.length / 3));
    expectFlat(probe.counts, 0);
  });
});

describe('save, load, predict', () => {
  it('a loaded agent predicts what the saved one did; algorithms and files are checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rl-'));
    const obs = Array.from({ length: 20 }, (_, i) => Float32Array.of(Math.sin(i), Math.cos(i) * 0.5, 0.1 * i - 1, -0.05 * i));
    for (const [Algo, opts] of [[rl.PPO, { nSteps: 64, nEpochs: 1 }], [rl.DQN, { learningStarts: 50 }], [rl.A2C, {}], [rl.REINFORCE, {}]] as const) {
      const agent = new (Algo as any)('CartPole-v1', { ...opts, seed: 1 });
      await agent.learn({ totalTimesteps: 256 });
      const path = join(dir, `${agent.algo}.safetensors`);
      await agent.save(path);
      const loaded = await (Algo as any).load(path);
      expect(loaded.numTimesteps).toBe(agent.numTimesteps);
      expect(obs.map((o) => loaded.predict(o, { deterministic: true }))).toEqual(obs.map((o) => agent.predict(o, { deterministic: true })));
      await expect(loaded.learn({ totalTimesteps: 10 })).rejects.toThrow(/learn: this agent has no environment/);
      const withEnv = await (Algo as any).load(path, { env: rl.make('CartPole-v1') });
      await withEnv.learn({ totalTimesteps: 64 });
    }
    await expect(rl.PPO.load(join(dir, 'DQN.safetensors'))).rejects.toThrow(/holds a DQN agent, not a PPO/);
    const b = await rl.PPO.load(join(dir, 'PPO.safetensors'));
    expect(b.predictBatch(Float32Array.from(obs.slice(0, 3).flatMap((o) => Array.from(o))), { deterministic: true })).toBeInstanceOf(Int32Array);
  });
});

describe('callbacks, progress and report', () => {
  it('a callback can stop learn(); the progress bar and the HTML report are written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-rl-'));
    const lines: string[] = [];
    const agent = new rl.PPO('CartPole-v1', { nSteps: 64, nEpochs: 1, seed: 2 });
    const seen: string[] = [];
    await agent.learn({
      totalTimesteps: 1000, progressBar: true, write: (s) => lines.push(s), report: join(dir, 'report.html'),
      callback: {
        onTrainingStart: () => { seen.push('start'); },
        onEpisodeEnd: (ep) => { expect(ep.length).toBeGreaterThan(0); },
        onStep: ({ timesteps }) => (timesteps >= 300 ? 'stop' : undefined),
        onTrainingEnd: (log) => { seen.push(`end ${log.records.length}`); },
      },
    });
    expect(agent.numTimesteps).toBe(300);
    expect(seen).toEqual(['start', 'end 4']);
    // resetNumTimesteps: false continues the count, the log and the episodes in progress
    const episodes = agent.log.episodes.length;
    await agent.learn({ totalTimesteps: 128, resetNumTimesteps: false });
    expect(agent.numTimesteps).toBe(428);
    expect(agent.log.episodes.length).toBeGreaterThan(episodes);
    expect(agent.log.records.length).toBe(6);
    expect(lines.some((l) => /\/1000 steps/.test(l))).toBe(true);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('data-series="episode return"');
    expect(html).toContain('data-series="valueLoss"');
  });
});

describe('gSDE (useSde)', () => {
  it('the variance is latent^2 . exp(logStd)^2 and the noise is latent . E', () => kiln.scope(() => {
    const agent = new rl.PPO('Pendulum-v1', { useSde: true, nSteps: 16, batchSize: 16, seed: 0 });
    const pol = agent.policy;
    expect(pol.logStd!.shape).toEqual([64, 1]);
    kiln.noGrad(() => pol.logStd!.copy_(kiln.linspace(-1, 0.5, 64).reshape([64, 1])));
    const obs = Float32Array.of(0.3, -0.9, 1.5, 1, 0, -2);
    const x = kiln.tensor(obs, { shape: [2, 3] });
    const latent = kiln.noGrad(() => pol.piNet.forward(x)).toArray() as number[][];
    const ls = Array.from(pol.logStd!.toTypedArray());
    const dist = kiln.noGrad(() => pol.distribution(x));
    const sd = Array.from(dist.stddev.toTypedArray());
    latent.forEach((row, i) => {
      const v = row.reduce((a, l, j) => a + l * l * Math.exp(2 * ls[j]), 0);
      expect(sd[i]).toBeCloseTo(Math.sqrt(v + 1e-6), 5);
    });
    pol.resetNoise(2);
    const E = ((pol as any).explorationMatrices as kiln.Tensor).toArray() as number[][][];
    const mean = Array.from(dist.mean.toTypedArray());
    const { actions } = pol.act(obs, 2, false);
    latent.forEach((row, i) => {
      const noise = row.reduce((a, l, j) => a + l * E[i][j][0], 0);
      expect(actions[i]).toBeCloseTo(mean[i] + noise, 4);
    });
    // the same matrices give the same actions until resetNoise
    expect(Array.from(pol.act(obs, 2, false).actions)).toEqual(Array.from(actions));
  }));

  it('PPO with gSDE trains on Pendulum with flat memory; save/load keeps the matrix-shaped log std', async () => {
    const agent = new rl.PPO('Pendulum-v1', { useSde: true, sdeSampleFreq: 4, nSteps: 64, batchSize: 64, nEpochs: 2, seed: 0 });
    const probe = memoryProbe();
    await agent.learn({ totalTimesteps: 640, callback: probe.callback });
    expectFlat(probe.counts, 0);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-rl-')), 'sde.safetensors');
    await agent.save(path);
    const loaded = await rl.PPO.load(path);
    const [obs] = rl.make('Pendulum-v1').reset({ seed: 3 });
    expect(loaded.predict(obs, { deterministic: true })).toEqual(agent.predict(obs, { deterministic: true }));
    expect(() => new rl.PPO('CartPole-v1', { useSde: true })).toThrow(/useSde: gSDE needs a Box action space/);
  });
});

describe('PPO options', () => {
  it('targetKl stops the epochs early; clipRangeVf trains too', async () => {
    const full = new rl.PPO('CartPole-v1', { nSteps: 64, batchSize: 32, nEpochs: 10, seed: 0 });
    await full.learn({ totalTimesteps: 64 });
    expect(full.nUpdates).toBe(20);
    // the first minibatch sees ratio 1 (KL 0) and steps; the next one's KL is above 1.5e-12
    const early = new rl.PPO('CartPole-v1', { nSteps: 64, batchSize: 32, nEpochs: 10, targetKl: 1e-12, seed: 0 });
    await early.learn({ totalTimesteps: 64 });
    expect(early.nUpdates).toBe(1);
    const vclip = new rl.PPO('CartPole-v1', { nSteps: 64, batchSize: 32, nEpochs: 2, clipRangeVf: 0.2, seed: 0 });
    await vclip.learn({ totalTimesteps: 128 });
    expect(vclip.nUpdates).toBe(8);
    expect(Number.isFinite(vclip.log.records[1].losses.valueLoss)).toBe(true);
  });
});

describe('any environment with the Env members', () => {
  /** A corridor of 6 cells written as a plain object: step right (1) to reach the end, reward 1 there. */
  function corridor(): kiln.rl.Env {
    let pos = 0, t = 0;
    const obs = () => Float32Array.from({ length: 6 }, (_, i) => (i === pos ? 1 : 0));
    return {
      observationSpace: new rl.Box(0, 1, [6]),
      actionSpace: new rl.Discrete(2),
      reset: () => { pos = 0; t = 0; return [obs(), {}]; },
      step: (a) => {
        pos = Math.max(0, Math.min(5, pos + (a === 1 ? 1 : -1)));
        t++;
        return [obs(), pos === 5 ? 1 : 0, pos === 5, t >= 30, {}];
      },
      close: () => {},
    };
  }

  it('DQN and PPO learn a corridor written as a plain object', async () => {
    const dqn = new rl.DQN(corridor(), { learningStarts: 100, trainFreq: 1, targetUpdateInterval: 50, explorationFraction: 0.3, learningRate: 1e-3, seed: 0 });
    await dqn.learn({ totalTimesteps: 1000 });
    const ppo = new rl.PPO(new rl.SyncVectorEnv([corridor, corridor]), { nSteps: 64, batchSize: 64, seed: 0 });
    await ppo.learn({ totalTimesteps: 2048 });
    for (const agent of [dqn, ppo]) {
      const r = rl.evaluatePolicy(agent, corridor(), { nEvalEpisodes: 3 });
      expect(r.episodeLengths).toEqual([5, 5, 5]); // straight to the end
    }
  });

  it('with VecNormalize the agent sees scaled rewards but logs the environment\'s own returns', async () => {
    const venv = new rl.VecNormalize(new rl.SyncVectorEnv([() => rl.make('MountainCar-v0'), () => rl.make('MountainCar-v0')]));
    const agent = new rl.A2C(venv, { seed: 0 });
    await agent.learn({ totalTimesteps: 1000 });
    expect(agent.log.episodes.length).toBe(4);
    for (const e of agent.log.episodes) expect(e.return).toBe(-200);
    expect(venv.obsRms.count).toBeGreaterThan(1000);
    expect(agent.rolloutBuffer.rewards.every((r) => r !== -1)).toBe(true); // scaled, not raw
  });
});

describe('evaluatePolicy and bad input', () => {
  it('evaluatePolicy averages whole episodes', () => {
    const still = { predict: () => 1 };
    const r = rl.evaluatePolicy(still, rl.make('MountainCar-v0'), { nEvalEpisodes: 3, seed: 0 });
    expect(r).toMatchObject({ meanReward: -200, stdReward: 0, episodeLengths: [200, 200, 200] });
    expect(() => rl.evaluatePolicy(still, rl.make('MountainCar-v0'), { nEvalEpisodes: 0 })).toThrow(/nEvalEpisodes: expected a positive integer/);
  });

  it('bad options and arguments are KilnErrors naming them', async () => {
    expect(() => new rl.DQN('Pendulum-v1')).toThrow(/DQN needs a Discrete action space/);
    expect(() => new rl.DQN('CartPole-v1', { gamma: 1.5 })).toThrow(/gamma: expected a number in \[0, 1\]/);
    expect(() => new rl.DQN('CartPole-v1', { gradientSteps: 0 })).toThrow(/gradientSteps: expected a positive integer or -1/);
    expect(() => new rl.PPO('CartPole-v1', { batchSize: 1 })).toThrow(/batchSize: expected an integer > 1/);
    expect(() => new rl.PPO('CartPole-v1', { learningRate: 'fast' })).toThrow(/learningRate: expected a number/);
    expect(() => new rl.PPO(rl.make('CartPole-v1'), { nEnvs: 4 })).toThrow(/nEnvs: 4 copies need env given as an id/);
    expect(() => new rl.PPO({} as any)).toThrow(/env: expected an environment/);
    expect(() => new rl.A2C('CartPole-v1', { policyKwargs: { netArch: [64, -1] } })).toThrow(/policyKwargs.netArch.pi: expected an array of positive layer widths/);
    const agent = new rl.PPO('CartPole-v1', { seed: 0 });
    await expect(agent.learn({ totalTimesteps: 0 })).rejects.toThrow(/totalTimesteps: expected a positive integer/);
    expect(() => agent.predict(Float32Array.of(1, 2))).toThrow(/observation: expected 4 numbers, got 2/);
  });
});
