// Real task: tune lr, weight decay, width and dropout of an MLP on the Fashion-MNIST subset
// (fashion-objective.mjs), with pruning, against random search at the same number of trials.
//   npm run build:ts && node bench/tune/fashion.mjs [--trials 20] [--seeds 3] [--jobs 1] [--json bench/out/tune-fashion.json]
// Setups: TPE + MedianPruner, GP + MedianPruner, Random without pruning. For each: the best
// validation accuracy, the epochs run, and the compute saved by pruning = epochs not run / epochs
// a run without pruning takes (trials x EPOCHS).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../../dist/index.js';
import { EPOCHS, objective } from './fashion-objective.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const nTrials = Number(arg('--trials', 20));
const seeds = Number(arg('--seeds', 3));
const nJobs = Number(arg('--jobs', 1));
const jsonPath = arg('--json', join(here, '../out/tune-fashion.json'));
const { tune } = kiln;
tune.setLogLevel('silent');

// pruning starts once 5 trials are complete and after 2 epochs
const pruner = () => new tune.MedianPruner({ nStartupTrials: 5, nWarmupSteps: 2 });
const SETUPS = {
  'TPE + median pruning': (seed) => ({ sampler: new tune.TPESampler({ seed }), pruner: pruner() }),
  'GP + median pruning': (seed) => ({ sampler: new tune.GPSampler({ seed }), pruner: pruner() }),
  'Random, no pruning': (seed) => ({ sampler: new tune.RandomSampler({ seed }) }),
};

const rows = [];
for (let seed = 0; seed < seeds; seed++) {
  for (const [label, make] of Object.entries(SETUPS)) {
    const study = tune.createStudy({ direction: 'maximize', ...make(seed) });
    const t0 = performance.now();
    await study.optimize(nJobs > 1 ? join(here, 'fashion-objective.mjs') : objective, { nTrials, nJobs });
    const seconds = (performance.now() - t0) / 1000;
    const trials = study.trials;
    const epochs = trials.reduce((s, t) => s + t.intermediateValues.size, 0);
    const row = {
      setup: label, seed, bestValAccuracy: study.bestValue, bestParams: study.bestParams, epochs,
      pruned: trials.filter((t) => t.state === 'PRUNED').length, failed: trials.filter((t) => t.state === 'FAIL').length,
      saved: 1 - epochs / (nTrials * EPOCHS), seconds,
    };
    rows.push(row);
    process.stderr.write(`seed ${seed} ${label}: best ${(row.bestValAccuracy * 100).toFixed(2)}%, ${epochs} epochs, ${row.pruned} pruned, ${seconds.toFixed(0)} s\n`);
  }
}

console.log(`\nFashion-MNIST subset (4000 train / 1000 validation), ${nTrials} trials of up to ${EPOCHS} epochs, ${seeds} seeds, nJobs ${nJobs}\n`);
console.log('| setup | best val. accuracy (mean over seeds) | per seed | epochs run (mean) | compute saved by pruning | pruned trials (mean) | wall s (mean) |');
console.log('|---|---:|---|---:|---:|---:|---:|');
const summary = {};
for (const label of Object.keys(SETUPS)) {
  const r = rows.filter((x) => x.setup === label);
  const mean = (f) => r.reduce((s, x) => s + f(x), 0) / r.length;
  summary[label] = { bestValAccuracy: mean((x) => x.bestValAccuracy), epochs: mean((x) => x.epochs), saved: mean((x) => x.saved), seconds: mean((x) => x.seconds) };
  console.log(`| ${label} | ${(summary[label].bestValAccuracy * 100).toFixed(2)}% | ${r.map((x) => (x.bestValAccuracy * 100).toFixed(1)).join(', ')} | ${summary[label].epochs.toFixed(1)} | ${(summary[label].saved * 100).toFixed(1)}% | ${mean((x) => x.pruned).toFixed(1)} | ${summary[label].seconds.toFixed(1)} |`);
}
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), nTrials, epochs: EPOCHS, seeds, nJobs, summary, rows }, null, 1));
console.log(`\nwrote ${jsonPath}`);
