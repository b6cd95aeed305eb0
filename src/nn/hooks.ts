/**
 * Module hooks, as PyTorch's: forward pre-hooks and forward hooks around forward(), and full
 * backward hooks that see the gradients with respect to the module's inputs and outputs.
 *
 * The first hook registered on a module wraps its forward in an own (non-enumerable) property,
 * so model.forward(x) and Sequential run them. A backward hook puts two identity nodes (op
 * 'backwardHook') around the call: the one on the outputs keeps their gradients, the one on
 * the inputs calls the hooks with both and may take replacements for the input gradients.
 */
import { RemovableHandle } from '../autograd/hooks.js';
import { isGradEnabled, recordMulti } from '../autograd/engine.js';
import { check, shapeStr } from '../errors.js';
import { keep } from '../memory.js';
import { Tensor } from '../tensor.js';
import type { Module } from './module.js';

export type ForwardPreHook = (module: Module, args: any[]) => any;
export type ForwardHook = (module: Module, args: any[], output: any) => any;
export type FullBackwardHook = (module: Module, gradInput: (Tensor | null)[], gradOutput: (Tensor | null)[]) =>
  (Tensor | null)[] | void | undefined;

interface Hooks {
  pre: ForwardPreHook[];
  forward: ForwardHook[];
  backward: FullBackwardHook[];
}

const table = new WeakMap<Module, Hooks>();

function hooksOf(m: Module): Hooks {
  let h = table.get(m);
  if (h === undefined) {
    h = { pre: [], forward: [], backward: [] };
    table.set(m, h);
    const original = m.forward;
    Object.defineProperty(m, 'forward', {
      value: (...args: any[]) => callWithHooks(m, original, args),
      writable: true, configurable: true, enumerable: false,
    });
  }
  return h;
}

export function addHook<K extends keyof Hooks>(m: Module, kind: K, hook: Hooks[K][number]): RemovableHandle {
  check(typeof hook === 'function', 'hook: expected a function');
  const list = hooksOf(m)[kind] as unknown[];
  list.push(hook);
  return new RemovableHandle(list, hook);
}

function callWithHooks(m: Module, forward: (...args: any[]) => any, args: any[]): any {
  const h = table.get(m)!;
  for (const pre of [...h.pre]) {
    const r = pre(m, args);
    if (r !== undefined) args = Array.isArray(r) ? r : [r];
  }
  const bw = h.backward.length > 0 && isGradEnabled() ? new BackwardHookCall(m, h.backward) : null;
  if (bw) args = bw.wrapInputs(args);
  let out = forward.apply(m, args);
  for (const hook of [...h.forward]) {
    const r = hook(m, args, out);
    if (r !== undefined) out = r;
  }
  return bw ? bw.wrapOutputs(out) : out;
}

/** One forward call of a module with backward hooks. */
class BackwardHookCall {
  /** Positions of the tensor arguments, and which of them require grad. */
  private argTensors: Tensor[] = [];
  private wrappedInputs = false;
  private gradOutputs: (Tensor | null)[] = [];

  constructor(private readonly m: Module, private readonly hooks: FullBackwardHook[]) {}

  wrapInputs(args: any[]): any[] {
    this.argTensors = args.filter((a): a is Tensor => a instanceof Tensor);
    const needing = this.argTensors.filter((t) => t.requiresGrad);
    if (needing.length === 0) return args;
    const views = needing.map((t) => t._alias(false));
    recordMulti(views, 'backwardHook', needing, { backward: (dys: (Tensor | undefined)[]) => this.onInputGrads(needing, dys) });
    this.wrappedInputs = true;
    return args.map((a) => (a instanceof Tensor && a.requiresGrad ? views[needing.indexOf(a)] : a));
  }

  wrapOutputs(out: any): any {
    const list: unknown[] = out instanceof Tensor ? [out] : Array.isArray(out) ? out : [];
    const needing = list.filter((o): o is Tensor => o instanceof Tensor && o.requiresGrad);
    if (needing.length === 0) return out;
    const views = needing.map((t) => t._alias(false));
    recordMulti(views, 'backwardHook', needing, { backward: (dys: (Tensor | undefined)[]) => this.onOutputGrads(dys) });
    const swap = (o: unknown) => (o instanceof Tensor && o.requiresGrad ? views[needing.indexOf(o)] : o);
    return out instanceof Tensor ? swap(out) : (out as unknown[]).map(swap);
  }

  private onOutputGrads(dys: (Tensor | undefined)[]): (Tensor | null)[] {
    // held until the input node runs: another object on the same storage, outside the run's frees
    const recorded = isGradEnabled();
    this.gradOutputs = dys.map((g) => (g === undefined ? null : recorded ? g : keep(g._alias())));
    if (!this.wrappedInputs) this.call(this.argTensors.map(() => null));
    return dys.map((g) => g ?? null);
  }

  private onInputGrads(needing: Tensor[], dys: (Tensor | undefined)[]): (Tensor | null)[] {
    const gradInput = this.argTensors.map((t) => (t.requiresGrad ? dys[needing.indexOf(t)] ?? null : null));
    const result = this.call(gradInput);
    // new objects: the engine frees the gradients it is given, and a hook may return a tensor it keeps
    return needing.map((t) => result[this.argTensors.indexOf(t)]?._alias() ?? null);
  }

  /** Runs the hooks (each may replace gradInput) and frees the kept output gradients. */
  private call(gradInput: (Tensor | null)[]): (Tensor | null)[] {
    for (const hook of [...this.hooks]) {
      const r = hook(this.m, gradInput, this.gradOutputs);
      if (r === undefined) continue;
      check(Array.isArray(r) && r.length === gradInput.length,
        () => `registerFullBackwardHook: a hook returned ${Array.isArray(r) ? r.length : typeof r} values, expected an array of ${gradInput.length} (one per tensor argument)`);
      r.forEach((g, i) => {
        const old = gradInput[i];
        check(g === null || (g instanceof Tensor && old !== null && g.shape.every((d, k) => d === old.shape[k]) && g.ndim === old.ndim),
          () => `registerFullBackwardHook: gradInput[${i}] must be null or a tensor of shape ${old ? shapeStr(old.shape) : '(none)'}`);
      });
      gradInput = r;
    }
    if (!isGradEnabled()) for (const g of this.gradOutputs) g?.dispose();
    this.gradOutputs = [];
    return gradInput;
  }
}
