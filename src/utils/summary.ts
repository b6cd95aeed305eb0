/**
 * kiln.utils.summary: a torchinfo-like table of a model: every module call in order with its
 * output shape, own parameter count, whether they train, and multiply-adds; then totals and a
 * memory estimate. It runs one forward pass (eval mode, no gradients, inside a scope) with
 * forward hooks on every module.
 *
 * Multiply-adds (one multiply and one add = 1), counted for these layer types only:
 *   Linear           rows x in x out              (rows = output elements / out)
 *   Conv2d           N x OC x OH x OW x C x kH x kW
 *   ConvTranspose2d  N x Cin x H x W x Cout x kH x kW   (every input pixel meets every tap)
 *   RNN/LSTM/GRU     per layer T x B x gates*H x (inputs + H)   (gates 1, 4, 3)
 *   BatchNorm, LayerNorm  output elements (one scale-and-shift each)
 * Everything else (activations, pooling, dropout, embedding lookups, reshapes) counts 0.
 * Bias additions are not counted.
 */
import { noGrad } from '../autograd/engine.js';
import { randn, zeros } from '../creation.js';
import type { DType } from '../dtype.js';
import { check, shapeStr } from '../errors.js';
import { scope } from '../memory.js';
import { Conv2d, ConvTranspose2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { BatchNorm1d, BatchNorm2d, LayerNorm } from '../nn/norm.js';
import { GRU, LSTM, RNN } from '../nn/rnn.js';
import { isParameter } from '../nn/parameter.js';
import { Tensor } from '../tensor.js';
import { checkOptionKeys } from './options.js';

export interface SummaryOptions {
  /** dtype of each generated input (default float32; int32 inputs are zeros, float32 ones N(0, 1)). */
  dtypes?: DType[];
  /** Run on these tensors instead of generated ones (inputShape is then ignored: pass null). */
  inputData?: Tensor | Tensor[];
  /** Rows deeper than this are not printed (default 3); totals count every layer. */
  depth?: number;
  /** Print the table (default true). */
  verbose?: boolean;
}

export interface SummaryRow {
  /** Dotted module name ('' for the model itself). */
  name: string;
  type: string;
  depth: number;
  /** Output shape, or a nested list of shapes for several outputs. */
  outputShape: unknown;
  /** The module's own parameters (not its children's). */
  params: number;
  trainable: 'True' | 'False' | 'Partial' | '--';
  multAdds: number;
}

export interface ModelSummary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  totalMultAdds: number;
  /** Bytes of the inputs. */
  inputBytes: number;
  /** Twice the bytes of every leaf module's outputs (the activations and their gradients). */
  forwardBackwardBytes: number;
  paramBytes: number;
  totalBytes: number;
  toString(): string;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, float64: 8, bfloat16: 2, bool: 1 };
const bytesOf = (t: Tensor) => t.numel * (BYTES[t.dtype] ?? 4);

function tensorsIn(v: unknown, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const e of v) tensorsIn(e, out);
  return out;
}

function shapeOf(v: unknown): unknown {
  if (v instanceof Tensor) return [...v.shape];
  if (Array.isArray(v)) return v.map(shapeOf);
  return null;
}

const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Multiply-adds of one call (see the file comment). */
export function multAddsOf(m: Module, args: unknown[], out: unknown): number {
  const y = tensorsIn(out)[0];
  if (y === undefined) return 0;
  if (m instanceof Linear) return (y.numel / m.outFeatures) * m.inFeatures * m.outFeatures;
  if (m instanceof Conv2d) return y.numel * m.inChannels * m.kernelSize[0] * m.kernelSize[1];
  if (m instanceof ConvTranspose2d) {
    const x = args[0] as Tensor;
    return x.numel * m.outChannels * m.kernelSize[0] * m.kernelSize[1];
  }
  if (m instanceof RNN || m instanceof LSTM || m instanceof GRU) {
    const gates = m instanceof LSTM ? 4 : m instanceof GRU ? 3 : 1;
    const steps = y.shape[0] * y.shape[1]; // T x B either way round
    let total = 0;
    for (let l = 0; l < m.numLayers; l++) {
      total += steps * gates * m.hiddenSize * ((l === 0 ? m.inputSize : m.hiddenSize) + m.hiddenSize);
    }
    return total;
  }
  if (m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof LayerNorm) return y.numel;
  return 0;
}

function ownParams(m: Module): Tensor[] {
  return Object.values(m).filter((v): v is Tensor => v instanceof Tensor && isParameter(v));
}

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtShape(s: unknown): string {
  if (s === null) return '--';
  if (Array.isArray(s) && s.every((d) => typeof d === 'number')) return shapeStr(s as number[]);
  return `[${(s as unknown[]).map(fmtShape).join(', ')}]`;
}

function render(sm: Omit<ModelSummary, 'toString'>, depth: number): string {
  const widths = [44, 26, 12, 10, 16];
  const cells = (c: string[]) => c.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join(' ');
  const line = '='.repeat(widths.reduce((a, b) => a + b + 1, -1));
  const out = [line, cells(['Layer (type (name): depth-idx)', 'Output Shape', 'Param #', 'Trainable', 'Mult-Adds']), line];
  const counters: number[] = [];
  for (const r of sm.rows) {
    counters[r.depth] = (counters[r.depth] ?? 0) + 1;
    counters.length = r.depth + 1;
    if (r.depth > depth) continue;
    const label = r.depth === 0 ? r.type : `${'│ '.repeat(r.depth - 1)}├─${r.type}${r.name ? ` (${r.name.split('.').pop()})` : ''}: ${r.depth}-${counters[r.depth]}`;
    out.push(cells([label.length > widths[0] ? `${label.slice(0, widths[0] - 1)}…` : label, fmtShape(r.outputShape),
      r.params === 0 ? '--' : fmtInt(r.params), r.trainable, r.multAdds === 0 ? '--' : fmtInt(r.multAdds)]));
  }
  const mb = (b: number) => (b / 1e6).toFixed(2);
  out.push(line,
    `Total params: ${fmtInt(sm.totalParams)}`,
    `Trainable params: ${fmtInt(sm.trainableParams)}`,
    `Non-trainable params: ${fmtInt(sm.totalParams - sm.trainableParams)}`,
    `Total mult-adds (M): ${(sm.totalMultAdds / 1e6).toFixed(2)}`,
    line,
    `Input size (MB): ${mb(sm.inputBytes)}`,
    `Forward/backward pass size (MB): ${mb(sm.forwardBackwardBytes)}`,
    `Params size (MB): ${mb(sm.paramBytes)}`,
    `Estimated Total Size (MB): ${mb(sm.totalBytes)}`,
    line);
  return out.join('\n');
}

/**
 * Summarises model on an input of inputShape (batch included; several inputs: a list of shapes),
 * as torchinfo.summary. Prints the table unless verbose is false; returns the figures.
 */
export function summary(model: Module, inputShape: number[] | number[][] | null, opts: SummaryOptions = {}): ModelSummary {
  check(model instanceof Module, 'model: expected an nn.Module');
  checkOptionKeys(opts, ['dtypes', 'inputData', 'depth', 'verbose'], 'summary');
  const { depth = 3, verbose = true } = opts;
  check(Number.isInteger(depth) && depth >= 0, () => `depth: expected a non-negative integer, got ${depth}`);
  let shapes: number[][] = [];
  if (opts.inputData === undefined) {
    check(Array.isArray(inputShape) && inputShape.length > 0, 'inputShape: expected a shape (with the batch dim) or a list of shapes');
    shapes = (Array.isArray(inputShape[0]) ? inputShape : [inputShape]) as number[][];
    for (const s of shapes) {
      check(Array.isArray(s) && s.every((d) => Number.isInteger(d) && d > 0), () => `inputShape: expected positive integers, got ${JSON.stringify(s)}`);
    }
    check(opts.dtypes === undefined || (Array.isArray(opts.dtypes) && opts.dtypes.length === shapes.length),
      () => `dtypes: expected one dtype per input (${shapes.length})`);
  } else {
    const list = Array.isArray(opts.inputData) ? opts.inputData : [opts.inputData];
    check(list.length > 0 && list.every((t) => t instanceof Tensor), 'inputData: expected a Tensor or a list of Tensors');
  }

  const names = new Map<Module, string>(model.namedModules().map(([n, m]) => [m, n]));
  const rows: SummaryRow[] = [];
  const leafOutputs = new Map<number, number>(); // row -> output bytes, for leaves
  const stack: number[] = [];
  const handles = [];
  for (const m of model.modules()) {
    handles.push(m.registerForwardPreHook((mod) => {
      stack.push(rows.length);
      const own = ownParams(mod);
      const trainable = own.length === 0 ? '--' : own.every((p) => p.requiresGrad) ? 'True' : own.some((p) => p.requiresGrad) ? 'Partial' : 'False';
      rows.push({ name: names.get(mod) ?? '', type: mod.constructor.name, depth: stack.length - 1, outputShape: null,
        params: own.reduce((n, p) => n + p.numel, 0), trainable, multAdds: 0 });
    }));
    handles.push(m.registerForwardHook((mod, args, out) => {
      const i = stack.pop()!;
      rows[i].outputShape = shapeOf(out);
      rows[i].multAdds = multAddsOf(mod, args, out);
      if (mod.children().length === 0) leafOutputs.set(i, tensorsIn(out).reduce((b, t) => b + bytesOf(t), 0));
    }));
  }
  const wasTraining = model.training;
  let inputBytes = 0;
  try {
    model.eval();
    noGrad(() => scope(() => {
      const inputs = opts.inputData !== undefined
        ? (Array.isArray(opts.inputData) ? opts.inputData : [opts.inputData])
        : shapes.map((s, i) => ((opts.dtypes?.[i] ?? 'float32') === 'int32' ? zeros(s, { dtype: 'int32' }) : randn(s)));
      inputBytes = inputs.reduce((b, t) => b + bytesOf(t), 0);
      model.forward(...inputs);
    }));
  } finally {
    for (const h of handles) h.remove();
    model.train(wasTraining);
  }

  const params = model.parameters();
  const totalParams = params.reduce((n, p) => n + p.numel, 0);
  const trainableParams = params.filter((p) => p.requiresGrad).reduce((n, p) => n + p.numel, 0);
  const paramBytes = params.reduce((b, p) => b + bytesOf(p), 0);
  const forwardBackwardBytes = 2 * [...leafOutputs.values()].reduce((a, b) => a + b, 0);
  const figures = {
    rows, totalParams, trainableParams, totalMultAdds: rows.reduce((n, r) => n + r.multAdds, 0),
    inputBytes, forwardBackwardBytes, paramBytes, totalBytes: inputBytes + forwardBackwardBytes + paramBytes,
  };
  const result: ModelSummary = { ...figures, toString: () => render(figures, depth) };
  if (verbose) console.log(result.toString());
  return result;
}
