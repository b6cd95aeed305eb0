/**
 * Reverse-mode autograd. Ops record a GradNode on their output (record); backward() walks the
 * graph in reverse topological order and calls each node's rule from the table in rules.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { KilnError, check, shapeStr } from '../errors.js';
import { Storage, keep, scope } from '../memory.js';
import type { Tensor } from '../tensor.js';
import { placeRows } from '../ops/shape.js';
import { gradRules, type OpName } from './rules.js';

export interface GradNode {
  readonly op: OpName;
  /** The op's tensor inputs, in the order its rule returns gradients. */
  inputs: Tensor[];
  /** Extra tensors and attributes the rule needs (e.g. the output, an argmax, a dim). */
  saved: Record<string, any>;
  released: boolean;
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

export function setGradEnabled(enabled: boolean): void {
  defaultGradEnabled = enabled;
}

/** Records how `out` was made, when grad is on and any input requires it. */
export function record(out: Tensor, op: OpName, inputs: Tensor[], saved: Record<string, any> = {}): Tensor {
  if (!isGradEnabled()) return out;
  let needed = false;
  for (const t of inputs) if (t.requiresGrad) needed = true;
  if (!needed) return out;
  out._setGrad(true, { op, inputs, saved, released: false });
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.gradFn?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

function checkSavedAlive(node: GradNode): void {
  const dead = (t: unknown) => (t as Tensor)?.isDisposed === true;
  if (node.inputs.some(dead) || Object.values(node.saved).some(dead)) {
    throw new KilnError(
      `backward: a tensor saved for the gradient of ${node.op} has been disposed; ` +
        'call backward() before the tensors of the graph are disposed (e.g. inside the same kiln.scope)',
    );
  }
}

export interface BackwardOptions {
  retainGraph?: boolean;
}

export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  check(root.requiresGrad, 'backward: tensor does not require grad and has no gradFn');
  if (gradient === undefined) {
    check(root.numel === 1, () => `backward: grad can be implicitly created only for a scalar output, got shape ${shapeStr(root.shape)}; pass a gradient tensor`);
  } else {
    check(gradient instanceof root.constructor, 'gradient: expected a Tensor');
    check(
      gradient.shape.length === root.shape.length && gradient.shape.every((d, i) => d === root.shape[i]),
      () => `gradient: expected shape ${shapeStr(root.shape)}, got ${shapeStr(gradient.shape)}`,
    );
  }
  const order = topoOrder(root);
  for (const t of order) {
    if (t.gradFn?.released) {
      throw new KilnError(
        'backward: trying to backward through the graph a second time (its saved tensors were freed); ' +
          'pass { retainGraph: true } to the first backward() call',
      );
    }
  }
  scope(() =>
    gradMode.run(false, () => {
      const leafCtx: LeafContext = { firstSerial: Storage.nextSerial, kept: new Set() };
      const grads = new Map<Tensor, Tensor>();
      // gradients made here by a slice rule (fresh, contiguous, referenced only by `grads`)
      const owned = new Set<Tensor>();
      grads.set(root, gradient ?? root._onesLike());
      for (const t of order) {
        const dy = grads.get(t);
        if (dy === undefined) continue;
        grads.delete(t);
        const node = t.gradFn;
        if (node === null) {
          accumulateLeaf(t, dy, leafCtx);
          continue;
        }
        if (t._retainsGrad) accumulateLeaf(t, dy, leafCtx);
        checkSavedAlive(node);
        if (node.op === 'slice' && accumulateSlice(node, dy, grads, owned)) {
          releaseNode(node, options);
          continue;
        }
        const inGrads = gradRules[node.op](node, dy);
        node.inputs.forEach((input, i) => {
          const g = inGrads[i];
          if (!input.requiresGrad || g === null || g === undefined) return;
          const prev = grads.get(input);
          grads.set(input, prev === undefined ? g : prev.add(g));
          if (node.op === 'slice') owned.add(grads.get(input)!);
        });
        releaseNode(node, options);
      }
    }),
  );
}

function releaseNode(node: GradNode, options: BackwardOptions): void {
  if (!options.retainGraph) {
    node.released = true;
    node.inputs = [];
    node.saved = {};
  }
}

/**
 * A slice's gradient added straight into the rows of its input's pending gradient, when this
 * backward made that gradient: O(slice) instead of a zero-filled full-size tensor plus a
 * full-size add per slice (a loop over the steps of a sequence, written with select or narrow).
 */
function accumulateSlice(node: GradNode, dy: Tensor, grads: Map<Tensor, Tensor>, owned: Set<Tensor>): boolean {
  const x = node.inputs[0];
  if (!x.requiresGrad) return true;
  const prev = grads.get(x);
  if (prev === undefined || !owned.has(prev)) return false;
  placeRows(prev, node.saved.dim, dy, node.saved.start, node.saved.step);
  return true;
}

interface LeafContext {
  /** Storages with a serial at or above this were allocated during this backward. */
  firstSerial: number;
  kept: Set<Storage>;
}

function accumulateLeaf(t: Tensor, g: Tensor, ctx: LeafContext): void {
  if (t.grad === null) {
    // A gradient whose whole storage was made by this backward, and given to no other leaf, is
    // kept as is; anything else is copied, so that later in-place accumulation into .grad never
    // writes into another tensor.
    const own =
      g.storage.serial >= ctx.firstSerial && !ctx.kept.has(g.storage) && g.isContiguous() &&
      g.offset === 0 && g.numel === g.storage.numel;
    const grad = own ? g : g.clone();
    ctx.kept.add(grad.storage);
    t.grad = keep(grad);
  } else {
    t.grad._addInPlace(g);
  }
}
