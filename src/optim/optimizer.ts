/**
 * Optimizer: the base class of every optimizer, with PyTorch's parameter groups and state dict.
 *
 * Per-parameter state (momentum buffers, moment estimates) is created lazily on the first step,
 * often inside a user's kiln.scope(): it is keep()-ed so the scope does not free it, and every
 * later step updates it in place, as it does the parameters.
 */
import { noGrad } from '../autograd/engine.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { keep, scope } from '../memory.js';
import { full } from '../creation.js';
import { Tensor } from '../tensor.js';
import { native } from '../native.js';
import { castRaw } from '../ops/bf16.js';

/** The options every optimizer has; subclasses add their own. */
export interface BaseOptions {
  lr: number;
}

/** A parameter group as given by the user: params plus any per-group option overrides. */
export type ParamGroupInput<O> = { params: Tensor[] } & Partial<O>;

/** A parameter group as held by the optimizer (schedulers may add keys such as initialLr). */
export type ParamGroup<O> = O & { params: Tensor[]; [extra: string]: unknown };

export type StateValue = Tensor | number;
export type ParamState = Record<string, StateValue>;

export interface OptimizerStateDict {
  /** Per-parameter state, keyed by the parameter's index across all groups in order. */
  state: Record<number, ParamState>;
  /** Each group's options, with params replaced by the parameters' indices. */
  paramGroups: Record<string, unknown>[];
}

/** A closure re-evaluates the model: zeroGrad, forward, backward, and returns the loss. */
export type Closure = () => Tensor | number;

function checkNonNegative(value: unknown, name: string): void {
  check(typeof value === 'number' && Number.isFinite(value) && value >= 0,
    () => `${name}: expected a finite number >= 0, got ${String(value)}`);
}

/** Range checks for the option names shared by the optimizers (a name that a group lacks is skipped). */
export function validateCommonOptions(group: Record<string, unknown>): void {
  for (const name of ['lr', 'eps', 'weightDecay', 'momentum', 'dampening', 'alpha', 'lrDecay', 'initialAccumulatorValue']) {
    if (name in group) checkNonNegative(group[name], name);
  }
  if ('betas' in group) {
    const b = group.betas as unknown;
    check(Array.isArray(b) && b.length === 2, () => `betas: expected [beta1, beta2], got ${String(b)}`);
    b.forEach((v: unknown, i: number) =>
      check(typeof v === 'number' && Number.isFinite(v) && v >= 0 && v < 1,
        () => `betas[${i}]: expected a number in [0, 1), got ${String(v)}`));
  }
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on a parameter's first step. */
  readonly state = new Map<Tensor, ParamState>();
  /** State names that hold a tensor shaped like its parameter (checked by loadStateDict). */
  protected paramShapedState: readonly string[] = [];

  constructor(params: Tensor[] | ParamGroupInput<O>[], defaults: O) {
    check(Array.isArray(params), 'params: expected an array of tensors or of parameter groups');
    check(params.length > 0, 'params: the optimizer got an empty parameter list');
    this.defaults = { ...defaults };
    const groups: ParamGroupInput<O>[] = params[0] instanceof Tensor
      ? [{ params: params as Tensor[] } as ParamGroupInput<O>]
      : (params as ParamGroupInput<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Checks one group's options; subclasses extend it with their own rules. */
  protected validateGroup(group: ParamGroup<O>): void {
    validateCommonOptions(group as Record<string, unknown>);
  }

  /** Adds a group of parameters (options it leaves out take the optimizer's defaults). */
  addParamGroup(group: ParamGroupInput<O>): void {
    check(group !== null && typeof group === 'object' && !(group instanceof Tensor),
      'paramGroup: expected an object { params, ...options }');
    const params = group.params instanceof Tensor ? [group.params] : group.params;
    check(Array.isArray(params), 'paramGroup.params: expected an array of tensors');
    params.forEach((p, i) => {
      check(p instanceof Tensor, () => `paramGroup.params[${i}]: expected a Tensor`);
      check(p.dtype === 'float32' || p.dtype === 'bfloat16', () => `paramGroup.params[${i}]: expected a float32 or bfloat16 tensor, got ${p.dtype}`);
      check(p.isLeaf, () => `paramGroup.params[${i}]: can't optimize a non-leaf tensor`);
      check(p.isContiguous(), () => `paramGroup.params[${i}]: expected a contiguous tensor`);
    });
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    check(params.every((p) => !seen.has(p)), 'paramGroup.params: some parameters appear in more than one parameter group');
    check(new Set(params).size === params.length, 'paramGroup.params: a parameter appears twice in the group');
    const full = { ...this.defaults, ...group, params: [...params] } as ParamGroup<O>;
    this.validateGroup(full);
    this.paramGroups.push(full);
  }

  /** Sets every parameter's .grad to null, freeing the gradient tensors. */
  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** One optimization step; closure (if given) re-evaluates the loss first, and its loss is returned. */
  abstract step(closure?: Closure): Tensor | number | undefined;

  /** Runs fn without recording gradients, freeing its temporaries (state tensors are kept). */
  protected update(fn: () => void): void {
    scope(() => noGrad(fn));
  }

  /**
   * Runs a fused float32 step on p and g. A bfloat16 parameter (with its bfloat16 gradient) is
   * widened, stepped against the float32 state and rounded back in place, once per step: the
   * state stays float32 (as a master copy would not: the parameter itself is the bfloat16 value).
   */
  protected stepFloat32(p: Tensor, g: Tensor, step: (p32: Tensor, g32: Tensor) => void): void {
    if (p.dtype !== 'bfloat16' && g.dtype !== 'bfloat16') return step(p, g);
    const p32 = p.dtype === 'bfloat16' ? castRaw(p, 'float32') : p;
    const g32 = g.dtype === 'bfloat16' ? castRaw(g, 'float32') : g;
    step(p32, g32);
    if (p32 !== p) {
      native.cast(p.storage.handle, p.offset, p32.storage.handle, p32.offset, p.numel);
      p32.dispose();
    }
    if (g32 !== g) g32.dispose();
  }

  /** A tensor shaped like p, filled with value, that outlives any scope (optimizer state). */
  protected stateLike(p: Tensor, value = 0): Tensor {
    return keep(full(p.shape, value, { device: p.device }));
  }

  /** The state of p, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /** A contiguous float32 view of p.grad, or null when p has no gradient. */
  protected gradOf(p: Tensor): Tensor | null {
    const g = p.grad;
    if (g === null) return null;
    check(g.shape.length === p.shape.length && g.shape.every((d, i) => d === p.shape[i]),
      () => `grad: expected shape ${shapeStr(p.shape)} for a parameter, got ${shapeStr(g.shape)}`);
    check(g.device === p.device, () => `grad: expected device ${p.device}, got ${g.device}`);
    return g.isContiguous() ? g : g.contiguous();
  }

  private allParams(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /**
   * The optimizer's state like PyTorch's state_dict(): state tensors are the live ones (not
   * copies); save them before stepping again if a snapshot is wanted.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    this.allParams().forEach((p, i) => index.set(p, i));
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) state[index.get(p)!] = { ...s };
    const paramGroups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(g)) if (k !== 'params') packed[k] = Array.isArray(v) ? [...v] : v;
      packed.params = g.params.map((p) => index.get(p)!);
      return packed;
    });
    return { state, paramGroups };
  }

  /** Loads a stateDict() (its tensors are copied), checking that groups and shapes match. */
  loadStateDict(sd: OptimizerStateDict): void {
    check(sd !== null && typeof sd === 'object' && typeof sd.state === 'object' && Array.isArray(sd.paramGroups),
      'stateDict: expected { state, paramGroups }');
    check(sd.paramGroups.length === this.paramGroups.length,
      () => `stateDict.paramGroups: has ${sd.paramGroups.length} groups, the optimizer has ${this.paramGroups.length}`);
    const params = this.allParams();
    const savedIds: number[] = [];
    sd.paramGroups.forEach((g, i) => {
      const ids = g.params;
      check(Array.isArray(ids), () => `stateDict.paramGroups[${i}].params: expected an array of indices`);
      check(ids.length === this.paramGroups[i].params.length,
        () => `stateDict.paramGroups[${i}].params: has ${ids.length} parameters, the optimizer's group has ${this.paramGroups[i].params.length}`);
      savedIds.push(...(ids as number[]));
    });
    const byId = new Map<number, Tensor>();
    savedIds.forEach((id, i) => byId.set(id, params[i]));
    const loaded = new Map<Tensor, ParamState>();
    for (const [key, s] of Object.entries(sd.state)) {
      const p = byId.get(Number(key));
      if (!p) throw new KilnError(`stateDict.state: parameter index ${key} is in no parameter group`);
      loaded.set(p, this.checkLoadedState(p, Number(key), s));
    }
    const newGroups = sd.paramGroups.map((g, i) => {
      const full = { ...g, params: this.paramGroups[i].params } as ParamGroup<O>;
      for (const [k, v] of Object.entries(full)) if (Array.isArray(v) && k !== 'params') (full as Record<string, unknown>)[k] = [...v];
      this.validateGroup(full);
      return full;
    });
    // All checks passed. Copy first (the dict may hold this optimizer's own tensors), then
    // replace state and groups; the scope frees the detached views and device moves.
    const copies = new Map<Tensor, ParamState>();
    scope(() => noGrad(() => {
      for (const [p, s] of loaded) {
        const c: ParamState = {};
        for (const [k, v] of Object.entries(s)) c[k] = v instanceof Tensor ? keep(v.detach().to(p.device).clone()) : v;
        copies.set(p, c);
      }
    }));
    this.disposeState();
    for (const [p, c] of copies) this.state.set(p, c);
    newGroups.forEach((g, i) => { this.paramGroups[i] = g; });
  }

  private checkLoadedState(p: Tensor, id: number, s: ParamState): ParamState {
    check(s !== null && typeof s === 'object', () => `stateDict.state[${id}]: expected an object`);
    for (const [k, v] of Object.entries(s)) {
      const what = `stateDict.state[${id}].${k}`;
      check(v instanceof Tensor || typeof v === 'number', () => `${what}: expected a Tensor or a number`);
      if (v instanceof Tensor) {
        check(!v.isDisposed, () => `${what}: tensor has been disposed`);
        check(v.dtype === 'float32', () => `${what}: expected float32, got ${v.dtype}`);
        if (this.paramShapedState.includes(k)) {
          check(v.shape.length === p.shape.length && v.shape.every((d, i) => d === p.shape[i]),
            () => `${what}: expected shape ${shapeStr(p.shape)} (the parameter's), got ${shapeStr(v.shape)}`);
        }
      }
    }
    return s;
  }

  /** Frees every state tensor (the optimizer starts afresh on its next step). */
  disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }
}
