/**
 * TensorBoardLogger: writes TensorBoard event files (what `tensorboard --logdir` reads), as
 * PyTorch's SummaryWriter: scalars, histograms, images, text and hyperparameters. Each event is
 * an `Event` protobuf (proto/tensorboard.proto) in a TFRecord frame (io/tfrecord.ts), written
 * to the file when it is logged, so a crash loses nothing already logged.
 */
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { KilnError, check, checkFinite, shapeStr } from '../errors.js';
import { encodeMessage, protoType } from '../io/proto.js';
import { encodePng } from '../io/png.js';
import { decodeRecords, encodeRecord } from '../io/tfrecord.js';
import type { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { type MakeGridOptions, makeGrid } from '../utils/make-grid.js';
import { checkOptionKeys } from '../utils/options.js';
import type { BatchInfo, Callback, EpochRecord } from './callbacks.js';

const PROTO = 'tensorboard.proto';
const HPARAMS_PROTO = 'tensorboard_hparams.proto';

export interface TensorBoardLoggerOptions {
  /** Appended to the event file's name. */
  filenameSuffix?: string;
}

export interface HistogramOptions {
  /** Number of equal-width buckets between the smallest and largest value (default 64). */
  bins?: number;
}

export interface ImageOptions {
  /** Layout of the image tensor: 'CHW' (default), 'HWC' or 'HW'. */
  dataformats?: 'CHW' | 'HWC' | 'HW';
}

export interface TensorBoardCallbackOptions {
  /** The model whose weights (and gradients, when present) are logged as histograms each epoch. */
  model?: Module;
  /** Log weight and gradient histograms at each epoch's end (default true when a model is given). */
  histograms?: boolean;
  /** Log the batch loss every this many batches (default 10; 0: never). */
  everyNBatches?: number;
}

type HParamValue = number | string | boolean;

let fileCounter = 0;

/** Summary statistics and equal-width buckets of values, as TensorBoard's HistogramProto. */
export function histogramOf(values: ArrayLike<number>, bins = 64): Record<string, unknown> {
  check(Number.isInteger(bins) && bins > 0, () => `bins: expected a positive integer, got ${bins}`);
  const n = values.length;
  check(n > 0, 'values: expected at least one value for a histogram');
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new KilnError(`values: a histogram needs finite values, got ${v} at index ${i}`);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  // bucket i holds (limit[i-1], limit[i]]; the first also holds min itself
  const k = max > min ? bins : 1;
  const width = (max - min) / k;
  const limits = Array.from({ length: k }, (_, i) => (i === k - 1 ? max : min + (i + 1) * width));
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < n; i++) {
    let b = k === 1 ? 0 : Math.ceil((values[i] - min) / width) - 1;
    if (b < 0) b = 0;
    if (b >= k) b = k - 1;
    // floating point: keep v <= limit[b] and v > limit[b-1]
    while (b > 0 && values[i] <= limits[b - 1]) b--;
    while (b < k - 1 && values[i] > limits[b]) b++;
    counts[b]++;
  }
  return { min, max, num: n, sum, sumSquares, bucketLimit: limits, bucket: counts };
}

/** Bytes of an image tensor as HWC uint8: float values in [0, 1] are scaled by 255, int32 ones used as they are. */
function imageBytes(img: Tensor, dataformats: string): { width: number; height: number; channels: number; pixels: Uint8Array } {
  const s = img.shape;
  let H: number;
  let W: number;
  let C: number;
  if (dataformats === 'HW') {
    check(img.ndim === 2, () => `image: expected [H, W] for dataformats 'HW', got ${shapeStr(s)}`);
    [H, W, C] = [s[0], s[1], 1];
  } else if (dataformats === 'HWC') {
    check(img.ndim === 3, () => `image: expected [H, W, C] for dataformats 'HWC', got ${shapeStr(s)}`);
    [H, W, C] = [s[0], s[1], s[2]];
  } else {
    check(img.ndim === 3, () => `image: expected [C, H, W] for dataformats 'CHW', got ${shapeStr(s)}`);
    [C, H, W] = [s[0], s[1], s[2]];
  }
  check([1, 3, 4].includes(C), () => `image: expected 1, 3 or 4 channels, got ${C} (shape ${shapeStr(s)})`);
  const src = img.toTypedArray();
  const scale = img.dtype === 'int32' ? 1 : 255;
  const pixels = new Uint8Array(H * W * C);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        const i = dataformats === 'CHW' ? (c * H + y) * W + x : (y * W + x) * C + c;
        const v = src[i] * scale;
        // clipped then truncated, as PyTorch's writer does (NaN becomes 0)
        pixels[(y * W + x) * C + c] = v >= 255 ? 255 : v > 0 ? Math.trunc(v) : 0;
      }
    }
  }
  return { width: W, height: H, channels: C, pixels };
}

function checkTag(tag: unknown, name = 'tag'): asserts tag is string {
  check(typeof tag === 'string' && tag.length > 0, () => `${name}: expected a non-empty string`);
}

function checkStep(step: number | undefined): void {
  check(step === undefined || (Number.isSafeInteger(step) && step >= 0), () => `step: expected a non-negative integer, got ${step}`);
}

export class TensorBoardLogger {
  /** The event file this logger writes. */
  readonly path: string;
  private fd: number | null;

  constructor(readonly logDir: string, opts: TensorBoardLoggerOptions = {}) {
    check(typeof logDir === 'string' && logDir.length > 0, 'logDir: expected a directory path');
    checkOptionKeys(opts, ['filenameSuffix'], 'TensorBoardLogger');
    const suffix = opts.filenameSuffix ?? '';
    check(typeof suffix === 'string' && !/[/\\]/.test(suffix), 'filenameSuffix: expected a string without path separators');
    mkdirSync(logDir, { recursive: true });
    const secs = Math.floor(Date.now() / 1000);
    this.path = join(logDir, `events.out.tfevents.${String(secs).padStart(10, '0')}.${hostname()}.${process.pid}.${fileCounter++}${suffix}`);
    this.fd = openSync(this.path, 'a');
    this.writeEvent({ fileVersion: 'brain.Event:2' }, 0);
  }

  private writeEvent(what: Record<string, unknown>, step: number, wallTime?: number): void {
    if (this.fd === null) throw new KilnError(`TensorBoardLogger: ${this.path} is closed`);
    if (wallTime !== undefined) checkFinite(wallTime, 'wallTime');
    const bytes = encodeMessage(PROTO, 'tensorboard.Event', { wallTime: wallTime ?? Date.now() / 1000, step, ...what });
    writeSync(this.fd, encodeRecord(bytes));
  }

  private writeValue(value: Record<string, unknown>, step = 0, wallTime?: number): void {
    checkStep(step);
    this.writeEvent({ summary: { value: [value] } }, step, wallTime);
  }

  /** A number (or one-element tensor) at a step. */
  addScalar(tag: string, value: number | Tensor, step?: number, wallTime?: number): void {
    checkTag(tag);
    const v = value instanceof Tensor ? value.item() : value;
    check(typeof v === 'number', () => `value: expected a number or a one-element Tensor, got ${typeof value}`);
    this.writeValue({ tag, simpleValue: v }, step, wallTime);
  }

  /** A histogram of a tensor's values (or an array of numbers). */
  addHistogram(tag: string, values: Tensor | ArrayLike<number>, step?: number, opts: HistogramOptions = {}): void {
    checkTag(tag);
    checkOptionKeys(opts, ['bins'], 'addHistogram');
    const data = values instanceof Tensor ? values.toTypedArray() : values;
    check(data !== null && typeof data === 'object' && typeof data.length === 'number', 'values: expected a Tensor or an array of numbers');
    this.writeValue({ tag, histo: histogramOf(data, opts.bins ?? 64) }, step);
  }

  /** One image: float32 values in [0, 1] or int32 values in [0, 255]; 1 (grey), 3 (RGB) or 4 (RGBA) channels. */
  addImage(tag: string, img: Tensor, step?: number, opts: ImageOptions = {}): void {
    checkTag(tag);
    check(img instanceof Tensor, 'img: expected a Tensor');
    checkOptionKeys(opts, ['dataformats'], 'addImage');
    const fmt = opts.dataformats ?? 'CHW';
    check(['CHW', 'HWC', 'HW'].includes(fmt), () => `dataformats: expected 'CHW', 'HWC' or 'HW', got ${String(fmt)}`);
    const { width, height, channels, pixels } = imageBytes(img, fmt);
    const encodedImageString = encodePng(width, height, channels, pixels);
    this.writeValue({ tag, image: { height, width, colorspace: channels, encodedImageString } }, step);
  }

  /** A batch of images [B, C, H, W] laid out as one grid image (makeGrid). */
  addImages(tag: string, images: Tensor, step?: number, gridOptions: MakeGridOptions = {}): void {
    const grid = makeGrid(images, gridOptions);
    try {
      this.addImage(tag, grid, step);
    } finally {
      grid.dispose();
    }
  }

  /** Text (markdown), shown in TensorBoard's Text tab under `${tag}/text_summary`. */
  addText(tag: string, text: string, step?: number): void {
    checkTag(tag);
    check(typeof text === 'string', 'text: expected a string');
    this.writeValue({
      tag: `${tag}/text_summary`,
      metadata: { pluginData: { pluginName: 'text', content: encodeMessage(PROTO, 'tensorboard.TextPluginData', {}) } },
      tensor: { dtype: 'DT_STRING', tensorShape: { dim: [{ size: 1 }] }, stringVal: [Buffer.from(text, 'utf8')] },
    }, step);
  }

  /**
   * One run's hyperparameters and final metrics for the HParams tab: the experiment, the
   * session's start (with the values) and end, as PyTorch's add_hparams; each metric is also
   * logged as a scalar with its name as tag.
   */
  addHparams(hparams: Record<string, HParamValue>, metrics: Record<string, number>, step = 0): void {
    check(hparams !== null && typeof hparams === 'object', 'hparams: expected an object of numbers, strings or booleans');
    check(metrics !== null && typeof metrics === 'object', 'metrics: expected an object of numbers');
    const infos: Record<string, unknown>[] = [];
    const values: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(hparams)) {
      if (typeof v === 'number') {
        checkFinite(v, `hparams.${name}`);
        infos.push({ name, type: 'DATA_TYPE_FLOAT64' });
        values[name] = { numberValue: v };
      } else if (typeof v === 'string') {
        infos.push({ name, type: 'DATA_TYPE_STRING' });
        values[name] = { stringValue: v };
      } else if (typeof v === 'boolean') {
        infos.push({ name, type: 'DATA_TYPE_BOOL' });
        values[name] = { boolValue: v };
      } else {
        throw new KilnError(`hparams.${name}: expected a number, a string or a boolean, got ${typeof v}`);
      }
    }
    for (const [tag, v] of Object.entries(metrics)) checkFinite(v, `metrics.${tag}`);
    const now = Date.now() / 1000;
    const plugin = (data: Record<string, unknown>) => ({
      pluginData: { pluginName: 'hparams', content: encodeMessage(HPARAMS_PROTO, 'tensorboard.hparams.HParamsPluginData', { version: 0, ...data }) },
    });
    const experiment = { hparamInfos: infos, metricInfos: Object.keys(metrics).map((tag) => ({ name: { tag } })), timeCreatedSecs: now };
    this.writeValue({ tag: '_hparams_/experiment', metadata: plugin({ experiment }) }, step);
    this.writeValue({ tag: '_hparams_/session_start_info', metadata: plugin({ sessionStartInfo: { hparams: values, startTimeSecs: now } }) }, step);
    for (const [tag, v] of Object.entries(metrics)) this.addScalar(tag, v, step);
    this.writeValue({ tag: '_hparams_/session_end_info', metadata: plugin({ sessionEndInfo: { status: 'STATUS_SUCCESS', endTimeSecs: now } }) }, step);
  }

  /** Events are written as they are logged; flush() is there for code written for SummaryWriter. */
  flush(): void {}

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /**
   * A fit() callback: the batch loss every `everyNBatches` batches (tag 'batch/loss', step = batches
   * so far), each epoch's record ('epoch/loss', 'epoch/accuracy', 'epoch/valLoss', ...; step =
   * epoch) and, with a model, histograms of its weights ('weights/<name>') and gradients
   * ('gradients/<name>') at each epoch's end.
   */
  callback(opts: TensorBoardCallbackOptions = {}): Callback {
    checkOptionKeys(opts, ['model', 'histograms', 'everyNBatches'], 'TensorBoardLogger.callback');
    const { model, everyNBatches = 10 } = opts;
    const histograms = opts.histograms ?? model !== undefined;
    check(Number.isInteger(everyNBatches) && everyNBatches >= 0, () => `everyNBatches: expected a non-negative integer, got ${everyNBatches}`);
    check(!histograms || (model !== undefined && typeof model.namedParameters === 'function'), 'histograms: needs the model option (an nn.Module)');
    let seen = 0;
    return {
      onBatchEnd: (info: BatchInfo) => {
        seen++;
        if (everyNBatches > 0 && seen % everyNBatches === 0) this.addScalar('batch/loss', info.loss, seen);
      },
      onEpochEnd: (record: EpochRecord) => {
        for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr', 'samplesPerSec'] as const) {
          const v = record[key];
          if (typeof v === 'number' && Number.isFinite(v)) this.addScalar(`epoch/${key}`, v, record.epoch);
        }
        if (histograms) {
          for (const [name, p] of model!.namedParameters()) {
            this.addHistogram(`weights/${name}`, p, record.epoch);
            if (p.grad) this.addHistogram(`gradients/${name}`, p.grad, record.epoch);
          }
        }
      },
    };
  }
}

/**
 * The events of a TensorBoard event file as plain objects (camelCase fields; int64 as numbers,
 * bytes as Uint8Array), every record's CRCs checked.
 */
export function readTensorBoardEvents(path: string): Record<string, any>[] {
  const Event = protoType(PROTO, 'tensorboard.Event');
  return decodeRecords(readFileSync(path), path).map((r) => Event.toObject(Event.decode(r), { longs: Number, oneofs: false }));
}
