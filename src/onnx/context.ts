/**
 * What an op's exporter sees: the traced node of the sample input (A) and of the second trace
 * (B, other inputs with the dynamic axes resized), the graph under construction, and helpers for
 * value names, casts and shape constants that stay right when a dynamic axis changes.
 */
import { KilnError, shapeStr } from '../errors.js';
import { type GraphBuilder, type OnnxDType, int } from './builder.js';
import type { Tensor } from '../tensor.js';
import type { TraceNode, Value } from './trace.js';

export interface EmitContext {
  readonly b: GraphBuilder;
  readonly opset: number;
  readonly node: TraceNode;
  readonly nodeB: TraceNode;
  /** Value ids of the graph inputs (the sources of run-time sizes). */
  readonly graphInputs: number[];
  value(id: number): Value;
  valueB(id: number): Value;
  /** The ONNX name of a value (parameters and constants become initializers when first used). */
  name(id: number): string;
  /** Input i of the node, cast to dtype when given and different. */
  input(i: number, dtype?: OnnxDType): string;
  /** The name output k of the node must be written to. */
  output(k?: number): string;
  /** A saved tensor of the node (an index, a condition), cast when asked. */
  extra(key: string, dtype?: OnnxDType): string;
  cast(name: string, from: string, to: OnnxDType): string;
  /** The initializer holding a parameter or buffer of the model (made once, shared with traced uses). */
  param(t: Tensor): string;
}

/** The dims of value id that differ between the two traces (sizes fixed only at run time). */
export function dynamicDims(c: EmitContext, id: number): boolean[] {
  const a = c.value(id).shape;
  const b = c.valueB(id).shape;
  return a.map((d, i) => d !== b[i]);
}

const what = (c: EmitContext) => `onnx.export: ${c.node.op}`;

/**
 * A size that follows the dynamic axes, read at run time: Shape(input)[k] of a graph input whose
 * dim k has the same sizes in both traces. null when no input dim matches.
 */
export function runtimeDim(c: EmitContext, sizeA: number, sizeB: number): string | null {
  for (const id of c.graphInputs) {
    const [sa, sb] = [c.value(id).shape, c.valueB(id).shape];
    const k = sa.findIndex((d, i) => d === sizeA && sb[i] === sizeB && d !== sb[i]);
    if (k >= 0) return c.b.node('Shape', [c.name(id)], { start: int(k), end: int(k + 1) })[0];
  }
  return null;
}

/** An int64 shape tensor of static sizes and run-time pieces (1-element tensors), concatenated. */
function shapeTensor(c: EmitContext, parts: (number | string)[]): string {
  if (parts.every((p) => typeof p === 'number')) return c.b.int64(parts as number[], 'shape');
  const pieces: string[] = [];
  let run: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') run.push(p);
    else {
      if (run.length > 0) pieces.push(c.b.int64(run, 'shape'));
      run = [];
      pieces.push(p);
    }
  }
  if (run.length > 0) pieces.push(c.b.int64(run, 'shape'));
  return c.b.node('Concat', pieces, { axis: int(0) })[0];
}

/**
 * The shape input of a Reshape from x (input 0) to the node's output. Sizes equal in both traces
 * are written as they are; a size that follows the dynamic axes is 0 (copy the input's dim) where
 * x has it at the same place, else read from a graph input's shape at run time, else -1 (once).
 */
export function reshapeTarget(c: EmitContext): string {
  const x = c.node.inputs[0];
  const [xa, xb] = [c.value(x).shape, c.valueB(x).shape];
  const [oa, ob] = [c.value(c.node.outputs[0]).shape, c.valueB(c.nodeB.outputs[0]).shape];
  if (oa.includes(0)) throw new KilnError(`${what(c)}: reshape to an empty shape ${shapeStr(oa)} cannot be exported`);
  let inferred = false;
  const parts = oa.map((d, j): number | string => {
    if (d === ob[j]) return d;
    if (j < xa.length && xa[j] === d && xb[j] === ob[j]) return 0;
    const r = runtimeDim(c, d, ob[j]);
    if (r !== null) return r;
    if (!inferred) {
      inferred = true;
      return -1;
    }
    throw new KilnError(`${what(c)}: reshape ${shapeStr(xa)} -> ${shapeStr(oa)} has more than one size that depends on the dynamic ` +
      'axes in a way export cannot follow (a product of them?); keep the dynamic dims apart, or export without dynamicAxes');
  });
  return shapeTensor(c, parts);
}

/**
 * The shape input of an Expand (ONNX broadcasts both ways): a dynamic size is written as 1 when
 * the input already has it in that place, else read from a graph input's shape at run time.
 */
export function expandTarget(c: EmitContext): string {
  const x = c.node.inputs[0];
  const [xa, xb] = [c.value(x).shape, c.valueB(x).shape];
  const [oa, ob] = [c.value(c.node.outputs[0]).shape, c.valueB(c.nodeB.outputs[0]).shape];
  const lead = oa.length - xa.length;
  const parts = oa.map((d, j): number | string => {
    if (d === ob[j]) return d;
    const i = j - lead;
    if (i >= 0 && xa[i] === d && xb[i] === ob[j]) return 1;
    const r = runtimeDim(c, d, ob[j]);
    if (r !== null) return r;
    throw new KilnError(`${what(c)}: expand ${shapeStr(xa)} -> ${shapeStr(oa)} broadcasts to a size that depends on the dynamic axes ` +
      'in a way export cannot follow; broadcast through an elementwise op with a tensor of that shape instead');
  });
  return shapeTensor(c, parts);
}

const INT64_MAX = 9223372036854775807n;

/**
 * Slice bounds for node attrs { dim, start, step, length }: a start or end that moves with a
 * dynamic dim is counted from the end (negative), and a slice that runs to the end ends at
 * INT64_MAX.
 */
export function sliceBounds(c: EmitContext): { start: bigint; end: bigint; step: number; dim: number } {
  const x = c.node.inputs[0];
  const { dim, step } = c.node.attrs;
  const [na, nb] = [c.value(x).shape[dim], c.valueB(x).shape[dim]];
  const [sa, la] = [c.node.attrs.start as number, c.node.attrs.length as number];
  const [sb, lb] = [c.nodeB.attrs.start as number, c.nodeB.attrs.length as number];
  let start: bigint;
  if (sa === sb) start = BigInt(sa);
  else if (na - sa === nb - sb) start = BigInt(sa - na);
  else throw new KilnError(`${what(c)}: a slice of dim ${dim} starts at an offset that depends on the dynamic axes in an unsupported way`);
  const ea = sa + la * step;
  const eb = sb + lb * step;
  let end: bigint;
  if (ea >= na && eb >= nb) end = INT64_MAX;
  else if (ea === eb && sa === sb) end = BigInt(ea);
  else if (na - ea === nb - eb) end = BigInt(ea - na);
  else throw new KilnError(`${what(c)}: a slice of dim ${dim} ends at an offset that depends on the dynamic axes in an unsupported way`);
  return { start, end, step, dim };
}

/** Reduction over `axes`: axes as an attribute before opset 18 (ReduceMean, Max, Min), an input after. */
export function reduce(c: EmitContext, opType: string, x: string, axes: number[], keepdims: boolean, out: string): void {
  const asInput = opType === 'ReduceSum' || c.opset >= 18;
  if (asInput) c.b.node(opType, [x, c.b.int64(axes, 'axes')], { keepdims: int(keepdims ? 1 : 0) }, [out]);
  else c.b.node(opType, [x], { axes: { ints: axes }, keepdims: int(keepdims ? 1 : 0) }, [out]);
}
