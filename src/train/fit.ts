/**
 * kiln.fit: the training loop most scripts need — epochs over a DataLoader, validation,
 * metrics, callbacks, early stopping, checkpoints, a progress bar and an HTML report. Each step
 * runs inside kiln.scope (flat memory) and the loop yields to the event loop between batches,
 * so a server in the same process keeps answering. Plain loops stay first-class: fit is built
 * only from the public API.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { DataLoader, Dataset, disposeBatch } from '../data/dataset.js';
import { KilnError, check } from '../errors.js';
import { crossEntropy } from '../losses.js';
import { scope } from '../memory.js';
import type { Module } from '../nn/module.js';
import { ReduceLROnPlateau } from '../optim/lr_scheduler.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';
import { type Stateful, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { EpochMeter, type MetricName, countCorrect } from './metrics.js';
import { Progress } from './progress.js';
import { writeReport } from './report.js';

export interface EpochRecord {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  seconds: number;
  samplesPerSec: number;
  lr?: number;
}

export interface BatchInfo {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  size: number;
}

export interface Callbacks {
  onTrainBegin?(): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onBatchEnd?(info: BatchInfo): void | Promise<void>;
  /** Return 'stop' to end training after this epoch. */
  onEpochEnd?(record: EpochRecord, history: EpochRecord[]): void | 'stop' | Promise<void | 'stop'>;
  onTrainEnd?(history: FitHistory): void | Promise<void>;
}

export interface EarlyStopping {
  monitor?: 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy';
  patience?: number;
  minDelta?: number;
  mode?: 'min' | 'max';
}

export interface FitOptions {
  trainData: DataLoader | Dataset<any>;
  valData?: DataLoader | Dataset<any>;
  /** Batch size when a Dataset (not a DataLoader) is given; default 32. */
  batchSize?: number;
  epochs: number;
  optimizer: Optimizer<any>;
  /** loss(output, target); default: cross-entropy. */
  loss?: (output: Tensor, target: Tensor) => Tensor;
  metrics?: MetricName[];
  callbacks?: Callbacks | Callbacks[];
  earlyStopping?: EarlyStopping;
  checkpoint?: { dir: string; every?: number; keepLast?: number };
  resumeFrom?: string;
  /** Stepped once per epoch (ReduceLROnPlateau gets valLoss, else loss), or per batch. */
  scheduler?: Stateful & { step(metric?: number): void };
  schedulerStep?: 'epoch' | 'batch';
  /** true: progress bar on a terminal, lines otherwise; 'auto' (default) the same; false: silent. */
  verbose?: boolean | 'auto';
  /** Writes a self-contained HTML report with loss/accuracy curves to this path. */
  report?: string;
  /** Where progress goes (default: process.stdout). */
  write?: (text: string) => void;
}

export interface FitHistory {
  epochs: EpochRecord[];
  stoppedEarly: boolean;
  bestEpoch?: number;
}

function asLoader(d: DataLoader | Dataset<any>, batchSize: number, shuffle: boolean, name: string): DataLoader {
  if (d instanceof DataLoader) return d;
  check(d instanceof Dataset, () => `${name}: expected a DataLoader or a Dataset`);
  return new DataLoader(d, { batchSize, shuffle });
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function currentLr(opt: Optimizer<any>): number | undefined {
  const lr = (opt.paramGroups[0] as any)?.lr;
  return typeof lr === 'number' ? lr : undefined;
}

export async function fit(model: Module, opts: FitOptions): Promise<FitHistory> {
  check(opts && typeof opts === 'object', 'options: expected an object');
  check(typeof model?.forward === 'function', 'model: expected an nn.Module');
  check(Number.isInteger(opts.epochs) && opts.epochs > 0, () => `epochs: expected a positive integer, got ${opts.epochs}`);
  check(opts.optimizer && typeof opts.optimizer.step === 'function', 'optimizer: expected an Optimizer');
  const batchSize = opts.batchSize ?? 32;
  const train = asLoader(opts.trainData, batchSize, true, 'trainData');
  const val = opts.valData ? asLoader(opts.valData, batchSize, false, 'valData') : null;
  const lossFn = opts.loss ?? ((o: Tensor, t: Tensor) => crossEntropy(o, t));
  const wantAccuracy = (opts.metrics ?? ['accuracy']).includes('accuracy');
  const callbacks = opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks];
  const verbose = opts.verbose ?? 'auto';
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const progress = verbose === false ? null : new Progress({ tty: opts.write === undefined && process.stdout.isTTY === true, write }, opts.epochs);
  const es = opts.earlyStopping;
  const monitor = es?.monitor ?? (val ? 'valLoss' : 'loss');
  const esMode = es?.mode ?? (monitor.toLowerCase().includes('accuracy') ? 'max' : 'min');

  let history: EpochRecord[] = [];
  let startEpoch = 1;
  const parts = { model, optimizer: opts.optimizer, scheduler: opts.scheduler ?? null };
  if (opts.resumeFrom) {
    const info = await loadCheckpoint(opts.resumeFrom, parts);
    history = info.history;
    startEpoch = info.epoch + 1;
  }

  let best = esMode === 'min' ? Infinity : -Infinity;
  let bestEpoch: number | undefined;
  let sinceBest = 0;
  for (const r of history) {
    const v = r[monitor];
    if (typeof v === 'number' && (esMode === 'min' ? v < best - (es?.minDelta ?? 0) : v > best + (es?.minDelta ?? 0))) {
      best = v;
      bestEpoch = r.epoch;
      sinceBest = 0;
    } else sinceBest++;
  }
  let stoppedEarly = false;
  for (const cb of callbacks) await cb.onTrainBegin?.();

  for (let epoch = startEpoch; epoch <= opts.epochs; epoch++) {
    train.setEpoch(epoch - 1);
    model.train();
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    progress?.beginEpoch();
    const t0 = performance.now();
    const meter = new EpochMeter();
    const batches = train.length;
    let b = 0;
    for await (const batch of train) {
      const [x, y] = batch as Tensor[];
      const step = scope(() => {
        const out = model.forward(x);
        const loss = lossFn(out, y);
        check(loss.numel === 1, () => `loss: expected a scalar loss, got shape [${loss.shape.join(', ')}]`);
        opts.optimizer.zeroGrad();
        loss.backward();
        opts.optimizer.step();
        return { loss: loss.item(), correct: wantAccuracy ? countCorrect(out, y) : undefined };
      });
      const size = x.shape[0];
      disposeBatch(batch);
      if (!Number.isFinite(step.loss)) throw new KilnError(`fit: the loss became ${step.loss} at epoch ${epoch}, batch ${b}`);
      meter.add(step.loss, size, step.correct);
      b++;
      if (opts.scheduler && opts.schedulerStep === 'batch') opts.scheduler.step();
      for (const cb of callbacks) await cb.onBatchEnd?.({ epoch, batch: b - 1, batches, loss: step.loss, size });
      progress?.batch(epoch, b, batches, meter.samples, wantAccuracy ? { loss: meter.loss, acc: meter.accuracy } : { loss: meter.loss });
      await yieldToEventLoop();
    }
    const seconds = (performance.now() - t0) / 1000;
    const record: EpochRecord = {
      epoch, loss: meter.loss, seconds, samplesPerSec: meter.samples / seconds, lr: currentLr(opts.optimizer),
    };
    if (wantAccuracy) record.accuracy = meter.accuracy;
    if (val) Object.assign(record, await evaluate(model, val, lossFn, wantAccuracy));
    if (opts.scheduler && opts.schedulerStep !== 'batch') {
      if (opts.scheduler instanceof ReduceLROnPlateau) opts.scheduler.step(record.valLoss ?? record.loss);
      else opts.scheduler.step();
    }
    history.push(record);
    progress?.endEpoch(epoch, { loss: record.loss, acc: record.accuracy, valLoss: record.valLoss, valAcc: record.valAccuracy }, record.samplesPerSec, seconds);

    let stop = false;
    for (const cb of callbacks) if ((await cb.onEpochEnd?.(record, history)) === 'stop') stop = true;
    const v = record[monitor];
    if (typeof v === 'number') {
      const improved = esMode === 'min' ? v < best - (es?.minDelta ?? 0) : v > best + (es?.minDelta ?? 0);
      if (improved) {
        best = v;
        bestEpoch = epoch;
        sinceBest = 0;
      } else {
        sinceBest++;
        // as Keras: stop after `patience` epochs in a row without improvement
        if (es && sinceBest >= (es.patience ?? 0)) stop = true;
      }
    }

    if (opts.checkpoint && (epoch % (opts.checkpoint.every ?? 1) === 0 || epoch === opts.epochs || stop)) {
      await writeCheckpoint(opts.checkpoint, parts, epoch, history);
    }
    if (stop) {
      stoppedEarly = epoch < opts.epochs;
      break;
    }
  }
  const result: FitHistory = { epochs: history, stoppedEarly, bestEpoch };
  if (opts.report) await writeReport(opts.report, history);
  for (const cb of callbacks) await cb.onTrainEnd?.(result);
  return result;
}

/** Mean loss (and accuracy) over a loader, in eval mode without gradients. */
export async function evaluate(model: Module, loader: DataLoader, lossFn: (o: Tensor, t: Tensor) => Tensor = crossEntropy,
  withAccuracy = true): Promise<{ valLoss: number; valAccuracy?: number }> {
  const wasTraining = model.training;
  model.eval();
  const meter = new EpochMeter();
  for await (const batch of loader) {
    const [x, y] = batch as Tensor[];
    const r = noGrad(() => scope(() => {
      const out = model.forward(x);
      return { loss: lossFn(out, y).item(), correct: withAccuracy ? countCorrect(out, y) : undefined };
    }));
    meter.add(r.loss, x.shape[0], r.correct);
    disposeBatch(batch);
    await yieldToEventLoop();
  }
  model.train(wasTraining);
  return withAccuracy ? { valLoss: meter.loss, valAccuracy: meter.accuracy } : { valLoss: meter.loss };
}

async function writeCheckpoint(cfg: { dir: string; keepLast?: number }, parts: Parameters<typeof saveCheckpoint>[1],
  epoch: number, history: EpochRecord[]): Promise<void> {
  await mkdir(cfg.dir, { recursive: true });
  await saveCheckpoint(join(cfg.dir, `epoch-${String(epoch).padStart(4, '0')}.safetensors`), parts, { epoch, history });
  if (cfg.keepLast !== undefined && cfg.keepLast > 0) {
    const files = (await readdir(cfg.dir)).filter((f) => /^epoch-\d+\.safetensors$/.test(f)).sort();
    for (const f of files.slice(0, Math.max(files.length - cfg.keepLast, 0))) await rm(join(cfg.dir, f));
  }
}
