import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

const { Normal, Bernoulli, Categorical, Independent, kl } = kiln.distributions;
const LOG2PI = Math.log(2 * Math.PI);

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(Math.abs(actual[i] - expected[i]), `element ${i}: ${actual[i]} vs ${expected[i]}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  }
}
const f32 = (xs: number[]) => xs.map(Math.fround);
const read = (t: kiln.Tensor) => Array.from(t.toTypedArray());
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

describe('Normal', () => {
  const mu = f32([0.3, -1.2, 2.0]), sd = f32([0.5, 1.7, 0.05]), x = f32([0.1, 0.4, 2.03]);
  it('logProb, entropy, mean, stddev, variance match the float64 closed forms', () => kiln.scope(() => {
    const d = new Normal(kiln.tensor(mu), kiln.tensor(sd));
    expect(d.batchShape).toEqual([3]);
    close(read(d.logProb(kiln.tensor(x))), x.map((v, i) => -((v - mu[i]) ** 2) / (2 * sd[i] ** 2) - Math.log(sd[i]) - 0.5 * LOG2PI));
    close(read(d.entropy()), sd.map((s) => 0.5 + 0.5 * LOG2PI + Math.log(s)));
    close(read(d.mean), mu);
    close(read(d.stddev), sd);
    close(read(d.variance), sd.map((s) => s * s));
  }));

  it('broadcasts a number scale against a tensor loc', () => kiln.scope(() => {
    const d = new Normal(kiln.tensor([[0, 1], [2, 3]]), 2);
    expect(d.batchShape).toEqual([2, 2]);
    close(read(d.logProb(kiln.tensor([[0, 0], [0, 0]]))), [0, 1, 2, 3].map((m) => -(m * m) / 8 - Math.log(2) - 0.5 * LOG2PI));
  }));

  it('logProb gradients match d/dmu = (x-mu)/s^2 and d/ds = (x-mu)^2/s^3 - 1/s', () => kiln.scope(() => {
    const loc = kiln.tensor(mu, { requiresGrad: true });
    const scale = kiln.tensor(sd, { requiresGrad: true });
    new Normal(loc, scale).logProb(kiln.tensor(x)).sum().backward();
    close(read(loc.grad!), x.map((v, i) => (v - mu[i]) / sd[i] ** 2), 1e-4);
    close(read(scale.grad!), x.map((v, i) => (v - mu[i]) ** 2 / sd[i] ** 3 - 1 / sd[i]), 1e-4);
  }));

  it('rsample is loc + scale * eps: its gradient is 1 for loc and eps for scale', () => kiln.scope(() => {
    kiln.manualSeed(3);
    const loc = kiln.tensor([1, -2], { requiresGrad: true });
    const scale = kiln.tensor([0.5, 3], { requiresGrad: true });
    const z = new Normal(loc, scale).rsample([4]);
    expect(z.shape).toEqual([4, 2]);
    z.sum().backward();
    const zs = read(z);
    const eps = zs.map((v, i) => (v - [1, -2][i % 2]) / [0.5, 3][i % 2]);
    close(read(loc.grad!), [4, 4]);
    close(read(scale.grad!), [eps[0] + eps[2] + eps[4] + eps[6], eps[1] + eps[3] + eps[5] + eps[7]], 1e-4);
  }));

  it('samples have the right moments and repeat under the same seed', () => kiln.scope(() => {
    kiln.manualSeed(11);
    const s = new Normal(kiln.tensor([2]), kiln.tensor([3])).sample([20000]);
    expect(s.requiresGrad).toBe(false);
    const v = read(s);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sdv = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    expect(Math.abs(m - 2)).toBeLessThan(0.07); // 3.3 standard errors
    expect(Math.abs(sdv - 3)).toBeLessThan(0.06);
    kiln.manualSeed(11);
    expect(read(new Normal(kiln.tensor([2]), kiln.tensor([3])).sample([20000]))).toEqual(v);
  }));

  it('rejects a non-positive scale and unbroadcastable parameters', () => kiln.scope(() => {
    expect(() => new Normal(0, -1)).toThrow(/scale: expected a positive number/);
    expect(() => new Normal(kiln.tensor([0]), kiln.tensor([1, 0]))).toThrow(/scale: expected every element to be positive/);
    expect(() => new Normal(kiln.tensor([0, 1]), kiln.tensor([1, 1, 1]))).toThrow(/do not broadcast/);
    expect(() => new Normal(0, 1).sample([-1])).toThrow(/sampleShape/);
    expect(() => new Normal('a' as any, 1)).toThrow(/loc: expected a Tensor or a number/);
  }));
});

describe('Bernoulli', () => {
  const p = f32([0.2, 0.5, 0.97]);
  const logit = (q: number) => Math.log(q / (1 - q));
  it('logProb and entropy from probs and from logits match the closed forms', () => kiln.scope(() => {
    const v = [1, 0, 1];
    const expectLp = p.map((q, i) => (v[i] ? Math.log(q) : Math.log(1 - q)));
    const expectH = p.map((q) => -(q * Math.log(q) + (1 - q) * Math.log(1 - q)));
    for (const d of [new Bernoulli({ probs: kiln.tensor(p) }), new Bernoulli({ logits: kiln.tensor(f32(p.map(logit))) })]) {
      close(read(d.logProb(kiln.tensor(v))), expectLp, 1e-5);
      close(read(d.entropy()), expectH, 1e-5);
      close(read(d.mean), p, 1e-6);
      close(read(d.variance), p.map((q) => q * (1 - q)), 1e-6);
    }
  }));

  it('samples are 0/1 with frequency p', () => kiln.scope(() => {
    kiln.manualSeed(5);
    const s = read(new Bernoulli({ probs: kiln.tensor([0.3]) }).sample([20000]));
    expect(s.every((x) => x === 0 || x === 1)).toBe(true);
    expect(Math.abs(s.reduce((a, b) => a + b, 0) / 20000 - 0.3)).toBeLessThan(0.011); // 3.4 standard errors
  }));

  it('rejects probs outside [0, 1] and asks for exactly one parameter', () => kiln.scope(() => {
    expect(() => new Bernoulli({ probs: 1.5 })).toThrow(/probs: expected a number in \[0, 1\]/);
    expect(() => new Bernoulli({ probs: kiln.tensor([0.5, -0.1]) })).toThrow(/probs: expected every element in \[0, 1\]/);
    expect(() => new Bernoulli({})).toThrow(/exactly one of probs or logits/);
    expect(() => new Bernoulli({ probs: 0.5, logits: 0 })).toThrow(/exactly one of probs or logits/);
  }));
});

describe('Categorical', () => {
  const logits = [[0.5, -1, 2, 0], [3, 3, -2, 0.1]];
  const lse = (r: number[]) => Math.log(r.reduce((a, b) => a + Math.exp(b), 0));
  const logp = logits.map((r) => r.map((v) => v - lse(r)));

  it('normalises logits; logProb and entropy match the closed forms', () => kiln.scope(() => {
    const d = new Categorical({ logits: kiln.tensor(logits) });
    expect(d.batchShape).toEqual([2]);
    expect(d.numEvents).toBe(4);
    close(read(d.logits), logp.flat());
    close(read(d.logProb(kiln.tensor([2, 3], { dtype: 'int32' }))), [logp[0][2], logp[1][3]]);
    close(read(d.entropy()), logp.map((r) => -r.reduce((a, l) => a + Math.exp(l) * l, 0)));
    // a [3, 2] value broadcasts against batch [2]
    close(read(d.logProb(kiln.tensor([[0, 1], [1, 0], [3, 3]], { dtype: 'int32' }))),
      [logp[0][0], logp[1][1], logp[0][1], logp[1][0], logp[0][3], logp[1][3]]);
    expect(read(d.mode)).toEqual([2, 0]);
  }));

  it('probs are normalised and give the same log-probabilities', () => kiln.scope(() => {
    const d = new Categorical({ probs: kiln.tensor([[2, 1, 1]]) });
    close(read(d.probs), [0.5, 0.25, 0.25]);
    close(read(d.logProb(kiln.tensor([0], { dtype: 'int32' }))), [Math.log(0.5)]);
  }));

  it('logProb is differentiable: d/dlogits of log p_k is onehot(k) - p', () => kiln.scope(() => {
    const l = kiln.tensor([logits[0]], { requiresGrad: true });
    new Categorical({ logits: l }).logProb(kiln.tensor([1], { dtype: 'int32' })).sum().backward();
    close(read(l.grad!), logp[0].map((v, k) => (k === 1 ? 1 : 0) - Math.exp(v)));
  }));

  for (const [path, n] of [['host inverse CDF', 1000], ['Gumbel-max', 40000]] as const) {
    // 1000 draws of 4 categories stay under HOST_SAMPLE_LIMIT (4096 probabilities); 40000 go past it
    it(`samples by ${path} follow the probabilities and repeat under the same seed`, () => kiln.scope(() => {
      const probs = [0.1, 0.6, 0.0, 0.3];
      const d = new Categorical({ probs: kiln.tensor(probs) });
      kiln.manualSeed(9);
      const s = d.sample([n]);
      expect(s.dtype).toBe('int32');
      expect(n * 4 <= kiln.distributions.HOST_SAMPLE_LIMIT).toBe(path === 'host inverse CDF');
      expect(s.shape).toEqual([n]);
      const v = read(s);
      const counts = [0, 0, 0, 0];
      for (const k of v) counts[k]++;
      expect(counts[2]).toBe(0);
      probs.forEach((q, k) => expect(Math.abs(counts[k] / n - q)).toBeLessThan(4 * Math.sqrt(q * (1 - q) / n) + 1e-9));
      kiln.manualSeed(9);
      expect(read(d.sample([n]))).toEqual(v);
    }));
  }

  it('draws each batch row from its own probabilities', () => kiln.scope(() => {
    kiln.manualSeed(2);
    const d = new Categorical({ probs: kiln.tensor([[1, 0, 0], [0, 0, 1]]) });
    expect(read(d.sample([3]))).toEqual([0, 2, 0, 2, 0, 2]);
  }));

  it('rejects bad parameters and values', () => kiln.scope(() => {
    expect(() => new Categorical({ probs: kiln.tensor([0.5, -0.5]) })).toThrow(/probs: expected non-negative/);
    expect(() => new Categorical({ logits: kiln.tensor(1) })).toThrow(/logits: expected a tensor \[\.\.\., K\]/);
    const d = new Categorical({ logits: kiln.tensor([0, 0]) });
    expect(() => d.logProb(kiln.tensor([0.0]))).toThrow(/value: expected int32/);
  }));
});

describe('Independent', () => {
  it('sums logProb and entropy over the reinterpreted dims', () => kiln.scope(() => {
    const mu = [[0, 1], [2, 3]], sd = [[1, 2], [0.5, 1]];
    const d = new Independent(new Normal(kiln.tensor(mu), kiln.tensor(sd)), 1);
    expect(d.batchShape).toEqual([2]);
    expect(d.eventShape).toEqual([2]);
    const x = [[0.5, 0.5], [2, 2]];
    const lp = (v: number, m: number, s: number) => -((v - m) ** 2) / (2 * s * s) - Math.log(s) - 0.5 * LOG2PI;
    close(read(d.logProb(kiln.tensor(x))), [0, 1].map((r) => lp(x[r][0], mu[r][0], sd[r][0]) + lp(x[r][1], mu[r][1], sd[r][1])));
    close(read(d.entropy()), [0, 1].map((r) => sd[r].reduce((a, s) => a + 0.5 + 0.5 * LOG2PI + Math.log(s), 0)));
    expect(d.rsample([3]).shape).toEqual([3, 2, 2]);
    expect(() => new Independent(new Normal(0, 1), 1)).toThrow(/reinterpretedBatchNdims: expected an integer in \[0, 0\]/);
  }));
});

describe('kl.klDivergence', () => {
  it('Normal-Normal', () => kiln.scope(() => {
    const [m1, s1, m2, s2] = [0.3, 0.7, -1, 1.9];
    const v = read(kl.klDivergence(new Normal(m1, s1), new Normal(m2, s2)))[0];
    close([v], [Math.log(s2 / s1) + (s1 * s1 + (m1 - m2) ** 2) / (2 * s2 * s2) - 0.5]);
  }));
  it('Bernoulli-Bernoulli', () => kiln.scope(() => {
    const [p, q] = [0.2, 0.65];
    const v = read(kl.klDivergence(new Bernoulli({ probs: p }), new Bernoulli({ probs: q })))[0];
    close([v], [p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q))]);
    const w = read(kl.klDivergence(new Bernoulli({ logits: -1 }), new Bernoulli({ logits: 2 })))[0];
    const [a, b] = [-1, 2];
    close([w], [(1 / (1 + Math.exp(-a))) * (softplus(-b) - softplus(-a)) + (1 / (1 + Math.exp(a))) * (softplus(b) - softplus(a))]);
  }));
  it('Categorical-Categorical and its gradient', () => kiln.scope(() => {
    const p = [0.2, 0.5, 0.3], q = [0.6, 0.1, 0.3];
    const lp = kiln.tensor(p.map(Math.log), { requiresGrad: true });
    const d = kl.klDivergence(new Categorical({ logits: lp }), new Categorical({ probs: kiln.tensor(q) }));
    close(read(d), [p.reduce((a, x, k) => a + x * Math.log(x / q[k]), 0)]);
    // d KL / d logit_j = p_j (log(p_j / q_j) - KL)
    const K = p.reduce((a, x, k) => a + x * Math.log(x / q[k]), 0);
    d.backward();
    close(read(lp.grad!), p.map((x, k) => x * (Math.log(x / q[k]) - K)), 1e-4);
  }));
  it('Independent-Independent sums the base KL; unknown pairs are an error', () => kiln.scope(() => {
    const p = new Independent(new Normal(kiln.tensor([0, 1]), kiln.tensor([1, 1])), 1);
    const q = new Independent(new Normal(kiln.tensor([1, 1]), kiln.tensor([1, 2])), 1);
    close(read(kl.klDivergence(p, q)), [0.5 + (Math.log(2) + 1 / 8 - 0.5)]);
    expect(() => kl.klDivergence(new Normal(0, 1), new Bernoulli({ probs: 0.5 }))).toThrow(/no KL registered for \(Normal, Bernoulli\)/);
    expect(() => kl.klDivergence(p, new Independent(new Normal(kiln.tensor([[0]]), 1), 2))).toThrow(/reinterpreted dims/);
  }));
});

describe('memory', () => {
  it('a scope frees everything a distribution made', () => {
    const before = trackedTensors();
    kiln.scope(() => {
      const d = new Independent(new Normal(kiln.zeros([8, 2]), kiln.ones([2])), 1);
      d.logProb(d.sample()).sum().item();
      new Categorical({ logits: kiln.zeros([8, 3]) }).sample().toTypedArray();
      kl.klDivergence(d, d).sum().item();
    });
    expect(trackedTensors()).toBe(before);
  });
});
