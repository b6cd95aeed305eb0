// What the four generative programs (autoencoder, vae, dcgan, wgan-gp) share: command-line
// options, the Fashion-MNIST tensors, the per-step loss record, and the files they write
// (DIR/metrics.json, DIR/samples.safetensors, PNG grids). The models and training loops stay in
// each program.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const FULL = '/usr/share/datasets/fashion-mnist';
const SUBSET = join(root, 'data/fashion-mnist-subset');

const OPTIONS = {
  '--epochs': 'training epochs',
  '--seed': 'seed of the weights, the noise and the data order',
  '--out': 'output folder (metrics.json, PNG grid, samples.safetensors)',
  '--data': "'full' (/usr/share/datasets/fashion-mnist) or 'subset' (data/); default full when present",
  '--limit': 'use only the first N training images',
  '--test-limit': 'evaluate on only the first N test images',
  '--samples': 'images written to samples.safetensors (default 10000)',
};

/**
 * The options every program takes; a program's defaults (parseArgs) make some of them always set.
 * @typedef {object} Options
 * @property {string} out output folder
 * @property {number} [epochs]
 * @property {number} [seed]
 * @property {string} [data] 'full' or 'subset'
 * @property {number} [limit]
 * @property {number} [testLimit]
 * @property {number} [samples]
 */

/**
 * Parses --name value pairs; unknown options are an error (a typo must not train with defaults).
 * @template {Record<string, number>} D
 * @param {string} program
 * @param {D} defaults
 * @returns {Options & D}
 */
export function parseArgs(program, defaults) {
  const argv = process.argv.slice(2);
  /** @type {Record<string, any>} */
  const opts = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    if (name === '--help') {
      console.log(`usage: node examples/${program}.mjs [options]\n` + Object.entries(OPTIONS).map(([k, v]) => `  ${k.padEnd(13)} ${v}`).join('\n'));
      process.exit(0);
    }
    if (!(name in OPTIONS)) throw new Error(`${name}: unknown option (expected one of ${Object.keys(OPTIONS).join(', ')})`);
    if (i + 1 >= argv.length) throw new Error(`${name}: expected a value`);
    const key = name.slice(2).replace(/-(\w)/g, (_, c) => c.toUpperCase());
    opts[key] = argv[i + 1];
  }
  for (const key of ['epochs', 'seed', 'limit', 'testLimit', 'samples']) {
    if (opts[key] === undefined) continue;
    const v = Number(opts[key]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${key}: expected a non-negative integer, got ${opts[key]}`);
    opts[key] = v;
  }
  opts.out ??= join('out', program);
  mkdirSync(opts.out, { recursive: true });
  return /** @type {Options & D} */ (opts);
}

/**
 * Training and test images, float32 [N, 1, 28, 28] in [0, 1].
 * @param {Options} opts
 */
export async function loadImages(opts) {
  const full = opts.data === 'full' || (opts.data === undefined && existsSync(join(FULL, 'train-images-idx3-ubyte.gz')));
  if (opts.data !== undefined && opts.data !== 'full' && opts.data !== 'subset') throw new Error(`--data: expected full or subset, got ${opts.data}`);
  const dir = full ? FULL : SUBSET;
  const train = await kiln.data.loadFashionMnist(dir, { split: 'train', limit: opts.limit });
  const test = await kiln.data.loadFashionMnist(dir, { split: 'test', limit: opts.testLimit });
  train.labels.dispose();
  test.labels.dispose();
  console.log(`Fashion-MNIST ${full ? 'full' : 'subset'} (${dir}): ${train.images.shape[0]} training, ${test.images.shape[0]} test images; ` +
    `Kiln ${kiln.backendInfo().cpu.isa}, ${kiln.backendInfo().cpu.threads} threads`);
  return { train: train.images, test: test.images, data: full ? 'full' : 'subset' };
}

/** Per-step losses (host numbers), their epoch means, a count of non-finite values, and times. */
export class LossLog {
  /** @param {string[]} names */
  constructor(names) {
    this.names = names;
    /** @type {Record<string, number[]>} */
    this.steps = Object.fromEntries(names.map((n) => [n, []]));
    /** @type {Record<string, number>[]} */
    this.epochs = [];
    this.nonFinite = 0;
    this.trainSeconds = 0;
    this.trainCpuSeconds = 0;
    /** @type {Record<string, number>} step counts at the start of the epoch (set by startEpoch) */
    this.marks;
    /** @type {NodeJS.CpuUsage} (set by startEpoch) */
    this.cpu0;
    /** @type {number} (set by startEpoch) */
    this.t0;
  }
  /** @param {string} name @param {number} value */
  add(name, value) {
    if (!Number.isFinite(value)) this.nonFinite++;
    this.steps[name].push(value);
  }
  /** Starts an epoch's clocks: wall time, and this process's CPU time (all threads). */
  startEpoch() {
    this.marks = Object.fromEntries(this.names.map((n) => [n, this.steps[n].length]));
    this.cpu0 = process.cpuUsage();
    this.t0 = performance.now();
  }
  /** Closes an epoch: its mean losses, its seconds and the live tensor count. @param {number} epoch */
  endEpoch(epoch) {
    const seconds = (performance.now() - this.t0) / 1000;
    const cpu = process.cpuUsage(this.cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    this.trainSeconds += seconds;
    this.trainCpuSeconds += cpuSeconds;
    /** @type {Record<string, number>} */
    const rec = { epoch, seconds, cpuSeconds, tensors: kiln.memory().tensors };
    for (const n of this.names) {
      const xs = this.steps[n].slice(this.marks[n]);
      rec[n] = xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    }
    this.epochs.push(rec);
    console.log(`epoch ${epoch}: ` + this.names.map((n) => `${n} ${rec[n].toFixed(4)}`).join(', ') +
      `  (${seconds.toFixed(1)} s, ${rec.tensors} live tensors)`);
  }
}

/**
 * A generator's images, float32 [count, 1, 28, 28] in [0, 1], made batch by batch by sample(n).
 * @param {number} count
 * @param {(n: number) => kiln.Tensor} sample
 * @param {number} [batch]
 */
export function collectSamples(count, sample, batch = 500) {
  const out = new Float32Array(count * 784);
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i);
    kiln.scope(() => {
      const x = kiln.noGrad(() => sample(n));
      out.set(x.toTypedArray(), i * 784);
    });
  }
  return kiln.tensor(out, { shape: [count, 1, 28, 28] });
}

/**
 * What a program writes: metrics.json always, samples.safetensors with samples, a PNG with grid.
 * @typedef {object} Outputs
 * @property {LossLog} log
 * @property {Record<string, unknown>} config
 * @property {Record<string, number>} metrics
 * @property {kiln.Tensor} [samples] written to samples.safetensors
 * @property {{ file: string, images: kiln.Tensor, options?: kiln.utils.MakeGridOptions }} [grid] a PNG grid
 */

/**
 * Writes DIR/metrics.json and the files that outputs names, and prints a summary line.
 * @param {Options} opts
 * @param {string} program
 * @param {Outputs} outputs
 */
export async function writeOutputs(opts, program, { log, config, metrics, samples, grid }) {
  const files = [];
  if (samples && samples.shape[0] > 0) {
    await kiln.save({ samples }, join(opts.out, 'samples.safetensors'));
    files.push('samples.safetensors');
  }
  if (grid && grid.images.shape[0] > 0) {
    await kiln.utils.saveImage(grid.images, join(opts.out, grid.file), grid.options);
    files.push(grid.file);
  }
  const record = {
    program, side: 'kiln', seed: opts.seed, epochs: opts.epochs, config,
    trainSeconds: log.trainSeconds, trainCpuSeconds: log.trainCpuSeconds, loadAverage: loadavg(), metrics, nonFinite: log.nonFinite,
    epochLog: log.epochs, stepLosses: log.steps, files, finishedAt: new Date().toISOString(),
  };
  writeFileSync(join(opts.out, 'metrics.json'), JSON.stringify(record, null, 1) + '\n');
  console.log(`${program}: ${Object.entries(metrics).map(([k, v]) => `${k} ${typeof v === 'number' ? v.toFixed(4) : v}`).join(', ')}; ` +
    `${log.trainSeconds.toFixed(1)} s of training; wrote ${files.concat('metrics.json').map((f) => join(opts.out, f)).join(', ')}`);
}
