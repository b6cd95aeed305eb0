/**
 * kiln.fit: the training loop most scripts need — epochs over a DataLoader, validation,
 * metrics, callbacks, early stopping, checkpoints, a progress bar and an HTML report. Each step
 * runs inside kiln.scope (flat memory) and the loop yields to the event loop between batches,
 * so a server in the same process keeps answering. Plain loops stay first-class: fit is built
 * only from the public API.
 */
import { checkOptions as knownOptions } from '../options.js';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine.js';
import { DataLoader, Dataset, disposeBatch } from '../data/dataset.js';
import { KilnError, check } from '../errors.js';
import { crossEntropy } from '../losses.js';
import { scope } from '../memory.js';
import { type Module, moduleDevice } from '../nn/module.js';
import { OneCycleLR, ReduceLROnPlateau } from '../optim/lr_scheduler.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';
import { BestTracker, type Callback, EarlyStopper, type EarlyStoppingOptions, type EpochRecord, type FitHistory } from './callbacks.js';
import { type CheckpointParts, type Stateful, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { EpochMeter, type MetricName, countCorrect } from './metrics.js';
import { Progress } from './progress.js';
import { writeReport } from './report.js';
import { fitDistributed } from '../distributed/fit-support.js';

export type { BatchInfo, Callback, Callbacks, EarlyStoppingOptions, EpochRecord, FitHistory } from './callbacks.js';
/** The earlyStopping option of fit. */
export type EarlyStopping = EarlyStoppingOptions;

type LossFn = (output: Tensor, target: Tensor) => Tensor;

export interface FitOptions {
  trainData: DataLoader | Dataset<any>;
  valData?: DataLoader | Dataset<any>;
  /** Batch size when a Dataset (not a DataLoader) is given; default 32. */
  batchSize?: number;
  epochs: number;
  optimizer: Optimizer<any>;
  /** loss(output, target) -> scalar; default: cross-entropy. */
  loss?: LossFn;
  /** Default ['accuracy'] (reported when the targets are int32 class indices). */
  metrics?: MetricName[];
  callbacks?: Callback | Callback[];
  earlyStopping?: EarlyStoppingOptions;
  /** Saves a checkpoint every `every` epochs (default 1) and after the last; keeps the newest `keepLast`. */
  checkpoint?: { dir: string; every?: number; keepLast?: number };
  /** A checkpoint written by fit (or saveCheckpoint): training continues after its epoch. */
  resumeFrom?: string;
  /** ReduceLROnPlateau steps on valLoss (else loss) each epoch; OneCycleLR every batch; others every epoch. */
  scheduler?: Stateful & { step(metric?: number): void };
  schedulerStep?: 'epoch' | 'batch';
  /** 'auto' (default) and true: a progress bar on a terminal, a line per epoch otherwise; false: silent. */
  verbose?: boolean | 'auto';
  /** Writes a self-contained HTML report with loss/accuracy curves to this path. */
  report?: string;
  /** Where progress goes instead of process.stdout (always as plain lines). */
  write?: (text: string) => void;
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

function checkOptions(model: Module, opts: FitOptions): void {
  check(opts !== null && typeof opts === 'object', 'options: expected an object');
  knownOptions(opts, ['trainData', 'valData', 'batchSize', 'epochs', 'optimizer', 'loss', 'metrics', 'callbacks', 'earlyStopping',
    'checkpoint', 'resumeFrom', 'scheduler', 'schedulerStep', 'verbose', 'report', 'write'], 'fit');
  if (opts.earlyStopping) knownOptions(opts.earlyStopping, ['monitor', 'patience', 'minDelta', 'mode'], 'fit: earlyStopping');
  if (opts.checkpoint) knownOptions(opts.checkpoint, ['dir', 'every', 'keepLast'], 'fit: checkpoint');
  check(typeof model?.forward === 'function', 'model: expected an nn.Module');
  check(Number.isInteger(opts.epochs) && opts.epochs > 0, () => `epochs: expected a positive integer, got ${opts.epochs}`);
  check(opts.optimizer && typeof opts.optimizer.step === 'function', 'optimizer: expected an Optimizer');
  check(opts.batchSize === undefined || (Number.isInteger(opts.batchSize) && opts.batchSize > 0),
    () => `batchSize: expected a positive integer, got ${opts.batchSize}`);
  check(opts.loss === undefined || typeof opts.loss === 'function', 'loss: expected a function (output, target) => Tensor');
  for (const m of opts.metrics ?? []) check(m === 'accuracy', () => `metrics: unknown metric '${m}' (known: accuracy)`);
  const ck = opts.checkpoint;
  if (ck) {
    check(typeof ck.dir === 'string' && ck.dir.length > 0, 'checkpoint.dir: expected a directory path');
    check(ck.every === undefined || (Number.isInteger(ck.every) && ck.every > 0), () => `checkpoint.every: expected a positive integer, got ${ck.every}`);
    check(ck.keepLast === undefined || (Number.isInteger(ck.keepLast) && ck.keepLast > 0), () => `checkpoint.keepLast: expected a positive integer, got ${ck.keepLast}`);
  }
  check(opts.schedulerStep === undefined || opts.schedulerStep === 'epoch' || opts.schedulerStep === 'batch',
    () => `schedulerStep: expected 'epoch' or 'batch', got ${opts.schedulerStep}`);
}

export async function fit(model: Module, opts: FitOptions): Promise<FitHistory> {
  checkOptions(model, opts);
  const batchSize = opts.batchSize ?? 32;
  // under DistributedDataParallel: each rank's share of a Dataset, and rank 0 alone writes
  const dist = fitDistributed(model);
  const train = dist && opts.trainData instanceof Dataset ? dist.shard(opts.trainData, batchSize, true)
    : asLoader(opts.trainData, batchSize, true, 'trainData');
  const val = opts.valData ? asLoader(opts.valData, batchSize, false, 'valData') : null;
  const lossFn: LossFn = opts.loss ?? ((o, t) => crossEntropy(o, t));
  const withAccuracy = (opts.metrics ?? ['accuracy']).includes('accuracy');
  const callbacks = opts.callbacks === undefined ? [] : Array.isArray(opts.callbacks) ? opts.callbacks : [opts.callbacks];
  const write = opts.write ?? ((s: string) => process.stdout.write(s));
  const progress = opts.verbose === false || (dist !== null && !dist.isMain) ? null
    : new Progress({ tty: opts.write === undefined && process.stdout.isTTY === true, write }, opts.epochs);
  const stopper = opts.earlyStopping ? new EarlyStopper(opts.earlyStopping, val !== null) : null;
  const tracker = stopper ?? new BestTracker({}, val !== null);
  const sched = opts.scheduler;
  const schedPerBatch = sched !== undefined && (opts.schedulerStep ?? (sched instanceof OneCycleLR ? 'batch' : 'epoch')) === 'batch';
  const parts: CheckpointParts = { model, optimizer: opts.optimizer, scheduler: sched ?? null };

  let history: EpochRecord[] = [];
  let startEpoch = 1;
  if (opts.resumeFrom) {
    const info = await loadCheckpoint(opts.resumeFrom, parts);
    history = info.history;
    startEpoch = info.epoch + 1;
    for (const r of history) tracker.observe(r);
  }

  let stoppedEarly = false;
  for (const cb of callbacks) await cb.onTrainBegin?.();
  for (let epoch = startEpoch; epoch <= opts.epochs; epoch++) {
    train.setEpoch(epoch - 1); // the shuffle order depends on the epoch alone, so a resumed run sees the same batches
    model.train();
    for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
    progress?.beginEpoch();
    const lr = currentLr(opts.optimizer);
    const t0 = performance.now();
    let meter = new EpochMeter();
    const batches = train.length;
    let b = 0;
    const device = moduleDevice(model);
    for await (const batch of train) {
      const [x0, y0] = batch as Tensor[];
      const size = x0.shape[0];
      const step = scope(() => {
        // the batch goes to the model's device (to() returns the tensor itself when it is there)
        const x = x0.to(device);
        const y = y0.to(device);
        const out = model.forward(x);
        const loss = lossFn(out, y);
        check(loss.numel === 1, () => `loss: expected a scalar loss, got shape [${loss.shape.join(', ')}]`);
        opts.optimizer.zeroGrad();
        loss.backward();
        dist?.afterBackward();
        opts.optimizer.step();
        return { loss: loss.item(), correct: withAccuracy ? countCorrect(out, y) : undefined };
      });
      disposeBatch(batch);
      if (!Number.isFinite(step.loss)) throw new KilnError(`fit: the loss became ${step.loss} at epoch ${epoch}, batch ${b}`);
      meter.add(step.loss, size, step.correct);
      if (schedPerBatch) sched!.step();
      for (const cb of callbacks) await cb.onBatchEnd?.({ epoch, batch: b, batches, loss: step.loss, size });
      b++;
      progress?.batch(epoch, b, batches, meter.samples, { loss: meter.loss, acc: meter.accuracy });
      await yieldToEventLoop();
    }
    if (dist) meter = await dist.reduce(meter);
    const seconds = (performance.now() - t0) / 1000;
    const record: EpochRecord = { epoch, loss: meter.loss, seconds, samplesPerSec: meter.samples / seconds, lr };
    if (meter.accuracy !== undefined) record.accuracy = meter.accuracy;
    if (val) Object.assign(record, await evaluate(model, val, lossFn, withAccuracy));
    if (sched && !schedPerBatch) {
      if (sched instanceof ReduceLROnPlateau) sched.step(record.valLoss ?? record.loss);
      else sched.step();
    }
    history.push(record);
    progress?.endEpoch(epoch, { loss: record.loss, acc: record.accuracy, valLoss: record.valLoss, valAcc: record.valAccuracy }, record.samplesPerSec, seconds);

    let stop = false;
    for (const cb of callbacks) if ((await cb.onEpochEnd?.(record, history)) === 'stop') stop = true;
    if (stopper) {
      if (stopper.shouldStop(record)) stop = true;
    } else {
      tracker.observe(record);
    }
    const ck = opts.checkpoint;
    if (ck && (epoch % (ck.every ?? 1) === 0 || epoch === opts.epochs || stop)) {
      if (dist === null || dist.isMain) await writeCheckpoint(ck, parts, epoch, history);
      await dist?.barrier();
    }
    if (stop) {
      stoppedEarly = epoch < opts.epochs;
      break;
    }
  }
  const result: FitHistory = { epochs: history, stoppedEarly, bestEpoch: tracker.bestEpoch };
  if (opts.report && (dist === null || dist.isMain)) await writeReport(opts.report, history);
  for (const cb of callbacks) await cb.onTrainEnd?.(result);
  return result;
}

/** Mean loss (and accuracy, for class-index targets) over a loader, in eval mode without gradients. */
export async function evaluate(model: Module, data: DataLoader | Dataset<any>, lossFn: LossFn = crossEntropy,
  withAccuracy = true): Promise<{ valLoss: number; valAccuracy?: number }> {
  const dist = fitDistributed(model);
  const loader = dist && data instanceof Dataset ? dist.shard(data, 256, false) : asLoader(data, 256, false, 'data');
  const wasTraining = model.training;
  model.eval();
  let meter = new EpochMeter();
  const device = moduleDevice(model);
  try {
    for await (const batch of loader) {
      const [x, y] = batch as Tensor[];
      const r = noGrad(() => scope(() => {
        const out = model.forward(x.to(device));
        const yd = y.to(device);
        return { loss: lossFn(out, yd).item(), correct: withAccuracy ? countCorrect(out, yd) : undefined };
      }));
      meter.add(r.loss, x.shape[0], r.correct);
      disposeBatch(batch);
      await yieldToEventLoop();
    }
  } finally {
    model.train(wasTraining);
  }
  if (dist) meter = await dist.reduce(meter);
  const acc = meter.accuracy;
  return acc === undefined ? { valLoss: meter.loss } : { valLoss: meter.loss, valAccuracy: acc };
}

/** Writes epoch-NNNN.safetensors in dir, then removes all but the newest keepLast of them. */
async function writeCheckpoint(cfg: { dir: string; keepLast?: number }, parts: CheckpointParts, epoch: number,
  history: EpochRecord[]): Promise<void> {
  await mkdir(cfg.dir, { recursive: true });
  await saveCheckpoint(join(cfg.dir, `epoch-${String(epoch).padStart(4, '0')}.safetensors`), parts, { epoch, history });
  if (cfg.keepLast !== undefined) {
    const files = (await readdir(cfg.dir)).filter((f) => /^epoch-\d+\.safetensors$/.test(f)).sort();
    for (const f of files.slice(0, Math.max(files.length - cfg.keepLast, 0))) await rm(join(cfg.dir, f));
  }
}
