// Simple regret of Kiln's samplers beside Optuna's (Debian python3-optuna) in one run.
//   npm run build:ts && node bench/tune/regret.mjs [--seeds 20] [--functions branin,hartmann6,rosenbrock4]
//     [--json bench/out/tune-regret.json] [--no-optuna] [--samplers "Kiln TPE,Optuna TPE"]
// For each function: Kiln Random, TPE, GP, then Optuna Random, TPE (a Python process per
// sampler), over seeds 0..N-1; regret = best value found - known minimum. The table gives the
// median over seeds and the mean time per trial spent outside the objective (sampler overhead),
// as CPU time of the process (wall time is in the JSON: on a shared machine it measures the load).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../../dist/index.js';
import { FUNCTIONS } from './functions.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const arg = (name, def) => (args.includes(name) ? args[args.indexOf(name) + 1] : def);
const seeds = Number(arg('--seeds', 20));
const names = arg('--functions', Object.keys(FUNCTIONS).join(',')).split(',');
const jsonPath = arg('--json', join(here, '../out/tune-regret.json'));
const withOptuna = !args.includes('--no-optuna');
// e.g. --samplers "Kiln TPE,Optuna TPE" runs only those (the ratio columns need Kiln GP and Optuna TPE)
const only = args.includes('--samplers') ? arg('--samplers', '').split(',') : null;
const wanted = (label) => only === null || only.includes(label);
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

const { tune } = kiln;
tune.setLogLevel('silent');
const SAMPLERS = {
  'Kiln Random': (seed) => new tune.RandomSampler({ seed }),
  'Kiln TPE': (seed) => new tune.TPESampler({ seed }),
  'Kiln GP': (seed) => new tune.GPSampler({ seed }),
};

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
};

async function runKiln(fn, make) {
  const regrets = [], overheadMs = [], cpuMs = [], lastTrialCpuMs = [], maxTrialCpuMs = [];
  for (let seed = 0; seed < seeds; seed++) {
    const study = tune.createStudy({ sampler: make(seed) });
    let spent = 0, lastCpu = null, worst = 0, final = 0;
    const t0 = performance.now(), c0 = process.cpuUsage();
    lastCpu = process.cpuUsage();
    await study.optimize((trial) => {
      const x = fn.bounds.map(([lo, hi], i) => trial.suggestFloat(`x${i}`, lo, hi));
      const a = performance.now();
      const v = fn.f(x);
      const b = performance.now();
      spent += b - a;
      return v;
    }, { nTrials: fn.nTrials, callbacks: [() => {
      // CPU time of each whole trial (the objective's share is negligible)
      const d = process.cpuUsage(lastCpu);
      final = (d.user + d.system) / 1000;
      worst = Math.max(worst, final);
      lastCpu = process.cpuUsage();
    }] });
    const total = performance.now() - t0, cpu = process.cpuUsage(c0);
    regrets.push(study.bestValue - fn.optimum);
    overheadMs.push((total - spent) / fn.nTrials);
    cpuMs.push(((cpu.user + cpu.system) / 1000 - spent) / fn.nTrials);
    lastTrialCpuMs.push(final);
    maxTrialCpuMs.push(worst);
  }
  return { regrets, overheadMs, cpuMs, lastTrialCpuMs, maxTrialCpuMs };
}

function runOptuna(name, sampler) {
  const r = spawnSync(PYTHON, [join(here, 'optuna_regret.py'), name, sampler, String(seeds)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`optuna_regret.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const results = {};
for (const name of names) {
  const fn = FUNCTIONS[name];
  if (!fn) throw new Error(`unknown function ${name} (known: ${Object.keys(FUNCTIONS).join(', ')})`);
  results[name] = {};
  for (const [label, make] of Object.entries(SAMPLERS)) {
    if (!wanted(label)) continue;
    results[name][label] = await runKiln(fn, make);
    process.stderr.write(`${name} ${label}: median regret ${median(results[name][label].regrets).toPrecision(4)}\n`);
  }
  if (withOptuna) {
    for (const [label, s] of [['Optuna Random', 'random'], ['Optuna TPE', 'tpe']]) {
      if (!wanted(label)) continue;
      results[name][label] = runOptuna(name, s);
      process.stderr.write(`${name} ${label}: median regret ${median(results[name][label].regrets).toPrecision(4)}\n`);
    }
  }
}

const optunaVersion = withOptuna ? spawnSync(PYTHON, ['-c', 'import optuna; print(optuna.__version__)'], { encoding: 'utf8' }).stdout.trim() : null;
const labels = Object.keys(results[names[0]]);
const ABS = { branin: 0.05, hartmann6: 0.1 };
console.log(`\nMedian simple regret over ${seeds} seeds (mean sampler overhead per trial, CPU ms)\n`);
console.log(`| function (trials) | ${labels.join(' | ')} | GP / Optuna TPE | target |`);
console.log(`|---|${labels.map(() => '---:').join('|')}|---:|---|`);
const summary = {};
for (const name of names) {
  const r = results[name];
  const med = Object.fromEntries(labels.map((l) => [l, median(r[l].regrets)]));
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  const ovh = Object.fromEntries(labels.map((l) => [l, mean(r[l].cpuMs)]));
  const wall = Object.fromEntries(labels.map((l) => [l, mean(r[l].overheadMs)]));
  const ratio = med['Optuna TPE'] !== undefined && med['Kiln GP'] !== undefined ? med['Kiln GP'] / med['Optuna TPE'] : NaN;
  const target = `GP ≤ 0.5x Optuna TPE${ABS[name] ? ` and ≤ ${ABS[name]}` : ''}`;
  summary[name] = { median: med, overheadCpuMs: ovh, overheadWallMs: wall, gpOverOptunaTpe: ratio, tpeOverOptunaTpe: med['Kiln TPE'] / med['Optuna TPE'] };
  console.log(`| ${name} (${FUNCTIONS[name].nTrials}) | ${labels.map((l) => `${med[l].toPrecision(3)} (${ovh[l].toFixed(1)})`).join(' | ')} | ${Number.isNaN(ratio) ? "-" : ratio.toFixed(3)} | ${target} |`);
}
for (const name of names) {
  const s = summary[name];
  const gp = results[name]['Kiln GP'];
  console.log(`${name}: Kiln TPE / Optuna TPE = ${s.tpeOverOptunaTpe?.toFixed(3)}` + (gp ? `; Kiln GP CPU ms of the last trial (median over seeds) ${median(gp.lastTrialCpuMs).toFixed(1)}, of the costliest trial ${Math.max(...gp.maxTrialCpuMs).toFixed(1)}` : ''));
}
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), seeds, optunaVersion, summary, results }, null, 1));
console.log(`\nwrote ${jsonPath}`);
