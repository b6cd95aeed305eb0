// Training throughput (environment steps per second over the whole learn()) of Kiln's DQN and PPO
// on CartPole-v1 beside the same algorithms in PyTorch 1.13 (bench/rl/torch_rl.py), with the
// zoo's hyperparameters. The sides alternate for --rounds rounds; each keeps its best round.
//   npm run build:ts && node bench/rl/speed.mjs [--rounds 3] [--dqn-steps 5000] [--ppo-steps 8192] [--json out.json]
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import * as kiln from '../../dist/index.js';
import { configs } from './zoo.mjs';
import { choosePeerBlas } from '../peer-blas.mjs';

// PyTorch's OpenBLAS kernel matches Kiln's instruction set on this processor, detected
const peerBlas = choosePeerBlas(kiln.backendInfo().cpu.isa);
console.log(peerBlas.note);

const flag = (f, d) => { const i = process.argv.indexOf(f); return i > 0 ? process.argv[i + 1] : d; };
const rounds = Number(flag('--rounds', 3));
const steps = { dqn: Number(flag('--dqn-steps', 5000)), ppo: Number(flag('--ppo-steps', 8192)) };
const python = flag('--python', '/usr/bin/python3');
const threads = Number(process.env.KILN_NUM_THREADS ?? 0);

async function kilnRun(algo, seed) {
  const cfg = configs[`${algo}-cartpole`];
  const agent = new kiln.rl[cfg.algo](cfg.env, { ...cfg.options, seed });
  const t0 = performance.now();
  // totalTimesteps sets the schedules (epsilon, learning rate) as in a run of that length
  await agent.learn({ totalTimesteps: steps[algo] });
  const seconds = (performance.now() - t0) / 1000;
  return { steps: agent.numTimesteps, seconds, stepsPerSec: agent.numTimesteps / seconds };
}

function torchRun(algo, seed) {
  const r = spawnSync(python, [new URL('./torch_rl.py', import.meta.url).pathname, algo, String(steps[algo]), String(seed)],
    { encoding: 'utf8', env: { ...(peerBlas.env ?? process.env), TORCH_THREADS: String(threads || 1) } });
  if (r.status !== 0) throw new Error(`torch_rl.py ${algo} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const results = { dqn: { kiln: [], torch: [] }, ppo: { kiln: [], torch: [] } };
for (let round = 0; round < rounds; round++) {
  for (const algo of ['dqn', 'ppo']) {
    const k = await kilnRun(algo, round);
    const t = torchRun(algo, round);
    results[algo].kiln.push(k.stepsPerSec);
    results[algo].torch.push(t.stepsPerSec);
    console.log(`round ${round + 1} ${algo}: Kiln ${k.stepsPerSec.toFixed(0)} steps/s, PyTorch ${t.stepsPerSec.toFixed(0)} steps/s`);
  }
}
const rows = ['dqn', 'ppo'].map((algo) => {
  const k = Math.max(...results[algo].kiln), t = Math.max(...results[algo].torch);
  return { algo, steps: steps[algo], kiln: k, torch: t, ratio: k / t, kilnRounds: results[algo].kiln, torchRounds: results[algo].torch };
});
console.log('\n| algorithm (CartPole-v1) | steps | Kiln steps/s | PyTorch steps/s | Kiln / PyTorch |\n| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.algo.toUpperCase()} | ${r.steps} | ${r.kiln.toFixed(0)} | ${r.torch.toFixed(0)} | ${r.ratio.toFixed(2)} |`);
const out = flag('--json', new URL('./out/speed.json', import.meta.url).pathname);
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), threads: threads || 'default', rounds, rows }, null, 2));
