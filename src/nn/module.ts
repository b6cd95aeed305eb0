/**
 * Module: the base of every layer. Registration is automatic: any own field holding a Parameter
 * (see parameter.ts) or a Module is found by walking the fields in insertion order, so
 * `this.fc1 = new Linear(...)` in a constructor is enough. Buffers (saved, not trained state)
 * need registerBuffer, since a plain tensor field is not state. registerParameter and
 * registerModule exist for names made at run time (`weight_ih_l${l}`). Names follow PyTorch:
 * 'fc1.weight', '0.bias'.
 */
import { checkOptions } from '../options.js';
import type { Device, DeviceLike } from '../device.js';
import { parseDevice } from '../device.js';
import { KilnError, check, shapeStr } from '../errors.js';
import { noGrad } from '../autograd/engine.js';
import { keep } from '../memory.js';
import { Tensor } from '../tensor.js';
import { type FullBackwardHook, type ForwardHook, type ForwardPreHook, addHook } from './hooks.js';
import type { RemovableHandle } from '../autograd/hooks.js';
import { isParameter, markParameter } from './parameter.js';

export abstract class Module {
  training = true;
  private readonly _buffers = new Set<string>();
  private readonly _nonPersistent = new Set<string>();

  abstract forward(...args: any[]): any;

  /** Registers a (persistent by default) buffer: state that is saved but not trained. */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    (this as any)[name] = tensor === null ? null : keep(tensor);
    this._buffers.add(name);
    if (!persistent) this._nonPersistent.add(name);
  }

  /** Sets a field to a parameter (marking the tensor) or to null (an absent one, like a bias). */
  registerParameter(name: string, tensor: Tensor | null): void {
    (this as any)[name] = tensor === null ? null : isParameter(tensor) ? tensor : markParameter(tensor);
  }
  registerModule(name: string, module: Module | null): void {
    check(module === null || module instanceof Module, () => `${name}: expected an nn.Module`);
    (this as any)[name] = module;
  }

  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) out.push([k, v]);
    return out;
  }
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Own parameters (fields holding a Parameter), then the children's, de-duplicated. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [k, v] of Object.entries(m)) {
        if (v instanceof Tensor && isParameter(v) && !seen.has(v)) {
          seen.add(v);
          out.push([mp ? `${mp}.${k}` : k, v]);
        }
      }
    }
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedBuffers(prefix = '', persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const name of m._buffers) {
        if (persistentOnly && m._nonPersistent.has(name)) continue;
        const v = (m as any)[name];
        if (v instanceof Tensor) out.push([mp ? `${mp}.${name}` : name, v]);
      }
    }
    return out;
  }
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of all parameters (disposing them). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Moves parameters (with their .grad) and buffers to a device in place: the same Tensor
   * objects get new storage, so an optimizer built before `to()` keeps working. A float dtype
   * ('float32', 'bfloat16'; as PyTorch's module.to(dtype)) converts the floating-point
   * parameters and buffers (and their .grad) instead; int32 and bool buffers keep their dtype.
   */
  to(device: DeviceLike | 'float32' | 'bfloat16'): this {
    if (device === 'float32' || device === 'bfloat16') return this.castFloating(device);
    check(device !== ('float64' as unknown) && device !== ('int32' as unknown) && device !== ('bool' as unknown),
      () => `to: a module converts to 'float32' or 'bfloat16' (parameters are float32 or bfloat16), got '${String(device)}'`);
    const d: Device = parseDevice(device);
    // a tensor shared by several modules (tied weights) moves once and stays shared
    const moved = new Set<Tensor>();
    for (const m of this.modules()) {
      for (const v of Object.values(m)) {
        if (!(v instanceof Tensor) || moved.has(v)) continue;
        moved.add(v);
        v._moveTo(d);
      }
    }
    return this;
  }


  /** Same as to('bfloat16'): floating-point parameters and buffers stored in 2 bytes (CPU only). */
  bfloat16(): this {
    return this.to('bfloat16');
  }
  /** Same as to('float32'). */
  float(): this {
    return this.to('float32');
  }

  private castFloating(dtype: 'float32' | 'bfloat16'): this {
    const done = new Set<Tensor>();
    for (const m of this.modules()) {
      for (const v of Object.values(m)) {
        if (!(v instanceof Tensor) || done.has(v)) continue;
        done.add(v);
        if (v.dtype === 'float32' || v.dtype === 'bfloat16') v._castInPlace(dtype);
      }
    }
    return this;
  }

  /**
   * Parameters and persistent buffers by dotted name, in PyTorch's order (each module's own
   * parameters, then its buffers, then its children's) and, as PyTorch, a tied tensor under every
   * name it has. Values are detached views sharing storage with the module.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of this.stateEntries()) out[k] = t.detach();
    return out;
  }

  private stateEntries(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mp, m] of this.namedModules()) {
      const name = (k: string) => (mp ? `${mp}.${k}` : k);
      for (const [k, v] of Object.entries(m)) if (v instanceof Tensor && isParameter(v)) out.push([name(k), v]);
      for (const k of m._buffers) {
        const v = (m as any)[k];
        if (!m._nonPersistent.has(k) && v instanceof Tensor) out.push([name(k), v]);
      }
    }
    return out;
  }

  /**
   * Copies values from dict. strict: missing, unexpected and mis-shaped keys are all listed in one
   * KilnError and nothing is changed; non-strict: loads what matches, returns what did not.
   */
  loadStateDict(dict: Record<string, Tensor>, opts: { strict?: boolean } = {}): { missingKeys: string[]; unexpectedKeys: string[] } {
    checkOptions(opts, ['strict'], 'loadStateDict');
    const strict = opts.strict ?? true;
    check(dict !== null && typeof dict === 'object', 'stateDict: expected an object of tensors');
    const own = new Map<string, Tensor>(this.stateEntries());
    const missingKeys = [...own.keys()].filter((k) => !(k in dict));
    const unexpectedKeys = Object.keys(dict).filter((k) => !own.has(k));
    const misShaped: string[] = [];
    for (const [k, t] of own) {
      const v = dict[k];
      if (v === undefined) continue;
      if (!(v instanceof Tensor)) misShaped.push(`${k}: expected a Tensor`);
      else if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
        misShaped.push(`${k}: expected shape ${shapeStr(t.shape)}, got ${shapeStr(v.shape)}`);
      }
    }
    if (misShaped.length > 0 || (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))) {
      const parts: string[] = [];
      if (strict && missingKeys.length) parts.push(`missing keys: ${missingKeys.join(', ')}`);
      if (strict && unexpectedKeys.length) parts.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
      if (misShaped.length) parts.push(`mis-shaped: ${misShaped.join('; ')}`);
      throw new KilnError(`loadStateDict: ${parts.join('; ')}`);
    }
    noGrad(() => {
      for (const [k, t] of own) if (dict[k] !== undefined) t.copy_(dict[k]);
    });
    return { missingKeys, unexpectedKeys };
  }

  /** hook(module, args) runs before forward; it may return replacement args (an array, or one value). */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    return addHook(this, 'pre', hook);
  }

  /** hook(module, args, output) runs after forward; it may return a replacement output. */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    return addHook(this, 'forward', hook);
  }

  /**
   * hook(module, gradInput, gradOutput) runs when the gradients with respect to the module's
   * tensor arguments are computed (null for arguments that need none); it may return
   * replacements for gradInput. gradOutput holds the gradients of the module's outputs.
   */
  registerFullBackwardHook(hook: FullBackwardHook): RemovableHandle {
    return addHook(this, 'backward', hook);
  }

  /** Number of trainable elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel, 0);
  }
}

/** The device of a module's first parameter or buffer ('cpu' when it has none). */
export function moduleDevice(m: Module): Device {
  for (const sub of m.modules()) for (const v of Object.values(sub)) if (v instanceof Tensor) return v.device;
  return 'cpu';
}
