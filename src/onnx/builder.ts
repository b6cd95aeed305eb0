/**
 * An ONNX graph under construction, and its serialisation as a ModelProto with protobufjs and
 * the official onnx.proto (proto/onnx.proto, IR version 8 schema).
 */
import { KilnError } from '../errors.js';
import { encodeMessage } from '../io/proto.js';

/** TensorProto.DataType codes. */
export const ONNX_TYPE = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;
export type OnnxDType = keyof typeof ONNX_TYPE;

/** A node attribute, typed: an int, a float, a string, ints, floats or a tensor. */
export type AttrValue = { int: number } | { float: number } | { str: string } | { ints: number[] } | { floats: number[] } | { strs: string[] } |
  { tensor: ConstTensor };
export const int = (v: number): AttrValue => ({ int: v });
export const float = (v: number): AttrValue => ({ float: v });
export const str = (v: string): AttrValue => ({ str: v });
export const ints = (v: number[]): AttrValue => ({ ints: v });
export const strs = (v: string[]): AttrValue => ({ strs: v });

export interface ConstTensor {
  dtype: OnnxDType;
  dims: number[];
  data: ArrayLike<number> | bigint[];
}

interface NodeSpec {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A dim of a declared input or output: a size, or a name for a size fixed only at run time. */
export type Dim = number | string;

export interface IoSpec {
  name: string;
  dtype: OnnxDType;
  dims: Dim[];
}

function rawBytes(t: ConstTensor): Uint8Array {
  const n = t.data.length;
  switch (t.dtype) {
    case 'float32': return new Uint8Array(Float32Array.from(t.data as ArrayLike<number>).buffer);
    case 'int32': return new Uint8Array(Int32Array.from(t.data as ArrayLike<number>).buffer);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt((t.data as any)[i]);
      return new Uint8Array(out.buffer);
    }
    case 'bool': return Uint8Array.from(t.data as ArrayLike<number>, (v) => (v ? 1 : 0));
  }
}

function tensorProto(name: string, t: ConstTensor): Record<string, unknown> {
  // raw_data is little-endian, as typed arrays are on every platform Node supports
  return { name, dims: t.dims, dataType: ONNX_TYPE[t.dtype], rawData: rawBytes(t) };
}

function attribute(name: string, v: AttrValue): Record<string, unknown> {
  // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7
  if ('int' in v) return { name, type: 2, i: v.int };
  if ('float' in v) return { name, type: 1, f: v.float };
  if ('str' in v) return { name, type: 3, s: Buffer.from(v.str, 'utf8') };
  if ('ints' in v) return { name, type: 7, ints: v.ints };
  if ('floats' in v) return { name, type: 6, floats: v.floats };
  if ('strs' in v) return { name, type: 8, strings: v.strs.map((x) => Buffer.from(x, 'utf8')) };
  return { name, type: 4, t: tensorProto('', v.tensor) };
}

export class GraphBuilder {
  private readonly nodes: NodeSpec[] = [];
  private readonly initializers: { name: string; tensor: ConstTensor }[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  /** A fresh value name based on hint. */
  name(hint: string): string {
    let n = hint.replace(/[^A-Za-z0-9_.:/-]/g, '_') || 'v';
    if (this.used.has(n)) {
      while (this.used.has(`${n}_${this.counter}`)) this.counter++;
      n = `${n}_${this.counter++}`;
    }
    this.used.add(n);
    return n;
  }

  /** Claims an exact name (graph inputs and outputs); a clash is an error. */
  claim(name: string, what: string): string {
    if (this.used.has(name)) throw new KilnError(`onnx.export: ${what} name '${name.slice(0, 60)}' is used twice`);
    this.used.add(name);
    return name;
  }

  initializer(hint: string, tensor: ConstTensor): string {
    const name = this.name(hint);
    this.initializers.push({ name, tensor });
    return name;
  }

  /** An int64 1-D constant (shapes, axes, slice bounds). */
  int64(values: number[] | bigint[], hint = 'const'): string {
    return this.initializer(hint, { dtype: 'int64', dims: [values.length], data: values });
  }

  /** A 0-d float32 constant. */
  scalar(value: number, hint = 'const'): string {
    return this.initializer(hint, { dtype: 'float32', dims: [], data: [value] });
  }

  /** Adds a node; returns its output names (fresh ones from the op type unless given). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs: string[] | number = 1): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.name(opType)) : outputs;
    this.nodes.push({ opType, inputs, outputs: outs, attrs });
    return outs;
  }

  /** The serialised ModelProto. */
  encode(opts: { inputs: IoSpec[]; outputs: IoSpec[]; opset: number; irVersion: number; producerVersion: string; graphName: string;
    docString?: string }): Uint8Array {
    const valueInfo = (io: IoSpec) => ({
      name: io.name,
      type: { tensorType: { elemType: ONNX_TYPE[io.dtype], shape: { dim: io.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    });
    const graph = {
      name: opts.graphName,
      node: this.nodes.map((n, i) => ({
        input: n.inputs, output: n.outputs, opType: n.opType, name: `${n.opType}_${i}`,
        attribute: Object.entries(n.attrs).map(([k, v]) => attribute(k, v)),
      })),
      initializer: this.initializers.map((t) => tensorProto(t.name, t.tensor)),
      input: opts.inputs.map(valueInfo),
      output: opts.outputs.map(valueInfo),
    };
    return encodeMessage('onnx.proto', 'onnx.ModelProto', {
      irVersion: opts.irVersion,
      opsetImport: [{ domain: '', version: opts.opset }],
      producerName: 'kiln',
      producerVersion: opts.producerVersion,
      docString: opts.docString ?? '',
      graph,
    });
  }
}
