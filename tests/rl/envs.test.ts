import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { rl } = kiln;
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/rl/gymnasium-trajectories.json', import.meta.url), 'utf8'));

function unwrapped(id: string): kiln.rl.ClassicEnv {
  return (rl.make(id) as kiln.rl.Wrapper).unwrapped as kiln.rl.ClassicEnv;
}

describe('classic control against Gymnasium trajectories', () => {
  // tests/fixtures/rl/make_env_fixtures.py recorded these with Gymnasium's own environments
  for (const [ci, c] of (fixtures.cases as any[]).entries()) {
    it(`${c.id} case ${ci}: ${c.actions.length} steps`, () => {
      const env = unwrapped(c.id);
      env.reset({ seed: 0 });
      env.state = Float64Array.from(c.start);
      c.actions.forEach((a: number | number[], t: number) => {
        const [obs, reward, terminated, truncated] = env.step(Array.isArray(a) ? Float32Array.from(a) : a);
        const ref = c.steps[t];
        const where = `${c.id} case ${ci} step ${t}`;
        ref.state.forEach((v: number, k: number) => expect(Math.abs(env.state![k] - v), `${where} state[${k}]`).toBeLessThan(1e-9 * Math.max(1, Math.abs(v))));
        expect(obs).toBeInstanceOf(Float32Array);
        ref.obs.forEach((v: number, k: number) => expect(Math.abs(obs[k] - v), `${where} obs[${k}]`).toBeLessThanOrEqual(2e-7 * Math.max(1, Math.abs(v))));
        expect(Math.abs(reward - ref.reward), `${where} reward`).toBeLessThan(1e-9);
        expect(terminated, `${where} terminated`).toBe(ref.terminated);
        expect(truncated).toBe(false);
      });
    });
  }

  it('CartPole one step by hand: from rest, push right', () => {
    const env = unwrapped('CartPole-v1');
    env.reset({ seed: 1 });
    env.state = new Float64Array(4);
    env.step(1);
    // temp = F / (mc + mp); thetaAcc = -temp / (l (4/3 - mp / (mc + mp))); xAcc = temp - mp l thetaAcc / (mc + mp)
    const temp = 10 / 1.1;
    const thetaAcc = -temp / (0.5 * (4 / 3 - 0.1 / 1.1));
    const xAcc = temp - (0.05 * thetaAcc) / 1.1;
    expect(Array.from(env.state!)).toEqual([0, 0.02 * xAcc, 0, 0.02 * thetaAcc]);
  });
});

describe('reset, seeding and limits', () => {
  it('the same seed gives the same start; starts lie within Gymnasium bounds', () => {
    const bounds: Record<string, [number, number][]> = {
      'CartPole-v1': Array(4).fill([-0.05, 0.05]),
      'Acrobot-v1': [[-1, 1], [-1, 1], [-1, 1], [-1, 1], [-0.1, 0.1], [-0.1, 0.1]],
      'MountainCar-v0': [[-0.6, -0.4], [0, 0]],
      'Pendulum-v1': [[-1, 1], [-1, 1], [-1, 1]],
    };
    for (const [id, b] of Object.entries(bounds)) {
      const [o1] = rl.make(id).reset({ seed: 42 });
      const [o2] = rl.make(id).reset({ seed: 42 });
      const [o3] = rl.make(id).reset({ seed: 43 });
      expect(o1).toBeInstanceOf(Float32Array);
      expect(Array.from(o1)).toEqual(Array.from(o2));
      expect(Array.from(o1)).not.toEqual(Array.from(o3));
      b.forEach(([lo, hi], k) => expect(o1[k] >= lo && o1[k] <= hi, `${id} obs[${k}] = ${o1[k]}`).toBe(true));
    }
  });

  it('a later reset without a seed continues the generator', () => {
    const e1 = rl.make('CartPole-v1'), e2 = rl.make('CartPole-v1');
    e1.reset({ seed: 7 });
    e2.reset({ seed: 7 });
    expect(Array.from(e1.reset()[0])).toEqual(Array.from(e2.reset()[0]));
    expect(Array.from(e1.reset()[0])).not.toEqual(Array.from(rl.make('CartPole-v1').reset({ seed: 7 })[0]));
  });

  it('reset options move CartPole start bounds', () => {
    const [o] = rl.make('CartPole-v1').reset({ seed: 0, options: { low: 0.2, high: 0.3 } });
    for (const v of o) expect(v >= 0.2 && v <= 0.3).toBe(true);
  });

  it('TimeLimit truncates at Gymnasium limits', () => {
    for (const [id, limit, action] of [['MountainCar-v0', 200, 1], ['Pendulum-v1', 200, Float32Array.of(0)], ['Acrobot-v1', 500, 1]] as const) {
      const env = rl.make(id);
      env.reset({ seed: 0 });
      let t = 0;
      for (;;) {
        const [, , term, trunc] = env.step(action);
        t++;
        expect(term).toBe(false);
        if (trunc) break;
      }
      expect(t, id).toBe(limit);
    }
    expect(rl.spec('CartPole-v1').maxEpisodeSteps).toBe(500);
  });

  it('bad use is a KilnError naming the argument', () => {
    const env = rl.make('CartPole-v1');
    expect(() => env.step(0)).toThrow(/call reset\(\) before step\(\)/);
    env.reset({ seed: 0 });
    expect(() => env.step(2)).toThrow(/action: expected an integer in \[0, 1\], got 2/);
    expect(() => env.step(0.5)).toThrow(kiln.KilnError);
    const p = rl.make('Pendulum-v1');
    p.reset({ seed: 0 });
    expect(() => p.step(Float32Array.of(NaN))).toThrow(/action: expected a Float32Array of 1 numbers/);
    expect(() => rl.make('Nope-v0')).toThrow(/id: unknown environment 'Nope-v0'/);
    expect(() => env.reset({ seed: -1 })).toThrow(/seed: expected an integer/);
    expect(() => new rl.TimeLimit(env, 0)).toThrow(/maxEpisodeSteps: expected a positive integer/);
  });
});

describe('spaces', () => {
  it('Discrete and Box contain and sample what they should', () => {
    const r = new rl.Rng(0);
    const d = new rl.Discrete(3);
    expect([d.contains(0), d.contains(2), d.contains(3), d.contains(1.5)]).toEqual([true, true, false, false]);
    for (let i = 0; i < 50; i++) expect(d.contains(d.sample(r))).toBe(true);
    const b = new rl.Box([-1, 0], [1, Infinity]);
    expect(b.shape).toEqual([2]);
    for (let i = 0; i < 50; i++) expect(b.contains(b.sample(r))).toBe(true);
    expect(rl.spaceFromJSON(JSON.parse(JSON.stringify(b)))).toEqual(b);
    expect(() => new rl.Box(1, 0, [2])).toThrow(/low: low\[0\] = 1 exceeds high\[0\] = 0/);
    expect(() => new rl.Box([0, 0], [1, 1, 1])).toThrow(/high: expected 2 values/);
    expect(() => new rl.Discrete(0)).toThrow(/n: expected a positive integer/);
  });
});

describe('wrappers and vector environments', () => {
  it('RecordEpisodeStatistics reports the return and length', () => {
    const env = new rl.RecordEpisodeStatistics(rl.make('MountainCar-v0'));
    env.reset({ seed: 3 });
    let info: kiln.rl.Info = {};
    for (let t = 0; t < 200; t++) info = env.step(1)[4];
    expect((info.episode as any).r).toBe(-200);
    expect((info.episode as any).l).toBe(200);
    expect(env.returnQueue).toEqual([-200]);
  });

  it('SyncVectorEnv seeds env i with seed + i and resets finished envs in the same step', () => {
    const venv = new rl.SyncVectorEnv([() => rl.make('CartPole-v1'), () => rl.make('CartPole-v1')]);
    const [obs] = venv.reset({ seed: 10 });
    expect(obs.length).toBe(8);
    const single = rl.make('CartPole-v1');
    expect(Array.from(obs.subarray(4))).toEqual(Array.from(single.reset({ seed: 11 })[0]));
    // always pushing right topples both poles within 20 steps
    let done = false;
    for (let t = 0; t < 30 && !done; t++) {
      const [o, r, term, , infos] = venv.step([1, 1]);
      const s = single.step(1);
      expect(Array.from(r)).toEqual([1, 1]);
      if (term[1]) {
        expect(s[2]).toBe(true);
        expect(Array.from(infos[1].finalObservation as Float32Array)).toEqual(Array.from(s[0]));
        // the returned observation is the next episode's first: back within the reset bounds
        for (const v of o.subarray(4)) expect(Math.abs(v)).toBeLessThanOrEqual(0.05);
        done = true;
      } else {
        expect(Array.from(o.subarray(4))).toEqual(Array.from(s[0]));
      }
    }
    expect(done).toBe(true);
    expect(() => venv.step([1])).toThrow(/actions: expected 2 numbers \(2 envs\), got 1/);
  });

  it('VecNormalize matches running statistics computed by hand', () => {
    // a fake vector env with fixed observations and rewards: any object with the members works
    const data = [[[1, 10], [3, 14]], [[5, 6], [7, 2]]];
    let t = 0;
    const fake: kiln.rl.VectorEnv = {
      numEnvs: 2,
      singleObservationSpace: new rl.Box(-100, 100, [2]),
      singleActionSpace: new rl.Discrete(2),
      reset: () => [Float32Array.from(data[0].flat()), [{}, {}]],
      step: () => [Float32Array.from(data[++t].flat()), Float64Array.of(1, -2), [false, true], [false, false], [{}, {}]],
      close: () => {},
    };
    const vn = new rl.VecNormalize(fake, { gamma: 0.5, epsilon: 1e-8, clipObs: 10 });
    vn.reset();
    const [obs, rew] = vn.step([0, 1]);
    // observation statistics over 4 rows, starting from mean 0, var 1, count 1e-4
    const rows = data.flat();
    const c0 = 1e-4;
    for (let k = 0; k < 2; k++) {
      let mean = 0, v = 1, count = c0;
      for (const batch of [rows.slice(0, 2), rows.slice(2)]) {
        const bm = (batch[0][k] + batch[1][k]) / 2;
        const bv = ((batch[0][k] - bm) ** 2 + (batch[1][k] - bm) ** 2) / 2;
        const tot = count + 2, delta = bm - mean;
        v = (v * count + bv * 2 + (delta * delta * count * 2) / tot) / tot;
        mean += (delta * 2) / tot;
        count = tot;
      }
      expect(vn.obsRms.mean[k]).toBeCloseTo(mean, 12);
      expect(vn.obsRms.var[k]).toBeCloseTo(v, 12);
      for (let i = 0; i < 2; i++) expect(obs[i * 2 + k]).toBeCloseTo(Math.fround((data[1][i][k] - mean) / Math.sqrt(v + 1e-8)), 5);
    }
    // returns after one step are the rewards themselves: var over [1, -2] merged with var 1, count 1e-4
    const bm = -0.5, bv = 2.25, tot = c0 + 2;
    const rv = (1 * c0 + bv * 2 + (bm * bm * c0 * 2) / tot) / tot;
    expect(rew[0]).toBeCloseTo(1 / Math.sqrt(rv + 1e-8), 10);
    expect(rew[1]).toBeCloseTo(-2 / Math.sqrt(rv + 1e-8), 10);
    expect(Array.from(vn.getOriginalReward())).toEqual([1, -2]);
    vn.training = false;
    const before = vn.obsRms.count;
    vn.reset();
    expect(vn.obsRms.count).toBe(before);
  });
});
