// The parts of the agents that can be checked exactly: GAE and returns, replay sampling, the DQN
// target and loss, target-network updates, PPO's clipped objective, schedules, orthogonal init.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { rl } = kiln;

describe('returns and advantages', () => {
  it('computeGae matches the sum-of-deltas form over 2 envs with an episode boundary', () => {
    // step-major [3 steps, 2 envs]; env 1 starts a new episode at step 2
    const rewards = [1, 0.5, 2, -1, 0, 3];
    const values = [0.3, 0.1, -0.2, 0.4, 0.6, 0.0];
    const starts = [1, 0, 0, 0, 0, 1];
    const lastValues = [0.7, -0.5];
    const lastDones = [0, 1];
    const gamma = 0.9, lambda = 0.8;
    const { advantages, returns } = rl.computeGae(rewards, values, starts, lastValues, lastDones, gamma, lambda, 3, 2);
    // A_t = sum_l (gamma lambda)^l delta_{t+l}, stopping at the episode's end
    const v = (t: number, e: number) => (t === 3 ? lastValues[e] : values[t * 2 + e]);
    const ends = (t: number, e: number) => (t === 2 ? lastDones[e] === 1 : starts[(t + 1) * 2 + e] === 1); // s_{t+1} begins a new episode
    const delta = (t: number, e: number) => rewards[t * 2 + e] + (ends(t, e) ? 0 : gamma * v(t + 1, e)) - values[t * 2 + e];
    for (let e = 0; e < 2; e++) {
      for (let t = 0; t < 3; t++) {
        let a = 0, w = 1;
        for (let k = t; k < 3; k++) {
          a += w * delta(k, e);
          if (ends(k, e)) break;
          w *= gamma * lambda;
        }
        expect(advantages[t * 2 + e]).toBeCloseTo(a, 12);
        expect(returns[t * 2 + e]).toBeCloseTo(a + values[t * 2 + e], 12);
      }
    }
    // by hand for env 0, step 2 (the last): delta = 0 + 0.9 * 0.7 - 0.6
    expect(advantages[4]).toBeCloseTo(0.63 - 0.6, 12);
    // env 1, step 1: s_2 starts a new episode, so A = delta = -1 - 0.4
    expect(advantages[3]).toBeCloseTo(-1.4, 12);
  });

  it('lambda = 1 gives discounted returns bootstrapped at the end; discountedReturns by hand', () => {
    const { returns } = rl.computeGae([1, 1, 1], [5, 5, 5], [1, 0, 0], [10], [0], 0.5, 1, 3, 1);
    expect(Array.from(returns)).toEqual([1 + 0.5 + 0.25 + 0.125 * 10, 1 + 0.5 + 0.25 * 10, 1 + 0.5 * 10]);
    expect(Array.from(rl.discountedReturns([1, 2, 3], 0.5))).toEqual([1 + 1 + 0.75, 2 + 1.5, 3]);
  });

  it('explainedVariance is 1 for a perfect critic and 0 for a constant one', () => {
    expect(rl.explainedVariance([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(rl.explainedVariance([2, 2, 2], [1, 2, 3])).toBeCloseTo(0, 12);
  });
});

describe('ReplayBuffer', () => {
  it('wraps around, and samples rows exactly as stored, uniformly', () => {
    const buf = new rl.ReplayBuffer(5, 2, 1);
    for (let i = 0; i < 7; i++) buf.add([i, -i], [i + 0.5, 0], [i % 2], i * 10, i === 3);
    expect(buf.full).toBe(true);
    expect(buf.pos).toBe(2);
    expect(buf.size).toBe(5);
    expect(Array.from(buf.rewards)).toEqual([50, 60, 20, 30, 40]); // 5 and 6 overwrote 0 and 1
    const counts = new Map<number, number>();
    const rng = new rl.Rng(1);
    for (let s = 0; s < 200; s++) {
      const b = buf.sample(8, rng);
      for (let j = 0; j < 8; j++) {
        const i = b.indices[j];
        const step = b.rewards[j] / 10;
        expect([b.obs[2 * j], b.obs[2 * j + 1], b.nextObs[2 * j], b.actions[j], b.dones[j]]).toEqual([step, -step, step + 0.5, step % 2, step === 3 ? 1 : 0]);
        counts.set(i, (counts.get(i) ?? 0) + 1);
      }
    }
    expect([...counts.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const c of counts.values()) expect(Math.abs(c / 1600 - 0.2)).toBeLessThan(0.04); // 4 standard errors
  });
});

/** A DQN whose networks hold fixed weights, so Q-values can be worked out by hand. */
function fixedDqn(doubleQ: boolean) {
  const agent = new rl.DQN('CartPole-v1', { policyKwargs: { netArch: [3] }, seed: 0, gamma: 0.9, batchSize: 4, doubleQ, learningRate: 0.01 });
  const online = { W1: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]], b1: [0, 0, 0.5], W2: [[1, 0, 0], [0, 1, 1]], b2: [0, -1] };
  const target = { W1: [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], b1: [0, 0, 0], W2: [[1, 1, 1], [0, 0, 0.5]], b2: [0, 0] };
  const sd = (w: typeof online) => ({ '0.weight': kiln.tensor(w.W1), '0.bias': kiln.tensor(w.b1), '2.weight': kiln.tensor(w.W2), '2.bias': kiln.tensor(w.b2) });
  kiln.scope(() => {
    agent.qNet.loadStateDict(sd(online));
    agent.qNetTarget.loadStateDict(sd(target));
  });
  const q = (w: typeof online, s: number[]) => {
    const h = w.W1.map((row, i) => Math.max(0, row.reduce((a, x, k) => a + x * s[k], w.b1[i])));
    return w.W2.map((row, i) => row.reduce((a, x, k) => a + x * h[k], w.b2[i]));
  };
  return { agent, q: (s: number[]) => q(online, s), qTarget: (s: number[]) => q(target, s) };
}

const huber = (d: number) => (Math.abs(d) < 1 ? 0.5 * d * d : Math.abs(d) - 0.5);

describe('DQN update', () => {
  const s = [0.5, 2, 1, -0.25], s2 = [1, 0.25, 3, 0], a = 1, r = 1.5;

  it('the loss is Huber(Q(s, a) - (r + gamma max_a\' Q_target(s\', a\')))', () => {
    const { agent, q, qTarget } = fixedDqn(false);
    agent.replayBuffer.add(s, s2, [a], r, false);
    const target = r + 0.9 * Math.max(...qTarget(s2));
    expect(agent.train(1)).toBeCloseTo(huber(q(s)[a] - target), 5);
  });

  it('a terminal transition does not bootstrap', () => {
    const { agent, q } = fixedDqn(false);
    agent.replayBuffer.add(s, s2, [a], r, true);
    expect(agent.train(1)).toBeCloseTo(huber(q(s)[a] - r), 5);
  });

  it('Double DQN evaluates the online network\'s choice with the target network', () => {
    const { agent, q, qTarget } = fixedDqn(true);
    const choice = q(s2).indexOf(Math.max(...q(s2)));
    expect(choice).not.toBe(qTarget(s2).indexOf(Math.max(...qTarget(s2)))); // the two targets differ here
    agent.replayBuffer.add(s, s2, [a], r, false);
    expect(agent.train(1)).toBeCloseTo(huber(q(s)[a] - (r + 0.9 * qTarget(s2)[choice])), 5);
  });

  it('one Adam step moves each weight by -lr * sign(gradient)', () => {
    const { agent } = fixedDqn(false);
    agent.replayBuffer.add(s, s2, [a], r, false);
    const before = agent.qNet.parameters().map((p) => Array.from(p.toTypedArray()));
    agent.train(1);
    const grads = agent.qNet.parameters().map((p) => Array.from(p.grad!.toTypedArray()));
    agent.qNet.parameters().forEach((p, i) => {
      Array.from(p.toTypedArray()).forEach((v, k) => {
        const g = grads[i][k];
        expect(v).toBeCloseTo(before[i][k] - (g === 0 ? 0 : 0.01 * Math.sign(g)), 6);
      });
    });
  });

  it('updateTarget copies (tau = 1) or blends (tau < 1) the online weights', () => {
    const { agent } = fixedDqn(false);
    const on = agent.qNet.parameters().map((p) => Array.from(p.toTypedArray()));
    const tg = agent.qNetTarget.parameters().map((p) => Array.from(p.toTypedArray()));
    (agent.opts as any).tau = 0.25;
    agent.updateTarget();
    agent.qNetTarget.parameters().forEach((p, i) => Array.from(p.toTypedArray()).forEach((v, k) =>
      expect(v).toBeCloseTo(0.25 * on[i][k] + 0.75 * tg[i][k], 6)));
    (agent.opts as any).tau = 1;
    agent.updateTarget();
    agent.qNetTarget.parameters().forEach((p, i) => expect(Array.from(p.toTypedArray())).toEqual(on[i]));
  });

  it('the target network is copied every targetUpdateInterval steps and epsilon follows its schedule', async () => {
    const agent = new rl.DQN('CartPole-v1', { seed: 1, learningStarts: 10_000, targetUpdateInterval: 7, explorationFraction: 0.5, explorationFinalEps: 0.1 });
    let copies = 0;
    const orig = agent.updateTarget.bind(agent);
    agent.updateTarget = () => { copies++; orig(); };
    const eps: number[] = [];
    await agent.learn({ totalTimesteps: 40, callback: { onStep: ({ timesteps }) => { eps.push(agent.explorationRate); expect(timesteps).toBe(eps.length); } } });
    expect(copies).toBe(5); // steps 7, 14, ..., 35
    // epsilon after step t: 1 - 0.9 * (t / 40) / 0.5 until t = 20, then 0.1 (onStep runs before the update of
    // step t, and SB3's epsilon is 0 before the first step)
    expect(eps[0]).toBe(0);
    expect(eps[1]).toBeCloseTo(1 - (0.9 * 1) / 40 / 0.5, 12);
    expect(agent.explorationRate).toBeCloseTo(0.1, 12);
    expect(eps[10]).toBeCloseTo(1 - (0.9 * 10) / 40 / 0.5, 12);
  });

  it('rollouts are whole trainFreq steps, as SB3 collects them: the last one runs past totalTimesteps', async () => {
    const agent = new rl.DQN('CartPole-v1', { seed: 1, learningStarts: 100, trainFreq: 64, gradientSteps: 3, batchSize: 8, policyKwargs: { netArch: [8] } });
    const phases: number[] = [];
    const orig = agent.train.bind(agent);
    agent.train = (g: number) => { phases.push(agent.numTimesteps, g); return orig(g); };
    await agent.learn({ totalTimesteps: 300 });
    expect(agent.numTimesteps).toBe(320);
    // trained after each rollout once past learningStarts: at 128, 192, 256 and 320 steps
    expect(phases).toEqual([128, 3, 192, 3, 256, 3, 320, 3]);
    expect(agent.nUpdates).toBe(12);
    // a callback's stop still ends the rollout at once
    const stopped = new rl.DQN('CartPole-v1', { seed: 1, trainFreq: 64, policyKwargs: { netArch: [8] } });
    await stopped.learn({ totalTimesteps: 300, callback: { onStep: ({ timesteps }) => (timesteps >= 70 ? 'stop' : undefined) } });
    expect(stopped.numTimesteps).toBe(70);
  });
});

describe('PPO objective', () => {
  it('ppoPolicyLoss is -mean(min(A r, A clip(r))) with gradient zero where the clip binds', () => kiln.scope(() => {
    const logp = [0.5, -0.1, 0.05, -0.6].map(Math.fround), old = [0, 0, 0, 0], adv = [1, -2, 3, -1];
    const lp = kiln.tensor(logp, { requiresGrad: true });
    const { loss, ratio } = rl.ppoPolicyLoss(lp, kiln.tensor(old), kiln.tensor(adv), 0.2);
    const r = logp.map(Math.exp);
    const expected = -r.reduce((acc, ri, i) => acc + Math.min(adv[i] * ri, adv[i] * Math.min(Math.max(ri, 0.8), 1.2)), 0) / 4;
    expect(loss.item()).toBeCloseTo(expected, 5);
    expect(Array.from(ratio.toTypedArray()).map((x) => +x.toFixed(5))).toEqual(r.map((x) => +x.toFixed(5)));
    loss.backward();
    // r = e^0.5 > 1.2 with A > 0: clipped, no gradient; r = e^-0.6 < 0.8 with A < 0: clipped too
    const g = Array.from(lp.grad!.toTypedArray());
    expect(g[0]).toBe(0);
    expect(g[3]).toBe(0);
    expect(g[1]).toBeCloseTo((-adv[1] * r[1]) / 4, 5);
    expect(g[2]).toBeCloseTo((-adv[2] * r[2]) / 4, 5);
  }));
});

describe('schedules and initialisation', () => {
  it('linear schedules and the zoo\'s lin_ strings', () => {
    const f = rl.toSchedule('lin_0.001', 'learningRate');
    expect([f(1), f(0.5), f(0)]).toEqual([0.001, 0.0005, 0]);
    const e = rl.linearSchedule(1, 0.05, 0.1);
    [[1, 1], [0.95, 1 - 0.5 * 0.95], [0.5, 0.05]].forEach(([p, v]) => expect(e(p)).toBeCloseTo(v, 12));
    expect(() => rl.toSchedule('cos_1', 'learningRate')).toThrow(/learningRate: expected a number, a function or 'lin_<start>'/);
  });

  it('orthogonal_ gives orthonormal rows or columns scaled by the gain', () => kiln.scope(() => {
    kiln.manualSeed(0);
    for (const [r, c] of [[8, 3], [3, 8]]) {
      const w = rl.orthogonal_(kiln.zeros([r, c]), 2);
      const m = w.toArray() as number[][];
      const small = Math.min(r, c);
      for (let i = 0; i < small; i++) for (let j = 0; j < small; j++) {
        // W^T W = 4 I (tall) or W W^T = 4 I (wide)
        let dot = 0;
        for (let k = 0; k < Math.max(r, c); k++) dot += r > c ? m[k][i] * m[k][j] : m[i][k] * m[j][k];
        expect(dot).toBeCloseTo(i === j ? 4 : 0, 5);
      }
    }
  }));
});
