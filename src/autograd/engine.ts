/**
 * Recording. Ops call record() on their output: when grad mode is on and an input requires grad,
 * it attaches a GradNode naming the op's rule (rules.ts), the inputs, what the rule needs, and
 * where each input's gradient goes. backward.ts walks these nodes.
 *
 * Version counter rule: every in-place write bumps its Storage's `version` (shared by views).
 * A node stores the sum of the versions of the tensors its rule reads (inputs flagged in `reads`,
 * and the saved tensors listed in `checked`, such as the output or an index); versions only
 * grow, so a different sum at backward means one of them was modified in place, and backward
 * throws naming the op (PyTorch's behaviour). Buffers the op made for itself (`owned`) are not
 * checked: nothing else can write them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { KilnError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { OpName } from './rules.js';

/** A tensor hook: sees a gradient, may return a replacement. */
export type TensorHook = (grad: Tensor) => Tensor | void | undefined | null;

/** Where an input's gradient goes: its node, the input itself when it is a leaf that requires grad, or nowhere. */
export type Edge = GradNode | Tensor | null;

let nodeCount = 0;

/** The sequence number the next node will get (nodes made later have larger numbers). */
export function nextSeq(): number {
  return nodeCount;
}

export class GradNode {
  /** Creation order. */
  readonly seq = nodeCount++;
  /** Output number of each input on its own node; null when all are 0 (single-output producers). */
  nextNr: number[] | null = null;
  /** Storage version sum of the tensors the rule reads, when recorded (see the file comment). */
  versionSum = 0;
  /** Saved tensors (not inputs) whose values the rule reads: version-checked. */
  checked: Tensor[] | null = null;
  /** Buffers the op made only for its backward (im2col columns, argmax, ...): freed when the node is released. */
  owned: Tensor[] | null = null;
  /** Output shapes, when the rule gets zeros for outputs that got no gradient (custom Functions). */
  outShapes: number[][] | null = null;
  /** Per output: tensor hooks (registerHook on a non-leaf) and the tensor whose .grad is kept (retainGrad). */
  watch: { hooks: (TensorHook[] | undefined)[]; retains: (Tensor | undefined)[] } | null = null;
  released = false;

  constructor(
    readonly op: OpName,
    /** The op's tensor inputs, in the order its rule returns gradients. */
    public inputs: Tensor[],
    /** Where each input's gradient goes, fixed when the op ran (so in-place ops can re-point a tensor). */
    public next: Edge[],
    /** Extra tensors and attributes the rule needs (e.g. the output, an argmax, a dim). */
    public saved: Record<string, any>,
    /** Bit i set: the rule reads the value of inputs[i] (it is version-checked). */
    readonly reads: number,
    readonly outputs: number,
  ) {}
}

const gradMode = new AsyncLocalStorage<boolean>();
let defaultGradEnabled = true;

export function isGradEnabled(): boolean {
  return gradMode.getStore() ?? defaultGradEnabled;
}

/** Runs fn with gradient recording off (also across await inside fn). */
export function noGrad<T>(fn: () => T): T {
  return gradMode.run(false, fn);
}

export function enableGrad<T>(fn: () => T): T {
  return gradMode.run(true, fn);
}

/** Runs fn with recording on or off. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  return gradMode.run(enabled, fn);
}

export function setGradEnabled(enabled: boolean): void {
  defaultGradEnabled = enabled;
}

const NOTHING: Record<string, any> = Object.freeze({}) as Record<string, any>;

/**
 * Tracing (onnx/trace.ts): while a tracer is set, every op reports itself here, whatever the
 * grad mode and whether or not an input requires grad: record() and recordMulti() for the ops
 * autograd knows, traceOp() for the few that are never recorded (comparisons, casts, int32
 * concatenation, extrema and arg-extrema without grad). The export runs under noGrad, so no
 * autograd state is made.
 */
export interface Tracer {
  op(outs: Tensor[], op: string, inputs: Tensor[], saved: Record<string, any>): void;
}
let tracer: Tracer | null = null;

/** Sets the tracer (null: none); returns the previous one. */
export function setTracer(t: Tracer | null): Tracer | null {
  const prev = tracer;
  tracer = t;
  return prev;
}

/** Reports an op that autograd does not record to the tracer, if any; returns out. */
export function traceOp(out: Tensor, op: string, inputs: Tensor[], attrs: Record<string, any>): Tensor {
  if (tracer !== null) tracer.op([out], op, inputs, attrs);
  return out;
}

/** The version sum a node checks: inputs flagged in reads, and the checked saved tensors. */
export function readVersions(inputs: Tensor[], reads: number, checked: Tensor[] | null): number {
  let sum = 0;
  for (let i = 0; i < inputs.length && reads >> i !== 0; i++) if ((reads >> i) & 1) sum += inputs[i].storage.version;
  if (checked !== null) for (let i = 0; i < checked.length; i++) sum += checked[i].storage.version;
  return sum;
}

/** Throws when t's history predates an in-place op recorded through another view of its storage. */
export function checkFresh(t: Tensor, what: string): void {
  if (t.storage.rebased > t._version) {
    throw new KilnError(
      `${what}: this tensor shares storage with a view that was modified in place by a recorded op after it was made, ` +
        'so its gradient history is stale (Kiln records an in-place op only on the tensor it is called on); ' +
        'clone() before modifying a view in place, or take the views again after the in-place op',
    );
  }
}

/** A node for `op` when grad mode is on and an input requires grad; else null. */
function makeNode(op: OpName, inputs: Tensor[], saved: Record<string, any>, reads: number, checked: Tensor[] | null,
  outputs: number): GradNode | null {
  if (!isGradEnabled()) return null;
  let needed = false;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    if (t.storage.rebased > t._version) checkFresh(t, `${op} input ${i}`);
    if (t.requiresGrad) needed = true;
  }
  if (!needed) return null;
  const next: Edge[] = new Array(inputs.length);
  let nextNr: number[] | null = null;
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    const fn = t.gradFn;
    if (fn !== null) {
      next[i] = fn;
      if (t._outputNr !== 0) (nextNr ??= new Array<number>(inputs.length).fill(0))[i] = t._outputNr;
    } else {
      next[i] = t.requiresGrad ? t : null;
    }
  }
  const node = new GradNode(op, inputs, next, saved, reads, outputs);
  node.nextNr = nextNr;
  node.checked = checked;
  node.versionSum = readVersions(inputs, reads, checked);
  return node;
}

/**
 * Records how `out` was made, when grad is on and any input requires it. `reads`: bit i set when
 * the rule reads inputs[i]'s value; `owned`: buffers made only for the backward, freed with the
 * node; `checked`: other saved tensors the rule reads (the output, an index), version-checked.
 */
export function record(out: Tensor, op: OpName, inputs: Tensor[], saved: Record<string, any> = NOTHING, reads = 0,
  owned: Tensor[] | null = null, checked: Tensor[] | null = null): Tensor {
  if (tracer !== null) tracer.op([out], op, inputs, saved);
  const node = makeNode(op, inputs, saved, reads, checked, 1);
  if (node !== null) {
    node.owned = owned;
    out._setGrad(true, node, 0);
  }
  return out;
}

/** Records an op with several outputs (custom Functions, checkpoints, module backward hooks). */
export function recordMulti(outs: Tensor[], op: OpName, inputs: Tensor[], saved: Record<string, any>,
  { reads = 0, materialize = false } = {}): GradNode | null {
  if (tracer !== null) tracer.op(outs, op, inputs, saved);
  const node = makeNode(op, inputs, saved, reads, null, outs.length);
  if (node === null) return null;
  if (materialize) node.outShapes = outs.map((o) => [...o.shape]);
  outs.forEach((o, j) => o._setGrad(true, node, j));
  return node;
}
