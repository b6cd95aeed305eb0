// The RL result table from bench/rl/out/results.jsonl: median (and range) over seeds of the
// deterministic 100-episode evaluation, beside the target.
//   node bench/rl/summarize.mjs [results.jsonl] [--since <ISO date>]   (--since: only Kiln runs from then on)
import { readFileSync, readdirSync } from 'node:fs';
import { configs } from './zoo.mjs';

const args = process.argv.slice(2);
const sinceAt = args.indexOf('--since');
const since = sinceAt >= 0 ? args.splice(sinceAt, 2)[1] : '';
const file = args[0] ?? new URL('./out/results.jsonl', import.meta.url).pathname;
// a (config, seed) run again replaces its earlier line
const latest = new Map();
for (const l of readFileSync(file, 'utf8').trim().split('\n').filter(Boolean)) {
  const r = JSON.parse(l);
  if (!since || (r.date ?? '') >= since) latest.set(`${r.config}/${r.seed}`, r);
}
const rows = [...latest.values()];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
console.log('| config | algorithm | env | steps | target | median of seeds | per seed (seed 0..4) | seeds run | train time per seed |');
console.log('| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: |');
for (const [name, cfg] of Object.entries(configs)) {
  const runs = rows.filter((r) => r.config === name && !r.failed);
  if (runs.length === 0) continue;
  runs.sort((a, b) => a.seed - b.seed);
  const m = median(runs.map((r) => r.meanReward));
  const secs = median(runs.map((r) => r.trainSeconds));
  console.log(`| ${name} | ${cfg.algo}${cfg.options.useSde ? ' (gSDE)' : ''} | ${cfg.env} | ${runs[0].steps / 1000}k | ${cfg.target} | ${m.toFixed(1)} | ${runs.map((r) => r.meanReward.toFixed(1)).join(', ')} | ${runs.length} | ${secs.toFixed(0)} s |`);
}
// runs with train.mjs --eval-freq: the best checkpoint EvalCallback kept, evaluated as the final policy is
const withBest = rows.filter((r) => r.bestMeanReward !== undefined).sort((a, b) => a.config.localeCompare(b.config) || a.seed - b.seed);
if (withBest.length > 0) {
  console.log('\n| config | seed | final policy | best checkpoint (step) | EvalCallback means (step: mean of its episodes) |');
  console.log('| --- | ---: | ---: | ---: | --- |');
  for (const r of withBest) {
    console.log(`| ${r.config} | ${r.seed} | ${r.meanReward.toFixed(1)} | ${r.bestMeanReward.toFixed(1)} (${r.bestTimesteps}) | ${r.evaluations.map(([t, m]) => `${t / 1000}k: ${m.toFixed(0)}`).join(', ')} |`);
  }
}
// the PyTorch peer's DQN runs (bench/rl/run-peers.sh): bench/rl/out/torch-dqn-<env>.jsonl
const outDir = new URL('./out/', import.meta.url);
const peerFiles = readdirSync(outDir).filter((f) => /^torch-dqn-.*\.jsonl$/.test(f)).sort();
const peerRows = [];
for (const f of peerFiles) {
  const seeds = new Map();
  for (const l of readFileSync(new URL(f, outDir), 'utf8').trim().split('\n').filter(Boolean)) {
    const r = JSON.parse(l);
    if (!r.failed && r.evalMean !== undefined) seeds.set(r.seed, r);
  }
  const runs = [...seeds.values()].sort((a, b) => a.seed - b.seed);
  if (runs.length > 0) peerRows.push([f.slice('torch-dqn-'.length, -'.jsonl'.length), runs]);
}
if (peerRows.length > 0) {
  console.log('\n| PyTorch peer (DQN) | steps | median of seeds | per seed (seed: eval mean) | seeds run | train time per seed |');
  console.log('| --- | ---: | ---: | --- | ---: | ---: |');
  for (const [name, runs] of peerRows) {
    console.log(`| ${name} | ${runs[0].steps / 1000}k | ${median(runs.map((r) => r.evalMean)).toFixed(1)} | ${runs.map((r) => `${r.seed}: ${r.evalMean.toFixed(1)}`).join(', ')} | ${runs.length} | ${median(runs.map((r) => r.seconds)).toFixed(0)} s |`);
  }
}
