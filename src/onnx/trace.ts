/**
 * Tracing a forward pass for export. With a Trace set as the engine's tracer (autograd/engine.ts
 * setTracer), every op reports (outputs, op name, inputs, saved attributes); the trace turns them
 * into nodes over numbered values. A tensor an op reads is, in order: a value the trace made (an
 * input or an op's output), a parameter or buffer of the model (an initializer), a view of one of
 * those with the same layout (an alias), or a constant (its values copied when first read).
 *
 * What cannot be traced is refused, never baked in silently: a view of a traced value made
 * outside a traced op (detach() with another layout), a traced value or constant written in place
 * after it was read (its storage version moved), ops inside a module exported whole (composites,
 * see modules.ts) are not looked at. Constants made during the pass are compared with a second
 * trace on other inputs by export.ts, which catches values computed from the input on the host.
 */
import { setTracer } from '../autograd/engine.js';
import { KilnError, shapeStr } from '../errors.js';
import type { Storage } from '../memory.js';
import type { Module } from '../nn/module.js';
import { Tensor, collectMade } from '../tensor.js';

export type ValueKind = 'input' | 'op' | 'param' | 'const';

export interface Value {
  id: number;
  kind: ValueKind;
  shape: number[];
  dtype: string;
  /** The parameter's or buffer's name (kind 'param'). */
  name?: string;
  /** The tensor itself, for parameters (their data is read when writing the file). */
  tensor?: Tensor;
  /** A constant's values, copied when first read (bool as int32 0/1). */
  data?: Float32Array | Int32Array;
  /** A constant made during the forward pass (compared across the two traces). */
  madeInPass?: boolean;
  /** The storage version when the value was made or first read. */
  version: number;
}

export interface TraceNode {
  op: string;
  inputs: number[];
  /** Saved tensors the op reads besides its inputs (an index, a condition), as value ids. */
  extra: Record<string, number>;
  /** Attributes (saved entries that are not tensors). */
  attrs: Record<string, any>;
  outputs: number[];
  /** The module of a composite node (modules.ts). */
  module?: Module;
}

/** The saved tensors each op's export reads (an entry that is null in saved is left out). */
const EXTRA_TENSORS: Record<string, string[]> = {
  indexSelect: ['index'], gather: ['index'], scatterAdd: ['index'], where: ['cond'],
  // the fused attention's additive mask, broadcastable to its [B, H, L, S] scores
  attention: ['bias'],
};
/** The dtypes a traced value may have (ONNX float, int32, bool). */
const DTYPES = ['float32', 'int32', 'bool'];

function sameLayout(a: Tensor, b: Tensor): boolean {
  return a.offset === b.offset && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]) &&
    a.strides.every((s, i) => s === b.strides[i] || a.shape[i] === 1);
}

export class Trace {
  readonly nodes: TraceNode[] = [];
  readonly values: Value[] = [];
  private readonly ids = new Map<Tensor, number>();
  /** Traced values (inputs, op outputs, parameters) by storage, to recognise untraced views. */
  private readonly byStorage = new Map<Storage, Tensor[]>();
  private made = new Set<Tensor>();
  private madeList: Tensor[] = [];
  private depth = 0;

  constructor(private readonly params: Map<Tensor, string>) {}

  /** Runs fn with this trace receiving every op; tensors made meanwhile are listed. */
  run<T>(fn: () => T): T {
    const prevTracer = setTracer(this);
    const prevMade = collectMade(this.madeList);
    try {
      return fn();
    } finally {
      setTracer(prevTracer);
      collectMade(prevMade);
    }
  }

  private add(v: Omit<Value, 'id'>, t: Tensor | null): number {
    const id = this.values.length;
    this.values.push({ id, ...v });
    if (t !== null) {
      this.ids.set(t, id);
      if (v.kind !== 'const') {
        const list = this.byStorage.get(t.storage);
        if (list === undefined) this.byStorage.set(t.storage, [t]);
        else list.push(t);
      }
    }
    return id;
  }

  input(t: Tensor): number {
    return this.add({ kind: 'input', shape: [...t.shape], dtype: t.dtype, version: t.storage.version }, t);
  }

  /** The value id of a tensor an op reads (see the file comment). */
  resolve(t: Tensor, consumer: string): number {
    const known = this.ids.get(t);
    if (known !== undefined) {
      const v = this.values[known];
      if (v.kind !== 'param' && t.storage.version !== v.version) {
        throw new KilnError(`onnx.export: ${consumer} reads a tensor that was modified in place after it was made ` +
          '(in-place ops such as add_ or fill_ are not traced); use the out-of-place op in forward');
      }
      return known;
    }
    const name = this.params.get(t);
    if (name !== undefined) return this.add({ kind: 'param', name, tensor: t, shape: [...t.shape], dtype: t.dtype, version: 0 }, t);
    const traced = this.byStorage.get(t.storage);
    if (traced !== undefined) {
      const same = traced.find((u) => sameLayout(u, t));
      if (same !== undefined) {
        const id = this.resolve(same, consumer);
        this.ids.set(t, id);
        return id;
      }
      throw new KilnError(`onnx.export: ${consumer} reads a view ${shapeStr(t.shape)} of a traced tensor that was not made by a ` +
        'traced op (detach() or an internal alias); make it with reshape/permute/slice on the traced tensor');
    }
    if (this.made.size !== this.madeList.length) this.made = new Set(this.madeList);
    if (!DTYPES.includes(t.dtype)) {
      throw new KilnError(`onnx.export: ${consumer} reads a ${t.dtype} constant ${shapeStr(t.shape)}; export handles float32, int32 and bool`);
    }
    const data = t.numel === 0 ? (t.dtype === 'float32' ? new Float32Array(0) : new Int32Array(0)) : (t.toTypedArray() as Float32Array | Int32Array);
    return this.add({ kind: 'const', shape: [...t.shape], dtype: t.dtype, data, madeInPass: this.made.has(t), version: t.storage.version }, t);
  }

  /** Binds the outputs of a node. */
  private bind(outs: Tensor[], nodeIndex: number): number[] {
    return outs.map((o) => {
      if (!DTYPES.includes(o.dtype)) {
        throw new KilnError(`onnx.export: ${this.nodes[nodeIndex].op} makes a ${o.dtype} tensor; export handles float32, int32 and bool`);
      }
      return this.add({ kind: 'op', shape: [...o.shape], dtype: o.dtype, version: o.storage.version }, o);
    });
  }

  /** The engine's tracer callback. */
  op(outs: Tensor[], op: string, inputs: Tensor[], saved: Record<string, any>): void {
    if (this.depth > 0) return;
    const node: TraceNode = { op, inputs: [], extra: {}, attrs: {}, outputs: [] };
    const index = this.nodes.length;
    this.nodes.push(node);
    node.inputs = inputs.map((t) => this.resolve(t, op));
    for (const key of EXTRA_TENSORS[op] ?? []) if (saved[key] instanceof Tensor) node.extra[key] = this.resolve(saved[key], op);
    for (const [k, v] of Object.entries(saved)) if (!(v instanceof Tensor) && typeof v !== 'function') node.attrs[k] = v;
    node.outputs = this.bind(outs, index);
  }

  /**
   * A module exported as one node (modules.ts): fn runs with the inner ops ignored; the tensors
   * it returns (any nesting of arrays) are the node's outputs, in order.
   */
  composite<T>(op: string, module: Module, args: Tensor[], attrs: Record<string, any>, fn: () => T): T {
    if (this.depth > 0) return fn();
    const node: TraceNode = { op, inputs: args.map((t) => this.resolve(t, op)), extra: {}, attrs, outputs: [], module };
    const index = this.nodes.length;
    this.nodes.push(node);
    this.depth++;
    let out: T;
    try {
      out = fn();
    } finally {
      this.depth--;
    }
    node.outputs = this.bind(flattenTensors(out), index);
    return out;
  }
}

/**
 * The tensors of a value made of tensors and (nested) arrays, in order; anything else is an error.
 * skipNull: null entries are left out (MultiheadAttention's weights without needWeights).
 */
export function flattenTensors(v: unknown, what = 'forward', skipNull = false): Tensor[] {
  const out: Tensor[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof Tensor) out.push(x);
    else if (Array.isArray(x)) x.forEach(walk);
    else if (x === null && skipNull) return;
    else throw new KilnError(`onnx.export: ${what} returned ${x === null ? 'null' : typeof x}; expected tensors or arrays of tensors`);
  };
  walk(v);
  return out;
}
