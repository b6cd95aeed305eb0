// Where one iteration's time goes: the pieces of Kiln's DQN gradient step (zoo CartPole sizes:
// batch 64, 256-256 ReLU) and of PPO's acting step and minibatch update (8 envs, 64-64 tanh,
// minibatch 256), each timed alone over many repetitions (median of 5 blocks).
//   npm run build:ts && KILN_NUM_THREADS=1 node bench/rl/profile.mjs [--json out.json]
import { writeFileSync, mkdirSync } from 'node:fs';
import * as kiln from '../../dist/index.js';

const { rl, nn, F } = kiln;
function time(fn, reps) {
  for (let i = 0; i < Math.max(3, reps / 10); i++) fn();
  const blocks = [];
  for (let b = 0; b < 5; b++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    blocks.push(((performance.now() - t) / reps) * 1000);
  }
  return blocks.sort((a, b) => a - b)[2];
}
const rows = [];
const row = (group, name, us) => { rows.push({ group, name, us }); console.log(`${group.padEnd(6)} ${name.padEnd(46)} ${us.toFixed(1).padStart(8)} us`); };

// ---- DQN: one gradient step ----
{
  const agent = new rl.DQN('CartPole-v1', { batchSize: 64, learningStarts: 0, policyKwargs: { netArch: [256, 256] }, seed: 0 });
  await agent.learn({ totalTimesteps: 2000 });
  const B = 64, buf = agent.replayBuffer, r = new rl.Rng(0), params = agent.qNet.parameters();
  row('dqn', 'whole gradient step (agent.train(1))', time(() => agent.train(1), 200));
  row('dqn', 'replay sample (host, 64 rows)', time(() => buf.sample(B, r), 2000));
  const b = buf.sample(B, r);
  row('dqn', 'batch tensors (5 x tensor())', time(() => kiln.scope(() => { kiln.tensor(b.obs, { shape: [B, 4] }); kiln.tensor(b.nextObs, { shape: [B, 4] }); kiln.tensor(Int32Array.from(b.actions), { shape: [B, 1] }); kiln.tensor(b.rewards); kiln.tensor(b.dones); }), 2000));
  const x = kiln.tensor(b.obs, { shape: [B, 4] }), a = kiln.tensor(Int32Array.from(b.actions), { shape: [B, 1] }), tgt = kiln.randn([B]);
  row('dqn', 'target: noGrad target-net forward + max + mul/add', time(() => kiln.scope(() => kiln.noGrad(() => agent.qNetTarget.forward(x).max(1).mul(tgt).add(tgt))), 500));
  row('dqn', 'online forward + gather + smooth L1 (recorded)', time(() => kiln.scope(() => F.smoothL1Loss(agent.qNet.forward(x).gather(1, a).reshape([B]), tgt)), 500));
  row('dqn', 'forward + loss + backward', time(() => kiln.scope(() => { agent.optimizer.zeroGrad(); F.smoothL1Loss(agent.qNet.forward(x).gather(1, a).reshape([B]), tgt).backward(); }), 500));
  row('dqn', 'clipGradNorm (6 grads: square, sum, read)', time(() => rl.clipGradNorm(params, 10), 2000));
  row('dqn', 'nn.utils.clipGradNorm (abs, pow, sum, read each)', time(() => nn.utils.clipGradNorm(params, 10), 500));
  row('dqn', 'Adam step (6 fused kernels)', time(() => agent.optimizer.step(), 2000));
  row('dqn', 'acting: eps-greedy forward + argmax + read (1 obs)', time(() => agent.predict(b.obs.subarray(0, 4), { deterministic: true }), 2000));
  const env = rl.make('CartPole-v1'); env.reset({ seed: 0 });
  row('dqn', 'CartPole step (JS, float64)', time(() => { const s = env.step(1); if (s[2] || s[3]) env.reset(); }, 20000));
}

// ---- PPO: acting for 8 envs, one minibatch update ----
{
  const agent = new rl.PPO('CartPole-v1', { nEnvs: 8, nSteps: 32, batchSize: 256, nEpochs: 1, seed: 0 });
  await agent.learn({ totalTimesteps: 512 });
  const obs = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) * 0.05);
  const pol = agent.policy;
  row('ppo', 'acting: act(8 obs) forward, sample, logProb, 3 reads', time(() => kiln.scope(() => pol.act(obs, 8, false)), 2000));
  const x8 = kiln.tensor(obs, { shape: [8, 4] });
  row('ppo', '  actor + critic forward (8 obs)', time(() => kiln.scope(() => kiln.noGrad(() => pol.forward(x8))), 2000));
  const d8 = kiln.noGrad(() => pol.distribution(x8));
  row('ppo', '  Categorical.sample (host inverse CDF, 8 rows)', time(() => kiln.scope(() => d8.sample()), 2000));
  row('ppo', '  Categorical.sample by Gumbel-max (8 rows)', time(() => kiln.scope(() => { const u = kiln.rand([8, 2]).clamp(1e-20, 1); return d8.logits.sub(u.log().neg().log()).argmax(-1).toTypedArray(); }), 2000));
  const x = kiln.randn([256, 4]).mul(0.05), act = kiln.randint(0, 2, [256]), ret = kiln.randn([256]), adv = kiln.randn([256]), old = kiln.randn([256]).mul(0.1).sub(0.7);
  row('ppo', 'minibatch: evaluateActions + losses (recorded)', time(() => kiln.scope(() => {
    const { values, logProb, entropy } = pol.evaluateActions(x, act);
    return rl.ppoPolicyLoss(logProb, old, adv, 0.2).loss.add(F.mseLoss(values, ret).mul(0.5)).add(entropy.mean().mul(0));
  }), 500));
  row('ppo', 'minibatch: the same + backward', time(() => kiln.scope(() => {
    agent.optimizer.zeroGrad();
    const { values, logProb, entropy } = pol.evaluateActions(x, act);
    rl.ppoPolicyLoss(logProb, old, adv, 0.2).loss.add(F.mseLoss(values, ret).mul(0.5)).add(entropy.mean().mul(0)).backward();
  }), 500));
  row('ppo', 'clipGradNorm (10 grads)', time(() => rl.clipGradNorm(pol.parameters(), 0.5), 2000));
  row('ppo', 'Adam step (10 fused kernels)', time(() => agent.optimizer.step(), 2000));
  row('ppo', 'one minibatch in PPO.train (incl. host gather, diagnostics)', time(() => { agent.opts.nEpochs = 1; agent.train(); }, 200));
}
// ---- native calls against wall time: what is kernel work and what is JS around it ----
const { native } = await import('../../dist/native.js');
const { timeNativeCalls } = await import('../native-timer.mjs');
const timer = timeNativeCalls(native);
const split = [];
async function nativeSplit(label, setup, fn, reps) {
  const run = await setup();
  for (let i = 0; i < 20; i++) run();
  const walls = [], natives = [], calls = [], byName = new Map();
  for (let i = 0; i < reps; i++) {
    timer.start();
    const t0 = performance.now();
    run();
    walls.push(performance.now() - t0);
    const current = timer.stop();
    let ms = 0, n = 0;
    for (const [k, e] of current) { ms += e.ms; n += e.calls; const b = byName.get(k) ?? { ms: 0, calls: 0 }; b.ms += e.ms; b.calls += e.calls; byName.set(k, b); }
    natives.push(ms);
    calls.push(n);
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const top = [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 6).map(([k, e]) => `${k} ${(e.ms / reps * 1000).toFixed(0)}us/${(e.calls / reps).toFixed(0)}`);
  const r = { label, wallUs: med(walls) * 1000, nativeUs: med(natives) * 1000, nativeCalls: med(calls), top };
  split.push(r);
  console.log(`${label}: wall ${r.wallUs.toFixed(0)} us, in native calls ${r.nativeUs.toFixed(0)} us over ${r.nativeCalls} calls, JS ${(r.wallUs - r.nativeUs).toFixed(0)} us (medians); mean per step by function (us/calls): ${top.join(', ')}`);
}
await nativeSplit('DQN gradient step (batch 64, 256-256)', async () => {
  const a = new rl.DQN('CartPole-v1', { batchSize: 64, learningStarts: 0, policyKwargs: { netArch: [256, 256] }, seed: 0 });
  await a.learn({ totalTimesteps: 1000 });
  return () => a.train(1);
}, null, 100);
await nativeSplit('PPO minibatch update (256 rows, 64-64)', async () => {
  const a = new rl.PPO('CartPole-v1', { nEnvs: 8, nSteps: 32, batchSize: 256, nEpochs: 1, seed: 0 });
  await a.learn({ totalTimesteps: 512 });
  return () => a.train();
}, null, 100);
await nativeSplit('PPO acting step (8 envs)', async () => {
  const a = new rl.PPO('CartPole-v1', { nEnvs: 8, seed: 0 });
  const obs = Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) * 0.05);
  return () => kiln.scope(() => a.policy.act(obs, 8, false));
}, null, 300);

const out = process.argv.includes('--json') ? process.argv[process.argv.indexOf('--json') + 1] : new URL('./out/profile.json', import.meta.url).pathname;
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), threads: process.env.KILN_NUM_THREADS ?? 'default', rows, split }, null, 2));
