/**
 * The backward executor: backward() and grad() walk the recorded nodes (engine.ts) from the
 * outputs in reverse topological order and call each node's rule (rules.ts).
 *
 * Memory: without createGraph, the whole run is a kiln.scope and each rule's temporaries are
 * freed when it returns (runFreeing); each pending gradient is a Tensor object owned by the
 * executor and disposed as soon as its node has run; gradients arriving at one tensor are summed
 * in place when the executor owns the only reference; a node's own buffers are freed when it is
 * released. With createGraph the rules run recorded and nothing is freed early: the new graph
 * holds its tensors, which belong to the caller's scope, like a forward pass.
 */
import { checkOptions } from '../options.js';
import { zeros } from '../creation.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { Storage, keep, scope } from '../memory.js';
import { castTo, placeRows } from '../ops/shape.js';
import { isFloating } from '../dtype.js';
import { type Tensor, collectMade } from '../tensor.js';
import { type Edge, GradNode, type TensorHook, checkFresh, readVersions, withGradMode } from './engine.js';
import { gradOnlyHooks } from './hooks.js';
import { gradRules } from './rules.js';

export interface BackwardOptions {
  /** The gradient of the output (default: 1 for a scalar). */
  gradient?: Tensor;
  /** Keep the graph's saved tensors for another backward (default: createGraph). */
  retainGraph?: boolean;
  /** Record the backward pass, so the gradients can be differentiated again. */
  createGraph?: boolean;
  /** Accumulate into these tensors' .grad only (default: every leaf that requires grad). */
  inputs?: Tensor[];
}

export interface GradOptions {
  /** The gradient of each output (default: 1 for scalar outputs). */
  gradOutputs?: Tensor | (Tensor | null | undefined)[];
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Return null for an input the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/** One run of the executor. */
interface Task {
  createGraph: boolean;
  retainGraph: boolean;
  /** grad(): sinks are captured into `results`; backward(): they accumulate into .grad. */
  capture: boolean;
  /** backward() without inputs: every leaf that requires grad is a sink, and retainGrad applies. */
  allLeaves: boolean;
  /** Leaf sinks: tensor -> index in results (capture) or -1. */
  leafSinks: Map<Tensor, number>;
  /** Non-leaf sinks, at their node's output: [output number, index in results or -1, the tensor]. */
  nodeSinks: Map<GradNode, [number, number, Tensor][]>;
  results: (Tensor | null)[];
  /** Storages with a serial at or above this were allocated by this run. */
  firstSerial: number;
  /** Nodes made before this sequence number are not entered (checkpoint recomputation). */
  stopBefore: number;
  /** Pending gradients of node outputs, and of leaves. */
  buffers: Map<GradNode, (Tensor | undefined)[]>;
  leafBuf: Map<Tensor, Tensor>;
}

type Rule = (node: GradNode, dy: Tensor, dys: (Tensor | undefined)[]) => (Tensor | null | undefined)[];

const isNode = (e: Edge): e is GradNode => e instanceof GradNode;
const NONE: never[] = [];
// backward() without inputs has no sinks to look up: shared, never written
const NO_LEAVES: Map<Tensor, number> = new Map();
const NO_NODES: Map<GradNode, [number, number, Tensor][]> = new Map();
const NOTHING: Record<string, any> = {};

/** Another Tensor object for the same values and the same place in the graph. */
function alias(t: Tensor): Tensor {
  return t._alias();
}

/** The executor owns the only reference to g's storage, which it allocated, laid out densely. */
function exclusive(g: Tensor, task: Task): boolean {
  return !task.createGraph && g.storage.serial >= task.firstSerial && g.storage.refs === 1 && g.offset === 0 &&
    g.numel === g.storage.numel && g.isContiguous();
}

function drop(t: Tensor, task: Task): void {
  if (!task.createGraph) t.dispose();
}

/** prev + g, summed in place into prev when the executor owns it. */
function sum(prev: Tensor, g: Tensor, task: Task): Tensor {
  if (task.createGraph) return prev.add(g);
  if (exclusive(prev, task)) {
    prev._addInPlace(g);
    g.dispose();
    return prev;
  }
  const s = prev.add(g);
  prev.dispose();
  g.dispose();
  return s;
}

function runHooks(hooks: readonly TensorHook[] | null | undefined, g: Tensor, task: Task, what: string): Tensor {
  if (!hooks || hooks.length === 0) return g;
  for (const hook of [...hooks]) {
    const r = hook(task.createGraph ? g : alias(g));
    if (r === undefined || r === null) continue;
    check(r instanceof g.constructor, () => `${what}: a hook returned ${typeof r}, expected a Tensor or nothing`);
    const t = r as Tensor;
    check(t.shape.length === g.shape.length && t.shape.every((d, i) => d === g.shape[i]),
      () => `${what}: a hook returned a gradient of shape ${shapeStr(t.shape)}, expected ${shapeStr(g.shape)}`);
    drop(g, task);
    g = task.createGraph ? t : alias(t);
  }
  return g;
}

/** Adds g into t.grad (the first gradient is kept without a copy when this run owns it alone). */
function accumulateGrad(t: Tensor, g: Tensor, task: Task): void {
  if (task.createGraph) {
    t.grad = keep(t.grad === null ? g : t.grad.add(g));
  } else if (t.grad === null) {
    const grad = exclusive(g, task) ? g : g.clone();
    if (grad !== g) g.dispose();
    t.grad = keep(grad);
  } else {
    t.grad._addInPlace(g);
    g.dispose();
  }
}

function finalizeLeaf(t: Tensor, g: Tensor, task: Task): void {
  const hooks = t._leafHooks;
  if (hooks !== null) g = runHooks(hooks.pre, g, task, 'registerHook');
  const index = task.leafSinks.get(t) ?? -1;
  if (task.capture) {
    task.results[index] = g;
    return;
  }
  accumulateGrad(t, g, task);
  if (hooks !== null) for (const hook of [...hooks.post]) hook(t);
}

/** The op's name for errors: a custom Function's class name, the unary op, or the table's key. */
function opLabel(n: GradNode): string {
  return n.saved.name ?? (n.op === 'unary' || n.op === 'unaryBackward' ? `${n.saved.op} (${n.op})` : n.op);
}

/** The rule's error for tensors it reads that were disposed or modified in place since the op ran. */
function checkSaved(n: GradNode): void {
  let disposed = false;
  for (let i = 0; i < n.inputs.length; i++) if ((n.reads >> i) & 1 && n.inputs[i].isDisposed) disposed = true;
  if (n.checked !== null) for (const t of n.checked) if (t.isDisposed) disposed = true;
  if (disposed) {
    throw new KilnError(
      `backward: a tensor saved for the gradient of ${opLabel(n)} has been disposed; ` +
        'call backward() before the tensors of the graph are disposed (e.g. inside the same kiln.scope)',
    );
  }
  if (readVersions(n.inputs, n.reads, n.checked) !== n.versionSum) {
    const label = opLabel(n);
    throw new KilnError(
      `backward: a tensor saved for the gradient of ${label} was modified in place after ${label} ran ` +
        '(its version counter moved on), so the gradient would be wrong; modify a clone() instead, ' +
        'or make the in-place change after backward()',
    );
  }
}

function release(n: GradNode, task: Task): void {
  if (task.retainGraph) return;
  n.released = true;
  n.saved.onRelease?.();
  if (n.owned) for (const t of n.owned) t.dispose();
  n.owned = null;
  n.inputs = NONE;
  n.next = NONE;
  n.saved = NOTHING;
  n.checked = null;
}

function sinkAt(task: Task, n: GradNode, nr: number): boolean {
  return task.nodeSinks.get(n)?.some((s) => s[0] === nr) ?? false;
}

/**
 * Reverse topological order of the nodes reachable from the roots, which of them lead to a sink,
 * and whether a leaf they feed has post-accumulate hooks.
 */
function plan(roots: GradNode[], task: Task): { order: GradNode[]; needed: Set<GradNode> | null; postHooks: boolean } {
  const post: GradNode[] = [];
  const visited = new Set<GradNode>();
  const needed = task.allLeaves ? null : new Set<GradNode>();
  let postHooks = false;
  // depth-first, iteratively (graphs can be 10^4 nodes deep): a node and the next edge to visit
  const stack: GradNode[] = [];
  const at: number[] = [];
  const enter = (n: GradNode) => {
    visited.add(n);
    if (n.seq < task.stopBefore) {
      post.push(n); // a boundary: may hold a sink, never run
      return;
    }
    if (n.released) {
      throw new KilnError(
        'backward: trying to backward through the graph a second time (its saved tensors were freed); ' +
          'pass { retainGraph: true } to the first backward() call',
      );
    }
    stack.push(n);
    at.push(0);
  };
  for (const r of roots) if (!visited.has(r)) enter(r);
  while (stack.length > 0) {
    const top = stack.length - 1;
    const n = stack[top];
    const i = at[top];
    if (i < n.next.length) {
      at[top] = i + 1;
      const e = n.next[i];
      if (isNode(e)) {
        if (!visited.has(e)) enter(e);
      } else if (e !== null && e._leafHooks !== null) {
        postHooks = true;
      }
      continue;
    }
    stack.pop();
    at.pop();
    post.push(n);
    if (needed !== null) {
      for (let k = 0; k < n.next.length; k++) {
        const e = n.next[k];
        if (e === null) continue;
        if (isNode(e) ? needed.has(e) || sinkAt(task, e, n.nextNr?.[k] ?? 0) : task.leafSinks.has(e)) {
          needed.add(n);
          break;
        }
      }
    }
  }
  return { order: post.reverse(), needed, postHooks };
}

function addToNode(task: Task, n: GradNode, nr: number, g: Tensor): void {
  let b = task.buffers.get(n);
  if (b === undefined) task.buffers.set(n, (b = new Array(n.outputs)));
  const prev = b[nr];
  b[nr] = prev === undefined ? g : sum(prev, g, task);
}

function addToLeaf(task: Task, t: Tensor, g: Tensor): void {
  if (!task.allLeaves && !task.leafSinks.has(t)) return drop(g, task);
  const prev = task.leafBuf.get(t);
  task.leafBuf.set(t, prev === undefined ? g : sum(prev, g, task));
}

/** Runs the graph from `roots` with their gradients (tensors owned by this run unless createGraph). */
function execute(roots: Tensor[], rootGrads: Tensor[], task: Task): void {
  const { buffers, leafBuf } = task;
  const rootNodes: GradNode[] = [];
  for (let i = 0; i < roots.length; i++) {
    const fn = roots[i].gradFn;
    if (fn !== null) {
      addToNode(task, fn, roots[i]._outputNr, rootGrads[i]);
      rootNodes.push(fn);
    } else {
      addToLeaf(task, roots[i], rootGrads[i]);
    }
  }
  const { order, needed, postHooks } = plan(rootNodes, task);

  // a leaf with post-accumulate hooks is finalized right after the last node that feeds it (its
  // hook may start an all-reduce while backward goes on); the others when the run ends
  let finalizeAfter: Map<GradNode, Tensor[]> | null = null;
  if (postHooks && !task.capture) {
    const lastUse = new Map<Tensor, GradNode>();
    for (const n of order) {
      if (needed !== null && !needed.has(n)) continue;
      for (const e of n.next) if (e !== null && !isNode(e) && (e._leafHooks?.post.length ?? 0) > 0) lastUse.set(e, n);
    }
    for (const [leaf, n] of lastUse) {
      const list = (finalizeAfter ??= new Map()).get(n);
      if (list) list.push(leaf);
      else finalizeAfter.set(n, [leaf]);
    }
  }
  const sinksAtNodes = task.nodeSinks.size > 0;

  for (const n of order) {
    const dys = buffers.get(n);
    if (dys !== undefined) {
      buffers.delete(n);
      if (n.watch !== null || sinksAtNodes) visitOutputs(n, dys, task);
      if (needed === null || needed.has(n)) runNode(n, dys, task, finalizeAfter?.get(n));
      else if (!task.createGraph) for (const g of dys) g?.dispose();
    }
    const leaves = finalizeAfter?.get(n);
    if (leaves) {
      for (const leaf of leaves) {
        const g = leafBuf.get(leaf);
        if (g === undefined) continue;
        leafBuf.delete(leaf);
        finalizeLeaf(leaf, g, task);
      }
    }
  }
  leafBuf.forEach((g, leaf) => finalizeLeaf(leaf, g, task));
}

/** Tensor hooks, retained gradients and sinks at a node's outputs, before its rule runs. */
function visitOutputs(n: GradNode, dys: (Tensor | undefined)[], task: Task): void {
  for (let j = 0; j < dys.length; j++) {
    let g = dys[j];
    if (g === undefined) continue;
    g = dys[j] = runHooks(n.watch?.hooks[j], g, task, 'registerHook');
    const kept = n.watch?.retains[j];
    if (kept !== undefined && task.allLeaves && !task.capture) accumulateGrad(kept, alias(g), task);
    const sinks = task.nodeSinks.get(n);
    if (sinks) {
      for (const [nr, index, t] of sinks) {
        if (nr !== j) continue;
        if (task.capture) task.results[index] = alias(g);
        else accumulateGrad(t, alias(g), task);
      }
    }
  }
}

function runNode(n: GradNode, dys: (Tensor | undefined)[], task: Task, finalized?: Tensor[]): void {
  checkSaved(n);
  if (n.outShapes !== null) {
    for (let j = 0; j < dys.length; j++) if (dys[j] === undefined) dys[j] = zerosOf(n.outShapes[j], n.inputs[0]);
  }
  const dy = dys[0]!;
  // a slice's gradient goes straight into the rows of its input's pending gradient when this run owns it
  if (n.op === 'slice' && !task.createGraph && sliceInPlace(n, dy, task)) {
    dy.dispose();
    release(n, task);
    return;
  }
  const rule = gradRules[n.op] as Rule;
  if (finalized !== undefined && !task.createGraph && LEAVES_FIRST.has(n.op) && leavesFirst(n, dy, dys, task, rule, finalized)) {
    for (const g of dys) g?.dispose();
    release(n, task);
    return;
  }
  const grads = task.createGraph ? rule(n, dy, dys) : runFreeing(rule, n, dy, dys);
  deliver(n, grads, dys, task);
  if (!task.createGraph) for (const g of dys) g?.dispose();
  release(n, task);
}

/** Routes a rule's gradients to the next nodes and leaves. */
function deliver(n: GradNode, grads: (Tensor | null | undefined)[], dys: (Tensor | undefined)[], task: Task): void {
  let castFrom: Tensor[] | null = null;
  for (let i = 0; i < n.next.length; i++) {
    const e = n.next[i];
    let g = grads[i];
    if (e === null || g === null || g === undefined) continue; // an unused gradient is freed with the run's scope
    // a gradient takes its input's dtype (a float32 tensor used in float64 math gets float32)
    const want = n.inputs[i].dtype;
    if (g.dtype !== want && isFloating(want)) {
      (castFrom ??= []).push(g);
      g = castTo(g, want);
    }
    // every pending gradient is an object this run owns alone
    if (!task.createGraph && (dys.includes(g) || grads.indexOf(g) !== grads.lastIndexOf(g))) g = alias(g);
    if (isNode(e)) addToNode(task, e, n.nextNr?.[i] ?? 0, g);
    else addToLeaf(task, e, g);
  }
  if (castFrom !== null && !task.createGraph) for (const g of castFrom) if (!dys.includes(g)) g.dispose();
}

function runPart(n: GradNode, part: Edge[], dy: Tensor, dys: (Tensor | undefined)[], task: Task, rule: Rule): void {
  const all = n.next;
  n.next = part;
  try {
    deliver(n, runFreeing(rule, n, dy, dys), dys, task);
  } finally {
    n.next = all;
  }
}

// rules that compute only the gradients whose `next` edge is set, each at the cost of one product
const LEAVES_FIRST = new Set(['linear', 'matmul', 'conv2d']);

/**
 * Runs the rule twice: first for the leaves this node finalizes whose post-accumulate hooks only
 * read the gradient (gradOnlyHooks), which then run (DDP starts a bucket's all-reduce), then for
 * the other inputs (the input gradient, e.g. dy W, is the larger half of a layer's backward and
 * now overlaps the communication). Same products, same values. False when there is nothing to split.
 */
function leavesFirst(n: GradNode, dy: Tensor, dys: (Tensor | undefined)[], task: Task, rule: Rule, finalized: Tensor[]): boolean {
  const all = n.next;
  const early = all.map((e) => (e !== null && !isNode(e) && finalized.includes(e) &&
    e._leafHooks!.post.every((h) => gradOnlyHooks.has(h)) ? e : null));
  if (!early.some((e) => e !== null)) return false;
  const rest = all.map((e, i) => (early[i] === null ? e : null));
  // a leaf fed twice by this node (matmul(w, w)) is final only after both halves
  if (!rest.some((e) => e !== null) || rest.some((e) => e !== null && !isNode(e) && early.includes(e))) return false;
  runPart(n, early, dy, dys, task, rule);
  for (const e of early) {
    if (e === null || isNode(e)) continue;
    const g = task.leafBuf.get(e);
    if (g === undefined) continue;
    task.leafBuf.delete(e);
    finalizeLeaf(e, g, task);
  }
  checkSaved(n); // a hook that wrote a saved tensor after all is an error, not a wrong gradient
  runPart(n, rest, dy, dys, task, rule);
  return true;
}

/**
 * Runs a rule and frees the tensors it made and did not return, like a kiln.scope around it but
 * without one (a scope per node costs a measurable share of a small model's step). A tensor the
 * rule keep()-ed is left alone.
 */
function runFreeing(rule: Rule, n: GradNode, dy: Tensor, dys: (Tensor | undefined)[]): (Tensor | null | undefined)[] {
  const list: Tensor[] = [];
  const prev = collectMade(list);
  let grads: (Tensor | null | undefined)[];
  try {
    grads = rule(n, dy, dys);
  } finally {
    collectMade(prev);
  }
  for (const t of list) if (t._scope !== null && !t.isDisposed && !grads.includes(t)) t.dispose();
  return grads;
}

function sliceInPlace(n: GradNode, dy: Tensor, task: Task): boolean {
  const e = n.next[0];
  if (e === null) return true;
  const prev = isNode(e) ? task.buffers.get(e)?.[n.nextNr?.[0] ?? 0] : task.leafBuf.get(e);
  if (prev === undefined || !exclusive(prev, task)) return false;
  placeRows(prev, n.saved.dim, dy, n.saved.start, n.saved.step);
  prev.storage.version++;
  return true;
}

function zerosOf(shape: readonly number[], like: Tensor): Tensor {
  return zeros([...shape], { device: like.device, dtype: isFloating(like.dtype) ? like.dtype : 'float32' });
}

function checkRoots(what: string, outputs: Tensor[], grads: (Tensor | null | undefined)[]): void {
  outputs.forEach((r, i) => {
    const name = outputs.length === 1 ? what : `${what}[${i}]`;
    check(r !== null && typeof r === 'object' && typeof r.backward === 'function', () => `${name}: expected a Tensor`);
    r._checkAlive(name);
    check(r.requiresGrad, () => `${name}: tensor does not require grad and has no gradFn`);
    checkFresh(r, name);
    const g = grads[i];
    if (g === undefined || g === null) {
      check(r.numel === 1, () => `${name}: grad can be implicitly created only for a scalar output, got shape ${shapeStr(r.shape)}; pass a gradient tensor`);
    } else {
      check(g instanceof r.constructor, () => `gradient: expected a Tensor for ${name}`);
      g._checkAlive('gradient');
      check(g.dtype === r.dtype, () => `gradient: expected a ${r.dtype} tensor (the dtype of ${name}), got ${g.dtype}`);
      check(g.device === r.device, () => `gradient: on ${g.device}, expected ${r.device} (the device of ${name})`);
      check(g.shape.length === r.shape.length && g.shape.every((d, k) => d === r.shape[k]),
        () => `gradient: expected shape ${shapeStr(r.shape)}, got ${shapeStr(g.shape)}`);
    }
  });
}

function newTask(createGraph: boolean, retainGraph: boolean | undefined, capture: boolean, allLeaves: boolean,
  stopBefore = 0): Task {
  return {
    createGraph, retainGraph: retainGraph ?? createGraph, capture, allLeaves, stopBefore,
    leafSinks: allLeaves ? NO_LEAVES : new Map(), nodeSinks: allLeaves ? NO_NODES : new Map(), results: [],
    firstSerial: Storage.nextSerial, buffers: new Map(), leafBuf: new Map(),
  };
}

function addSink(task: Task, t: Tensor, index: number): void {
  const fn = t.gradFn;
  if (fn === null) {
    task.leafSinks.set(t, index);
    return;
  }
  const list = task.nodeSinks.get(fn);
  const entry: [number, number, Tensor] = [t._outputNr, index, t];
  if (list) list.push(entry);
  else task.nodeSinks.set(fn, [entry]);
}

/** Root gradients as objects the run owns: ones for scalars; the caller's tensors behind a new object. */
function rootGradients(outputs: Tensor[], grads: (Tensor | null | undefined)[], createGraph: boolean): Tensor[] {
  return outputs.map((r, i) => {
    const g = grads[i];
    if (g === undefined || g === null) return r._onesLike();
    return createGraph ? g : g._alias(false);
  });
}

/** Runs fn inside the executor's memory rules: a scope when nothing is recorded, the caller's otherwise. */
function run<T>(createGraph: boolean, fn: () => T): T {
  return createGraph ? withGradMode(true, fn) : scope(() => withGradMode(false, fn));
}

/** loss.backward(): accumulates gradients into .grad of the leaves (or of `inputs`). */
export function backward(outputs: Tensor[], grads: (Tensor | null | undefined)[], options: BackwardOptions = {}): void {
  check(options !== null && typeof options === 'object', 'options: expected an object');
  checkOptions(options, ['gradient', 'retainGraph', 'createGraph', 'inputs'], 'backward');
  const { createGraph = false, retainGraph, inputs } = options;
  checkRoots(outputs.length === 1 ? 'backward' : 'tensors', outputs, grads);
  const task = newTask(createGraph, retainGraph, false, inputs === undefined);
  if (inputs !== undefined) {
    check(Array.isArray(inputs) && inputs.length > 0, 'inputs: expected a non-empty array of tensors');
    inputs.forEach((t, i) => {
      check(t !== null && typeof t === 'object' && typeof t.backward === 'function', () => `inputs[${i}]: expected a Tensor`);
      check(t.requiresGrad, () => `inputs[${i}]: tensor does not require grad`);
      addSink(task, t, -1);
    });
  }
  run(createGraph, () => execute(outputs, rootGradients(outputs, grads, createGraph), task));
}

/** kiln.autograd.grad: the gradients of outputs with respect to inputs, returned (no .grad is touched). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {},
  stopBefore = 0): (Tensor | null)[] {
  check(options !== null && typeof options === 'object', 'options: expected an object');
  checkOptions(options, ['gradOutputs', 'retainGraph', 'createGraph', 'allowUnused'], 'grad');
  const { createGraph = false, retainGraph, allowUnused = false } = options;
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const ins = Array.isArray(inputs) ? inputs : [inputs];
  check(outs.length > 0, 'outputs: expected a tensor or a non-empty array of tensors');
  check(ins.length > 0, 'inputs: expected a tensor or a non-empty array of tensors');
  const go = options.gradOutputs;
  const gradOutputs = go === undefined ? [] : Array.isArray(go) ? go : [go];
  check(go === undefined || gradOutputs.length === outs.length,
    () => `gradOutputs: expected ${outs.length} gradients (one per output), got ${gradOutputs.length}`);
  checkRoots('outputs', outs, gradOutputs);
  const task = newTask(createGraph, retainGraph, true, false, stopBefore);
  ins.forEach((t, i) => {
    check(t !== null && typeof t === 'object' && typeof t.backward === 'function', () => `inputs[${i}]: expected a Tensor`);
    t._checkAlive(`inputs[${i}]`);
    check(t.requiresGrad, () => `inputs[${i}]: tensor does not require grad`);
    addSink(task, t, i);
  });
  task.results = ins.map(() => null);
  return run(createGraph, () => {
    execute(outs, rootGradients(outs, gradOutputs, createGraph), task);
    task.results.forEach((r, i) => {
      check(r !== null || allowUnused,
        () => `inputs[${i}]: the outputs do not depend on this tensor (it was not used in the graph); pass { allowUnused: true } to get null`);
    });
    return task.results;
  });
}
