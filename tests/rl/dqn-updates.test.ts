// DQN's update against Stable-Baselines3's DQN.train() written out in PyTorch
// (tests/fixtures/rl/make_dqn_fixture.py): 20 gradient steps from the same weights on the same
// minibatches, with the gradient clip binding on some steps and not others, and a target copy
// after every 5th. Losses and weights must follow PyTorch's step for step.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { rl } = kiln;
const fx = JSON.parse(readFileSync(new URL('../fixtures/rl/dqn-updates.json', import.meta.url), 'utf8'));

type Weights = Record<string, number[] | number[][]>;
const load = (m: kiln.nn.Module, w: Weights) => kiln.scope(() => m.loadStateDict(Object.fromEntries(Object.entries(w).map(([k, v]) => [k, kiln.tensor(v)]))));

function expectWeights(m: kiln.nn.Module, w: Weights, tol: number): void {
  const sd = m.stateDict();
  for (const [k, v] of Object.entries(w)) {
    const want = (v as any[]).flat();
    const got = Array.from(sd[k].toTypedArray());
    expect(got.length).toBe(want.length);
    got.forEach((g, i) => expect(Math.abs(g - want[i])).toBeLessThan(tol));
  }
}

describe('DQN update sequence against PyTorch', () => {
  for (const c of fx.cases) {
    it(`${c.doubleQ ? 'Double DQN' : 'DQN'}: 20 steps of loss, clip, Adam and target copies`, () => {
      const agent = new rl.DQN('CartPole-v1', {
        policyKwargs: { netArch: [16, 16] }, seed: 0, batchSize: fx.batchSize, learningRate: fx.lr, gamma: fx.gamma,
        maxGradNorm: fx.maxGradNorm, doubleQ: c.doubleQ,
      });
      load(agent.qNet, c.init);
      load(agent.qNetTarget, c.init);
      const t = fx.transitions;
      t.obs.forEach((o: number[], i: number) => agent.replayBuffer.add(o, t.nextObs[i], [t.actions[i]], t.rewards[i], t.dones[i] === 1));
      // the replay sampler draws the fixture's indices
      const indices: number[] = fx.indices.flat();
      let k = 0;
      (agent as any).rng = { integer: (n: number) => { expect(n).toBe(t.obs.length); return indices[k++]; } };
      c.losses.forEach((want: number, step: number) => {
        expect(agent.train(1)).toBeCloseTo(want, 5);
        if ((step + 1) % fx.copyEvery === 0) agent.updateTarget();
      });
      expect(k).toBe(indices.length);
      expectWeights(agent.qNet, c.final, 2e-5);
      expectWeights(agent.qNetTarget, c.finalTarget, 2e-5);
    });
  }
});
