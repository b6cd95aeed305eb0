/**
 * Custom differentiable functions, as torch.autograd.Function:
 *
 *   class Exp extends kiln.autograd.Function {
 *     static forward(ctx, x) { const y = x.exp(); ctx.saveForBackward(y); return y; }
 *     static backward(ctx, dy) { const [y] = ctx.savedTensors; return dy.mul(y); }
 *   }
 *   const y = Exp.apply(x);
 *
 * forward runs with recording off; apply records one node (op 'function') whose rule calls
 * backward with the gradient of every output (zeros for outputs that got none). backward runs
 * with recording on under createGraph, so a backward written with Kiln ops is differentiable.
 */
import { zeros } from '../creation.js';
import { isFloating } from '../dtype.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { Tensor } from '../tensor.js';
import { isGradEnabled, noGrad, recordMulti } from './engine.js';

export class FunctionCtx {
  /** For each argument of forward: whether it is a tensor whose gradient is needed. */
  readonly needsInputGrad: boolean[];
  private saved: (Tensor | null)[] = [];
  private savedVersion = 0;
  private released = false;
  /** @internal outputs marked non-differentiable */
  readonly _nonDifferentiable = new Set<Tensor>();
  /** @internal the Function's name, for errors */
  readonly _name: string;
  /** Anything else forward wants to pass to backward (ctx.alpha = ...). */
  [key: string]: unknown;

  constructor(name: string, needsInputGrad: boolean[]) {
    this._name = name;
    this.needsInputGrad = needsInputGrad;
  }

  /** Keeps tensors for backward; they are version-checked, as the tensors a built-in rule saves. */
  saveForBackward(...tensors: (Tensor | null | undefined)[]): void {
    tensors.forEach((t, i) => check(t === null || t === undefined || t instanceof Tensor,
      () => `saveForBackward: argument ${i} is not a Tensor (store other values on ctx directly)`));
    this.saved = tensors.map((t) => t ?? null);
    this.savedVersion = versionSum(this.saved);
  }

  /** The tensors given to saveForBackward. */
  get savedTensors(): (Tensor | null)[] {
    if (this.released) {
      throw new KilnError(`${this._name}: savedTensors were freed after backward; pass { retainGraph: true } to backward to keep them`);
    }
    for (const t of this.saved) check(!t?.isDisposed, () => `${this._name}: a saved tensor has been disposed before backward`);
    if (versionSum(this.saved) !== this.savedVersion) {
      throw new KilnError(
        `backward: a tensor saved for the gradient of ${this._name} was modified in place after ${this._name} ran ` +
          '(its version counter moved on), so the gradient would be wrong; modify a clone() instead',
      );
    }
    return [...this.saved];
  }

  /** Outputs that get no gradient (e.g. indices); they do not require grad. */
  markNonDifferentiable(...tensors: Tensor[]): void {
    for (const t of tensors) {
      check(t instanceof Tensor, 'markNonDifferentiable: expected tensors');
      this._nonDifferentiable.add(t);
    }
  }

  /** @internal */
  _release(): void {
    this.released = true;
    this.saved = [];
  }
}

type Output = Tensor | Tensor[];

const versionSum = (ts: (Tensor | null)[]) => ts.reduce((s, t) => s + (t === null ? 0 : t.storage.version), 0);

/** Subclass with static forward(ctx, ...args) and static backward(ctx, ...gradOutputs); call Sub.apply(...args). */
export class Function {
  static forward(_ctx: FunctionCtx, ..._args: any[]): Output {
    throw new KilnError(`${this.name}.forward: a Function subclass must define static forward(ctx, ...args)`);
  }

  static backward(_ctx: FunctionCtx, ..._grads: Tensor[]): Tensor | null | undefined | (Tensor | null | undefined)[] {
    throw new KilnError(`${this.name}.backward: a Function subclass must define static backward(ctx, ...gradOutputs)`);
  }

  static apply(...args: any[]): any {
    const name = this.name || 'Function';
    const grad = isGradEnabled();
    const needs = args.map((a) => grad && a instanceof Tensor && a.requiresGrad);
    const ctx = new FunctionCtx(name, needs);
    const result = noGrad(() => this.forward(ctx, ...args));
    const single = result instanceof Tensor;
    const outs = single ? [result] : result;
    check(Array.isArray(outs) && outs.every((o) => o instanceof Tensor),
      () => `${name}.forward: expected a Tensor or an array of tensors, got ${typeof result}`);
    if (!needs.some(Boolean)) return result;
    // int32 outputs (indices) are non-differentiable without being marked, as in PyTorch
    const fixed = (o: Tensor) => ctx._nonDifferentiable.has(o) || !isFloating(o.dtype);
    // outputs are new objects, so an input returned as is, or a tensor made outside, keeps its own history
    const wrapped = outs.map((o) => (fixed(o) ? o : o._alias(false)));
    const diffIndex = outs.map((o, j) => (fixed(o) ? -1 : j)).filter((j) => j >= 0);
    const inputs = args.filter((a): a is Tensor => a instanceof Tensor);
    const argIndex = args.map((a, i) => (a instanceof Tensor ? i : -1)).filter((i) => i >= 0);
    const cls = this;
    const shapes = outs.map((o) => [...o.shape]);
    const device = outs[0]?.device ?? inputs[0].device;
    recordMulti(diffIndex.map((j) => wrapped[j]), 'function', inputs, {
      name,
      backward: (dys: (Tensor | undefined)[]) => {
        // a gradient for every output of forward, zeros for the non-differentiable ones
        const gradOutputs = shapes.map((shape, j) => dys[diffIndex.indexOf(j)] ?? zeros(shape, { device }));
        return runBackward(cls, ctx, name, args, argIndex, inputs, gradOutputs);
      },
      onRelease: () => ctx._release(),
    }, { materialize: true });
    return single ? wrapped[0] : wrapped;
  }
}

function runBackward(cls: typeof Function, ctx: FunctionCtx, name: string, args: unknown[], argIndex: number[], inputs: Tensor[],
  gradOutputs: Tensor[]): (Tensor | null)[] {
  const r = cls.backward(ctx, ...gradOutputs);
  const grads = Array.isArray(r) ? r : [r];
  check(grads.length === args.length,
    () => `${name}.backward: returned ${grads.length} gradient(s), expected ${args.length} (one per argument of forward, null for the others)`);
  grads.forEach((g, i) => check(g === null || g === undefined || argIndex.includes(i),
    () => `${name}.backward: gradient ${i} is for an argument that is not a tensor; return null there`));
  return argIndex.map((i, k) => {
    const g = grads[i];
    if (g === null || g === undefined) return null;
    check(g instanceof Tensor, () => `${name}.backward: gradient ${i} is not a Tensor`);
    const x = inputs[k];
    check(g.shape.length === x.shape.length && g.shape.every((d, j) => d === x.shape[j]),
      () => `${name}.backward: gradient ${i} has shape ${shapeStr(g.shape)}, expected ${shapeStr(x.shape)} (the shape of argument ${i})`);
    // a new object: the engine frees the gradients it is given, and backward may return a tensor it keeps
    return g._alias();
  });
}
