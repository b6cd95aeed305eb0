// Trains one (config, seed) with the zoo's hyperparameters, evaluates the final policy
// deterministically over 100 episodes, and appends a JSON line to bench/rl/out/results.jsonl.
//   node bench/rl/train.mjs <config> <seed> [--steps N] [--report path.html]
import { appendFileSync, mkdirSync } from 'node:fs';
import * as kiln from '../../dist/index.js';
import { configs } from './zoo.mjs';

const [name, seedArg] = process.argv.slice(2);
const flag = (f) => { const i = process.argv.indexOf(f); return i > 0 ? process.argv[i + 1] : undefined; };
const cfg = configs[name];
if (!cfg) throw new Error(`config: expected one of ${Object.keys(configs).join(', ')}`);
const seed = Number(seedArg ?? 0);
const steps = Number(flag('--steps') ?? cfg.totalTimesteps);
const Algo = kiln.rl[cfg.algo];
const agent = new Algo(cfg.env, { ...cfg.options, seed });
const t0 = performance.now();
await agent.learn({ totalTimesteps: steps, report: flag('--report'), callback: {
  onLog: (r) => { if (process.env.VERBOSE) console.log(r.timesteps, r.episodeReturnMean.toFixed(1), r.fps.toFixed(0)); },
} });
const trainSeconds = (performance.now() - t0) / 1000;
const ev = kiln.rl.evaluatePolicy(agent, kiln.rl.make(cfg.env), { nEvalEpisodes: 100, deterministic: true, seed: 10_000 + seed });
const out = { config: name, algo: cfg.algo, env: cfg.env, seed, steps, meanReward: ev.meanReward, stdReward: ev.stdReward,
  trainSeconds, fps: steps / trainSeconds, lastTrainReturnMean: agent.log.records.at(-1)?.episodeReturnMean,
  tensorsLeft: kiln.memory().tensors, date: new Date().toISOString() };
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
appendFileSync(new URL('./out/results.jsonl', import.meta.url), `${JSON.stringify(out)}\n`);
console.log(JSON.stringify(out));
