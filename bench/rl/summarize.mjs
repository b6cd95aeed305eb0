// The RL result table from bench/rl/out/results.jsonl: median (and range) over seeds of the
// deterministic 100-episode evaluation, beside the target.
//   node bench/rl/summarize.mjs [results.jsonl]
import { readFileSync } from 'node:fs';
import { configs } from './zoo.mjs';

const file = process.argv[2] ?? new URL('./out/results.jsonl', import.meta.url).pathname;
const rows = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
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
