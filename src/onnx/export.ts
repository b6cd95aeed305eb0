/**
 * kiln.onnx.export: trace a forward pass in eval mode and write it as an ONNX model.
 *
 * The model runs twice under a tracer (trace.ts): on the sample input (A), and on a second input
 * (B) whose dynamic axes are resized to 2n+1 and whose values are the sample's, resampled and scaled. The two
 * traces must record the same ops; their shapes tell which sizes follow the dynamic axes (so
 * Reshape/Expand/Slice constants stay right at other sizes), and a constant made inside forward
 * that differs between them was computed from the input outside traced ops (a host read, a
 * branch on values): that is an error, not a constant baked into the file.
 */
import { readFileSync } from 'node:fs';
import { noGrad } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { atomicWrite } from '../io/atomic.js';
import { scope } from '../memory.js';
import { Module } from '../nn/module.js';
import { Tensor } from '../tensor.js';
import { checkOptions } from '../utils/options.js';
import { type Dim, GraphBuilder, type IoSpec, type OnnxDType } from './builder.js';
import type { EmitContext } from './context.js';
import { MODULE_OPS, isModuleOp, wrapComposites } from './modules.js';
import { OPS, UNSUPPORTED_HINT } from './ops.js';
import { Trace, type TraceNode, flattenTensors } from './trace.js';

export interface ExportOptions {
  /** Names of the graph inputs (default 'input', or 'input_0', 'input_1', ...). */
  inputNames?: string[];
  /** Names of the graph outputs (default 'output', or 'output_0', ...), one per tensor forward returns (nested arrays flattened). */
  outputNames?: string[];
  /** Axes whose size is fixed only at run time, by input or output name: { input: { 0: 'batch' } } or { input: [0] }. */
  dynamicAxes?: Record<string, Record<number, string> | number[]>;
  /** ONNX operator set, 17 (default) to 21. */
  opsetVersion?: number;
  /** Stored as the model's doc_string. */
  docString?: string;
}

const OPTION_KEYS = ['inputNames', 'outputNames', 'dynamicAxes', 'opsetVersion', 'docString'];
const IR_VERSION: Record<number, number> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

function producerVersion(): string {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version ?? '';
  } catch {
    return '';
  }
}

function checkNames(names: unknown, n: number, what: string): string[] | undefined {
  if (names === undefined) return undefined;
  check(Array.isArray(names) && names.every((s) => typeof s === 'string' && s.length > 0),
    () => `${what}: expected an array of non-empty strings`);
  check(names.length === n, () => `${what}: expected ${n} names, got ${names.length}`);
  check(new Set(names).size === names.length, () => `${what}: names must be distinct`);
  return names;
}

const defaultNames = (base: string, n: number) => (n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}_${i}`));

/** { axis: name } from either form of a dynamicAxes entry. */
function axesOf(entry: Record<number, string> | number[], name: string, ndim: number): Map<number, string> {
  const out = new Map<number, string>();
  const add = (axis: number, label: string) => {
    check(Number.isInteger(axis) && axis >= 0 && axis < ndim, () => `dynamicAxes.${name}: axis ${axis} is out of range for ${ndim} dims`);
    check(typeof label === 'string' && label.length > 0, () => `dynamicAxes.${name}: expected a name for axis ${axis}`);
    out.set(axis, label);
  };
  if (Array.isArray(entry)) for (const a of entry) add(a, `${name}_dim${a}`);
  else {
    check(entry !== null && typeof entry === 'object', () => `dynamicAxes.${name}: expected { axis: name } or an array of axes`);
    for (const [k, v] of Object.entries(entry)) add(Number(k), v);
  }
  return out;
}

/**
 * The second trace's input: values drawn from the sample's (with replacement), float ones also
 * scaled by a factor in [0.5, 1.5), so signs and zeros stay (the model's domain) but values move.
 */
function resampledLike(t: Tensor, shape: number[], seed: number): Tensor {
  const src = t.toTypedArray();
  const n = shape.reduce((a, d) => a * d, 1);
  const out = t.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    const v = src[Math.floor(next() * src.length)];
    out[i] = t.dtype === 'int32' ? v : v * (0.5 + next());
  }
  return tensor(out, { shape, dtype: t.dtype });
}

interface Traced {
  trace: Trace;
  inputs: number[];
  outputs: number[];
}

function runTrace(model: Module, params: Map<Tensor, string>, inputs: Tensor[]): Traced {
  const trace = new Trace(params);
  const restore = wrapComposites(model, trace);
  try {
    const ids = inputs.map((t) => trace.input(t));
    const result = trace.run(() => model.forward(...inputs));
    const outs = flattenTensors(result, 'forward', true);
    check(outs.length > 0, 'onnx.export: forward returned no tensor');
    return { trace, inputs: ids, outputs: outs.map((t) => trace.resolve(t, 'the model output')) };
  } finally {
    restore();
  }
}

/** Attributes that carry sizes: they may follow the dynamic axes (the exporters read both traces). */
const SIZED_ATTRS: Record<string, string[]> = {
  reshape: ['shape'], expand: ['shape'], slice: ['start', 'length'], cat: ['sizes'], conv2d: ['geom'], maxPool2d: ['geom'], avgPool2d: ['geom'],
  // checked by their exporters (ops.ts): a size that moves must follow a graph input or an input's shape
  attention: ['biasStrides'], arange: ['end'], causalMask: ['L', 'S'],
};

/** The first attribute (other than sizes) whose value differs between two traced nodes, or null. */
function attrsDiffer(n: TraceNode, m: TraceNode): string | null {
  const sized = SIZED_ATTRS[n.op] ?? [];
  for (const key of new Set([...Object.keys(n.attrs), ...Object.keys(m.attrs)])) {
    const [x, y] = [n.attrs[key], m.attrs[key]];
    if (sized.includes(key)) {
      // a window's geometry must not move (its image dims may)
      if (x?.window !== undefined && JSON.stringify(x.window) !== JSON.stringify(y?.window)) return `${key}.window`;
      continue;
    }
    if (JSON.stringify(x) !== JSON.stringify(y) && !(Number.isNaN(x) && Number.isNaN(y))) return key;
  }
  return null;
}

/** The first of the live ops that reads value id, for messages. */
function consumerOf(nodes: TraceNode[], live: Set<number>, id: number): string {
  const n = nodes.find((x, i) => live.has(i) && (x.inputs.includes(id) || Object.values(x.extra).includes(id)));
  return n === undefined ? 'the model output' : n.op;
}

function compareTraces(a: Traced, b: Traced, live: Set<number>): void {
  const na = a.trace.nodes;
  const nb = b.trace.nodes;
  const differ = () => new KilnError('onnx.export: forward records different ops for a second input of the same kind ' +
    '(a branch on tensor values or sizes?); the traced graph would only hold for the sample input');
  if (na.length !== nb.length || a.outputs.length !== b.outputs.length) throw differ();
  na.forEach((n, i) => {
    const m = nb[i];
    if (n.op !== m.op || n.inputs.length !== m.inputs.length || n.inputs.some((v, j) => v !== m.inputs[j])) throw differ();
    if (live.has(i)) {
      const key = attrsDiffer(n, m);
      if (key !== null) {
        throw new KilnError(`onnx.export: the attribute '${key}' of ${n.op} takes another value for another input: it was computed ` +
          'from the input outside traced ops (item(), toArray(), a size); compute it with tensor ops');
      }
    }
  });
  if (a.outputs.some((v, i) => v !== b.outputs[i])) throw differ();
  // constants read by the ops the outputs need (ops left dead, such as the internals of an op
  // that reports itself after them, do not matter)
  const used = new Set<number>();
  for (const i of live) for (const v of [...na[i].inputs, ...Object.values(na[i].extra)]) used.add(v);
  for (const v of a.outputs) used.add(v);
  for (const v of a.trace.values) {
    if (!used.has(v.id)) continue;
    const w = b.trace.values[v.id];
    if (w === undefined || w.shape.length !== v.shape.length) throw differ();
    if (v.kind === 'const' && v.madeInPass) {
      const same = w.kind === 'const' && w.shape.every((d, i) => d === v.shape[i]) && v.data!.every((x, i) => Object.is(x, w.data![i]));
      if (!same) {
        throw new KilnError(`onnx.export: ${consumerOf(na, live, v.id)} reads a tensor ${shapeStr(v.shape)} made inside forward whose values or ` +
          'shape depend on the input but were not computed by traced ops (read on the host with item()/toArray(), or sized from a ' +
          'dynamic axis); compute it with tensor ops from the input');
      }
    }
  }
}

/** Nodes needed for the outputs, as a set of node indices. */
function liveNodes(nodes: TraceNode[], outputs: number[], producer: Map<number, number>): Set<number> {
  const live = new Set<number>();
  const stack = [...outputs];
  while (stack.length > 0) {
    const p = producer.get(stack.pop()!);
    if (p === undefined || live.has(p)) continue;
    live.add(p);
    stack.push(...nodes[p].inputs, ...Object.values(nodes[p].extra));
  }
  return live;
}

/** The ONNX model, serialised. */
export function exportBytes(model: Module, sampleInput: Tensor | Tensor[], opts: ExportOptions = {}): Uint8Array {
  check(model instanceof Module, 'model: expected an nn.Module');
  checkOptions(opts, OPTION_KEYS, 'onnx.export');
  const samples = Array.isArray(sampleInput) ? sampleInput : [sampleInput];
  check(samples.length > 0 && samples.every((t) => t instanceof Tensor), 'sampleInput: expected a Tensor or an array of Tensors');
  for (const [i, t] of samples.entries()) {
    t._checkAlive('sampleInput');
    check(t.dtype === 'float32' || t.dtype === 'int32', () => `sampleInput[${i}]: export takes float32 and int32 inputs, got ${t.dtype}`);
    check(t.numel > 0, () => `sampleInput[${i}]: expected a non-empty tensor, got shape ${shapeStr(t.shape)}`);
  }
  const opset = opts.opsetVersion ?? 17;
  check(IR_VERSION[opset] !== undefined, () => `opsetVersion: expected an integer from 17 to 21, got ${opset}`);
  const inputNames = checkNames(opts.inputNames, samples.length, 'inputNames') ?? defaultNames('input', samples.length);
  const dyn = opts.dynamicAxes ?? {};
  check(dyn !== null && typeof dyn === 'object', 'dynamicAxes: expected an object keyed by input and output names');
  const inputAxes = inputNames.map((n, i) => (dyn[n] === undefined ? new Map<number, string>() : axesOf(dyn[n], n, samples[i].ndim)));

  const params = new Map<Tensor, string>();
  for (const [n, t] of [...model.namedParameters(), ...model.namedBuffers()]) if (!params.has(t)) params.set(t, n);

  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => scope(() => {
      const a = runTrace(model, params, samples);
      const samplesB = samples.map((t, i) => resampledLike(t, t.shape.map((d, ax) => (inputAxes[i].has(ax) ? 2 * d + 1 : d)), 7919 + i));
      const b = runTrace(model, params, samplesB);
      const producer = new Map<number, number>();
      a.trace.nodes.forEach((n, i) => n.outputs.forEach((v) => producer.set(v, i)));
      const live = liveNodes(a.trace.nodes, a.outputs, producer);
      compareTraces(a, b, live);
      return emit(a, b, live, { opset, inputNames, inputAxes, opts });
    }));
  } finally {
    model.train(wasTraining);
  }
}

function emit(a: Traced, b: Traced, live: Set<number>, cfg: { opset: number; inputNames: string[]; inputAxes: Map<number, string>[]; opts: ExportOptions }): Uint8Array {
  const { opset, inputNames, inputAxes, opts } = cfg;
  const nodes = a.trace.nodes;
  const values = a.trace.values;
  const outputNames = checkNames(opts.outputNames, a.outputs.length, 'outputNames') ?? defaultNames('output', a.outputs.length);
  const dyn = opts.dynamicAxes ?? {};
  for (const k of Object.keys(dyn)) {
    check(inputNames.includes(k) || outputNames.includes(k), () => `dynamicAxes: '${k.slice(0, 60)}' is not an input or output name`);
  }
  for (const i of live) {
    const op = nodes[i].op;
    if (OPS[op] === undefined && !isModuleOp(op)) {
      throw new KilnError(`onnx.export: the op '${op}' cannot be exported${UNSUPPORTED_HINT[op] ? ` (${UNSUPPORTED_HINT[op]})` : ' (no ONNX mapping)'}`);
    }
  }

  const g = new GraphBuilder();
  const names = new Map<number, string>();
  a.inputs.forEach((id, i) => names.set(id, g.claim(inputNames[i], 'input')));
  const paramNames = new Map<Tensor, string>();
  const paramInit = (t: Tensor, name: string): string => {
    let n = paramNames.get(t);
    if (n === undefined) {
      n = g.initializer(name, { dtype: t.dtype as OnnxDType, dims: [...t.shape], data: t.toTypedArray() });
      paramNames.set(t, n);
    }
    return n;
  };
  const params = new Map<Tensor, string>([...values.filter((v) => v.kind === 'param').map((v) => [v.tensor!, v.name!] as [Tensor, string])]);
  // an output produced by a node is written under its own name; others get an Identity below
  const preassigned = new Map<number, string>();
  a.outputs.forEach((id, k) => {
    if (values[id].kind === 'op' && !preassigned.has(id)) preassigned.set(id, g.claim(outputNames[k], 'output'));
  });
  const nameOf = (id: number): string => {
    const known = names.get(id);
    if (known !== undefined) return known;
    const v = values[id];
    let n: string;
    if (v.kind === 'param') n = paramInit(v.tensor!, v.name!);
    else if (v.kind === 'const') n = g.initializer('const', { dtype: v.dtype as OnnxDType, dims: v.shape, data: v.data! });
    else throw new KilnError(`onnx.export: internal error, value ${id} is used before the op that makes it`);
    names.set(id, n);
    return n;
  };
  const cast = (name: string, from: string, to: OnnxDType) => {
    if (from === to) return name;
    return g.node('Cast', [name], { to: { int: { float32: 1, int32: 6, int64: 7, bool: 9 }[to] } })[0];
  };

  nodes.forEach((node, i) => {
    if (!live.has(i)) return;
    const nodeB = b.trace.nodes[i];
    const c: EmitContext = {
      b: g, opset, node, nodeB, graphInputs: a.inputs,
      value: (id) => values[id],
      valueB: (id) => b.trace.values[id],
      name: nameOf,
      input: (k, dtype) => (dtype === undefined ? nameOf(node.inputs[k]) : cast(nameOf(node.inputs[k]), values[node.inputs[k]].dtype, dtype)),
      extra: (key, dtype) => (dtype === undefined ? nameOf(node.extra[key]) : cast(nameOf(node.extra[key]), values[node.extra[key]].dtype, dtype)),
      output: (k = 0) => {
        const id = node.outputs[k];
        let n = names.get(id);
        if (n === undefined) {
          n = preassigned.get(id) ?? g.name(node.op);
          names.set(id, n);
        }
        return n;
      },
      cast,
      param: (t) => paramInit(t, params.get(t) ?? 'param'),
    };
    (OPS[node.op] ?? MODULE_OPS[node.op as keyof typeof MODULE_OPS])(c);
  });

  const dimsOf = (id: number, axes: Map<number, string>, what: string): Dim[] => {
    const sa = values[id].shape;
    const sb = b.trace.values[id].shape;
    return sa.map((d, j) => {
      if (d === sb[j]) {
        check(!axes.has(j), () => `dynamicAxes.${what}: axis ${j} does not change size when the input's dynamic axes do`);
        return d;
      }
      const named = axes.get(j);
      if (named !== undefined) return named;
      // the name of an input axis that moves the same way, else a name of its own
      for (const [i, inAxes] of inputAxes.entries()) {
        for (const [ax, label] of inAxes) {
          if (values[a.inputs[i]].shape[ax] === d && b.trace.values[a.inputs[i]].shape[ax] === sb[j]) return label;
        }
      }
      return `${what}_dim${j}`;
    });
  };
  const inputs: IoSpec[] = a.inputs.map((id, i) => ({
    name: inputNames[i], dtype: values[id].dtype as OnnxDType,
    dims: values[id].shape.map((d, ax) => inputAxes[i].get(ax) ?? d),
  }));
  const outputs: IoSpec[] = a.outputs.map((id, k) => {
    const name = outputNames[k];
    if (preassigned.get(id) !== name) g.node('Identity', [nameOf(id)], {}, [g.claim(name, 'output')]);
    const axes = dyn[name] === undefined ? new Map<number, string>() : axesOf(dyn[name], name, values[id].shape.length);
    return { name, dtype: values[id].dtype as OnnxDType, dims: dimsOf(id, axes, name) };
  });
  return g.encode({ inputs, outputs, opset, irVersion: IR_VERSION[opset], producerVersion: producerVersion(), graphName: 'kiln',
    docString: opts.docString });
}

/**
 * Traces model.forward(...sampleInput) in eval mode and writes the ONNX model to path
 * (atomically). See ExportOptions; an op with no ONNX form is a KilnError naming it.
 */
export async function exportModel(model: Module, sampleInput: Tensor | Tensor[], path: string, opts: ExportOptions = {}): Promise<void> {
  check(typeof path === 'string' && path.length > 0, 'path: expected a file path');
  const bytes = exportBytes(model, sampleInput, opts);
  await atomicWrite(path, async (fh) => {
    await fh.writeFile(bytes);
  });
}
