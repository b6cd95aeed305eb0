// Trains one (config, seed) with the zoo's hyperparameters, evaluates the final policy
// deterministically over 100 episodes, and appends a JSON line to bench/rl/out/results.jsonl.
//   node bench/rl/train.mjs <config> <seed> [--steps N] [--report path.html] [--eval-freq N --eval-episodes K]
// With --eval-freq, an rl.EvalCallback (as the zoo's training runs it: its DQN CartPole agent was
// trained with eval_freq 10000, 10 episodes) keeps the best checkpoint; that checkpoint is then
// evaluated like the final policy, and both figures are written.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
const evalFreq = flag('--eval-freq') === undefined ? 0 : Number(flag('--eval-freq'));
const evalCb = evalFreq > 0 ? new kiln.rl.EvalCallback(kiln.rl.make(cfg.env), { evalFreq: Math.max(Math.floor(evalFreq / (cfg.options.nEnvs ?? 1)), 1),
  nEvalEpisodes: Number(flag('--eval-episodes') ?? 10), seed: 20_000 + seed, bestModelSavePath: mkdtempSync(join(tmpdir(), 'kiln-best-')) }) : null;
const t0 = performance.now();
await agent.learn({ totalTimesteps: steps, report: flag('--report'), callback: [{
  onLog: (r) => { if (process.env.VERBOSE) console.log(r.timesteps, r.episodeReturnMean.toFixed(1), r.fps.toFixed(0)); },
}, ...(evalCb ? [evalCb] : [])] });
const trainSeconds = (performance.now() - t0) / 1000;
const ev = kiln.rl.evaluatePolicy(agent, kiln.rl.make(cfg.env), { nEvalEpisodes: 100, deterministic: true, seed: 10_000 + seed });
const tensorsLeft = kiln.memory().tensors;
let best = {};
if (evalCb) {
  const bestAgent = await Algo.load(evalCb.bestModelPath);
  const bev = kiln.rl.evaluatePolicy(bestAgent, kiln.rl.make(cfg.env), { nEvalEpisodes: 100, deterministic: true, seed: 10_000 + seed });
  best = { evalFreq, evalEpisodes: evalCb.nEvalEpisodes, bestMeanReward: bev.meanReward, bestStdReward: bev.stdReward, bestTimesteps: evalCb.bestTimesteps,
    evaluations: evalCb.evaluations.map((e) => [e.timesteps, e.meanReward]) };
}
const out = { config: name, algo: cfg.algo, env: cfg.env, seed, steps, meanReward: ev.meanReward, stdReward: ev.stdReward, ...best,
  trainSeconds, fps: steps / trainSeconds, lastTrainReturnMean: agent.log.records.at(-1)?.episodeReturnMean,
  tensorsLeft, date: new Date().toISOString() };
mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
appendFileSync(new URL('./out/results.jsonl', import.meta.url), `${JSON.stringify(out)}\n`);
console.log(JSON.stringify(out));
