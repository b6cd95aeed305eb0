/**
 * Gradient checkpointing, as torch.utils.checkpoint: checkpoint(fn, ...args) runs fn and keeps
 * only its outputs; backward runs fn again (with the random-number state it first saw, so dropout
 * draws the same masks) and backpropagates through that recomputation.
 *
 * How: the first run records as usual (on leaf views of the tensor arguments) only to find what
 * fn reads besides its arguments (parameters, and tensors of the outer graph it closes over);
 * its graph and activations are freed before checkpoint returns. One node (op 'checkpoint')
 * stands for fn, with those tensors as inputs, so the engine sees every gradient fn produces
 * (grad() and the post-accumulate hooks work through it). Its rule recomputes fn and takes
 * the gradients of its inputs with grad(), stopping at the nodes made before the recomputation.
 * fn must be deterministic given its inputs and the random state; state it mutates (BatchNorm's
 * running statistics) is updated a second time by the recomputation, as in PyTorch.
 */
import { grad } from '../autograd/backward.js';
import { type Edge, GradNode, enableGrad, isGradEnabled, nextSeq, recordMulti } from '../autograd/engine.js';
import { check } from '../errors.js';
import { scope } from '../memory.js';
import type { Module } from '../nn/module.js';
import { getRngState, setRngState } from '../random.js';
import { Tensor } from '../tensor.js';

type Outputs = Tensor | Tensor[];

/** A leaf view of t, requiring grad as t does: fn's graph stops at the arguments. */
function leafOf(t: unknown): unknown {
  if (!(t instanceof Tensor)) return t;
  const v = t._alias(false);
  v._base = null;
  if (t.requiresGrad) v.requiresGrad = true;
  return v;
}

function outputsOf(r: unknown, what: string): Tensor[] {
  const list = r instanceof Tensor ? [r] : r;
  check(Array.isArray(list) && list.every((o) => o instanceof Tensor), () => `${what}: fn must return a Tensor or an array of tensors`);
  return list as Tensor[];
}

/**
 * The tensors fn's graph reads from outside: leaves that require grad (other than the argument
 * views) and outer non-leaf tensors, one per place in the graph.
 */
function outsideInputs(outs: Tensor[], argViews: Set<unknown>, start: number): Tensor[] {
  const found: Tensor[] = [];
  const seen = new Set<unknown>();
  const seenOuter = new Map<GradNode, Set<number>>();
  const stack = outs.map((o) => o.gradFn).filter((n): n is GradNode => n !== null && n.seq >= start);
  const visited = new Set<GradNode>(stack);
  while (stack.length > 0) {
    const n = stack.pop()!;
    n.next.forEach((e: Edge, i) => {
      if (e === null) return;
      if (!(e instanceof GradNode)) {
        if (!argViews.has(e) && !seen.has(e)) {
          seen.add(e);
          found.push(e);
        }
      } else if (e.seq < start) {
        const nr = n.nextNr?.[i] ?? 0;
        const nrs = seenOuter.get(e) ?? new Set<number>();
        if (!nrs.has(nr)) {
          nrs.add(nr);
          seenOuter.set(e, nrs);
          found.push(n.inputs[i]);
        }
      } else if (!visited.has(e)) {
        visited.add(e);
        stack.push(e);
      }
    });
  }
  return found;
}

/** Runs fn(...args) keeping only its outputs; backward recomputes it. Outside grad mode it just calls fn. */
export function checkpoint<T extends Outputs>(fn: (...args: any[]) => T, ...args: any[]): T {
  check(typeof fn === 'function', 'fn: expected a function');
  if (!isGradEnabled()) return fn(...args);
  const rng = getRngState();
  const start = nextSeq();
  const { single, values, differentiable, outside } = scope(() => {
    const views = args.map(leafOf);
    const r = fn(...views);
    const outs = outputsOf(r, 'checkpoint');
    return {
      single: r instanceof Tensor,
      // the outputs' values, cut from the graph that is freed here
      values: outs.map((o) => o._alias(false)),
      differentiable: outs.map((o, j) => (o.requiresGrad ? j : -1)).filter((j) => j >= 0),
      outside: outsideInputs(outs, new Set(views), start),
    };
  });
  const inputs = [...args.filter((a): a is Tensor => a instanceof Tensor), ...outside];
  const versions = versionSum(inputs);
  recordMulti(differentiable.map((j) => values[j]), 'checkpoint', inputs, {
    backward: (dys: (Tensor | undefined)[]) => {
      // the recomputation reads every input: one modified in place would give other activations
      check(versionSum(inputs) === versions,
        'backward: a tensor saved for the gradient of checkpoint was modified in place after checkpoint ran ' +
          '(its version counter moved on), so the recomputation would differ; modify a clone() instead');
      const byOutput: (Tensor | undefined)[] = values.map(() => undefined);
      differentiable.forEach((j, p) => (byOutput[j] = dys[p]));
      return recompute(fn, args, outside, rng, byOutput);
    },
  });
  return (single ? values[0] : values) as T;
}

const versionSum = (ts: Tensor[]) => ts.reduce((s, t) => s + t.storage.version, 0);

/** The checkpoint node's rule: fn again, then the gradients of its tensor arguments and outside inputs. */
function recompute(fn: (...args: any[]) => Outputs, args: any[], outside: Tensor[], rng: { seed: number; offset: number },
  dys: (Tensor | undefined)[]): (Tensor | null)[] {
  const createGraph = isGradEnabled();
  const current = getRngState();
  setRngState(rng);
  try {
    const start = nextSeq();
    // on the arguments themselves, so a createGraph gradient stays connected to their history
    const outs = outputsOf(enableGrad(() => fn(...args)), 'checkpoint');
    const roots: Tensor[] = [];
    const grads: Tensor[] = [];
    outs.forEach((o, j) => {
      const g = dys[j];
      if (o.requiresGrad && g !== undefined) {
        roots.push(o);
        grads.push(g);
      }
    });
    const targets = [...args.filter((a): a is Tensor => a instanceof Tensor), ...outside];
    // each tensor once (an argument may be passed twice): its gradient goes to its first place
    const wanted = [...new Set(targets.filter((t) => t.requiresGrad))];
    const got = roots.length === 0 || wanted.length === 0 ? [] :
      grad(roots, wanted, { gradOutputs: grads, allowUnused: true, createGraph }, start);
    return targets.map((t, i) => (t.requiresGrad && targets.indexOf(t) === i ? got[wanted.indexOf(t)] ?? null : null));
  } finally {
    setRngState(current);
  }
}

/**
 * Runs a Sequential in `segments` pieces, each checkpointed: only the segment boundaries stay in
 * memory. (PyTorch runs the last piece plainly, as backward frees its activations first; Kiln
 * frees activations with their scope, so a plain last piece would hold them through backward.)
 */
export function checkpointSequential(seq: Module & { length: number; at(i: number): Module }, segments: number, input: Tensor): Tensor {
  check(seq !== null && typeof seq === 'object' && typeof seq.at === 'function' && Number.isInteger(seq.length),
    'seq: expected an nn.Sequential');
  check(Number.isInteger(segments) && segments > 0, () => `segments: expected a positive integer, got ${segments}`);
  const n = seq.length;
  const size = Math.ceil(n / Math.min(segments, Math.max(n, 1)));
  const run = (from: number, to: number) => (x: Tensor) => {
    for (let i = from; i < to; i++) x = seq.at(i).forward(x);
    return x;
  };
  let x = input;
  for (let from = 0; from < n; from += size) x = checkpoint(run(from, Math.min(from + size, n)), x);
  return x;
}
