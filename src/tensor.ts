/**
 * Tensor: a strided view (shape, strides, offset) of a native Storage, plus autograd state.
 * The math lives in src/ops; the methods here forward to it so user code reads like PyTorch.
 */
import { type BackwardOptions, backward as runBackward } from './autograd/backward.js';
import { type GradNode, type TensorHook, record } from './autograd/engine.js';
import { RemovableHandle } from './autograd/hooks.js';
import { type Device, type DeviceLike, parseDevice } from './device.js';
import { type DType, allocTyped, bf16BitsToFloat, isFloating } from './dtype.js';
import { KilnError, check } from './errors.js';
import { full } from './creation.js';
import { Storage, keep, registerTensorClass, track, untrack } from './memory.js';
import { BinaryOp, UnaryOp, native } from './native.js';
import * as ew from './ops/elementwise.js';
import * as idx from './ops/indexing.js';
import { bumpVersion, copyOf, inPlaceRecorded, overlaps, readableBeside, recordedInPlace } from './ops/inplace.js';
import * as mm from './ops/matmul.js';
import { matmul } from './ops/matmul.js';
import * as lay from './ops/layout.js';
import * as scan from './ops/scan.js';
import * as nnops from './ops/nn.js';
import * as red from './ops/reduce.js';
import * as shp from './ops/shape.js';
import { broadcastShapes, broadcastStrides, checkSameDevice, contiguous, disposeTemp, empty } from './ops/util.js';

type Nested = number | boolean | Nested[];
type Operand = Tensor | number;

/** Tensors made while a backward rule runs (autograd/backward.ts frees its temporaries with this). */
let made: Tensor[] | null = null;

/** @internal Starts listing the tensors made from now on; returns the previous list (to restore). */
export function collectMade(list: Tensor[] | null): Tensor[] | null {
  const prev = made;
  made = list;
  return prev;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly storage: Storage;
  /** The gradient accumulated by backward() (leaves, and tensors that called retainGrad()). */
  grad: Tensor | null = null;
  private _requiresGrad = false;
  private _gradFn: GradNode | null = null;
  private _disposed = false;
  /** @internal which output of gradFn this tensor is */ _outputNr = 0;
  /** @internal the storage version when this tensor's history was last made current (engine.ts checkFresh) */ _version: number;
  /** @internal the tensor this one is a view of (views of views point to the first), or null */ _base: Tensor | null = null;
  /** @internal a leaf's hooks: on its gradient (pre), after its .grad is updated (post) */
  _leafHooks: { pre: TensorHook[]; post: ((t: Tensor) => void)[] } | null = null;
  /** @internal the scope that will free this tensor (memory.ts) */ _scope: any = null;

  /** @internal Tensors are made by the creation functions and ops, not by `new`. */
  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this._version = storage.version;
    track(this);
    if (made !== null) made.push(this);
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): Device {
    return this.storage.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  size(dim?: number): number | number[] {
    return dim === undefined ? [...this.shape] : this.shape[normDimPublic(dim, this.ndim)];
  }
  get isDisposed(): boolean {
    return this._disposed;
  }
  get gradFn(): GradNode | null {
    return this._gradFn;
  }
  get isLeaf(): boolean {
    return this._gradFn === null;
  }
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }
  set requiresGrad(value: boolean) {
    check(typeof value === 'boolean', 'requiresGrad: expected a boolean');
    check(this.isLeaf || value, 'requiresGrad: can only be turned off on a leaf tensor (use detach())');
    check(!value || isFloating(this.dtype), () => `requiresGrad: only float32, float64 and bfloat16 tensors can require gradients, this one is ${this.dtype}`);
    this._requiresGrad = value;
  }
  /** In place, returns this (PyTorch's requires_grad_). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** Keep .grad for this non-leaf tensor during backward (a leaf keeps it anyway). */
  retainGrad(): this {
    check(this.requiresGrad, 'retainGrad: tensor does not require grad');
    const node = this._gradFn;
    if (node !== null) (node.watch ??= { hooks: [], retains: [] }).retains[this._outputNr] = this;
    return this;
  }
  /** @internal set by autograd when an op records this tensor's history */
  _setGrad(requiresGrad: boolean, node: GradNode | null, outputNr = 0): void {
    this._requiresGrad = requiresGrad;
    this._gradFn = node;
    this._outputNr = outputNr;
  }
  /** @internal after a recorded in-place op: this tensor now stands for y in the graph */
  _rebase(y: Tensor): void {
    const old = this._gradFn;
    const retained = old?.watch?.retains[this._outputNr] === this;
    this._setGrad(true, y._gradFn, y._outputNr);
    this._version = this.storage.version;
    if (retained) this.retainGrad();
  }
  /** @internal another object for the same elements and (with history) the same place in the graph */
  _alias(withHistory = true): Tensor {
    const t = new Tensor(this.storage, this.shape, this.strides, this.offset);
    t._version = this._version;
    t._base = this._base;
    if (withHistory) t._setGrad(this._requiresGrad, this._gradFn, this._outputNr);
    return t;
  }

  /**
   * Calls hook(grad) each time a gradient with respect to this tensor is computed; a returned
   * tensor replaces the gradient. The argument lives until backward ends (keep() a clone to hold it).
   */
  registerHook(hook: TensorHook): RemovableHandle {
    check(typeof hook === 'function', 'hook: expected a function');
    check(this.requiresGrad, 'registerHook: cannot register a hook on a tensor that does not require grad');
    let list: TensorHook[];
    const node = this._gradFn;
    if (node === null) list = (this._leafHooks ??= { pre: [], post: [] }).pre;
    else list = ((node.watch ??= { hooks: [], retains: [] }).hooks[this._outputNr] ??= []);
    list.push(hook);
    return new RemovableHandle(list, hook);
  }

  /**
   * Calls hook(this) once this leaf's .grad holds its final value for the current backward (e.g.
   * to start a gradient all-reduce while backward continues on the rest of the graph).
   */
  registerPostAccumulateGradHook(hook: (t: Tensor) => void): RemovableHandle {
    check(typeof hook === 'function', 'hook: expected a function');
    check(this.isLeaf && this.requiresGrad, 'registerPostAccumulateGradHook: expected a leaf tensor that requires grad');
    const list = (this._leafHooks ??= { pre: [], post: [] }).post;
    list.push(hook);
    return new RemovableHandle(list, hook);
  }

  isContiguous(): boolean {
    let expect = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] === 0) return true;
      if (this.shape[i] !== 1 && this.strides[i] !== expect) return false;
      expect *= this.shape[i];
    }
    return true;
  }

  // ---- memory ----

  /** Frees this tensor now. Views share storage: it is released with its last tensor. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    untrack(this);
    this._gradFn = null;
  }

  /** @internal */ _checkAlive(what = 'tensor'): void {
    if (this._disposed || this.storage.released) throw new KilnError(`${what}: tensor has been disposed`);
  }

  // ---- data access (these wait for the device) ----

  /** The values, row-major: a Float32Array (float32, bfloat16), Int32Array or Float64Array. */
  toTypedArray(): Float32Array | Int32Array | Float64Array {
    this._checkAlive();
    const n = this.numel;
    // bool reads as int32 0/1 (its storage); toArray() gives booleans
    const out = allocTyped(this.dtype, n);
    if (n === 0) return out;
    const c = contiguous(this);
    if (this.dtype === 'bfloat16') {
      // the raw 2-byte values, widened exactly on the host
      const bits = new Uint16Array(n);
      native.read(c.storage.handle, c.offset, bits);
      bf16BitsToFloat(bits, out as Float32Array);
    } else {
      native.read(c.storage.handle, c.offset, out);
    }
    disposeTemp(c, this);
    return out;
  }

  toArray(): Nested {
    const raw = this.toTypedArray();
    const flat: ArrayLike<number | boolean> = this.dtype === 'bool' ? Array.from(raw, (v) => v !== 0) : raw;
    if (this.ndim === 0) return flat[0];
    const build = (dim: number, base: number): Nested[] => {
      const n = this.shape[dim];
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out: Nested[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = dim === this.ndim - 1 ? flat[base + i] : build(dim + 1, base + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor (a bool tensor gives 0 or 1). */
  item(): number {
    check(this.numel === 1, () => `item: expected a tensor with one element, got shape [${this.shape.join(', ')}]`);
    return this.toTypedArray()[0];
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- autograd ----

  /**
   * Accumulates the gradient of this tensor into .grad of the leaves: backward(),
   * backward(gradient), backward({ gradient, retainGraph, createGraph, inputs }) or
   * backward(gradient, { ... }).
   */
  backward(gradient?: Tensor | BackwardOptions, options: BackwardOptions = {}): void {
    this._checkAlive();
    if (gradient !== undefined && !(gradient instanceof Tensor)) {
      check(gradient !== null && typeof gradient === 'object', 'gradient: expected a Tensor or an options object');
      options = gradient;
      gradient = options.gradient;
    }
    runBackward([this], [gradient], options);
  }

  /** A view sharing storage, cut from the graph. */
  detach(): Tensor {
    return shp.detach(this);
  }

  /** @internal ones with this tensor's shape (the implicit gradient of a scalar). */
  _onesLike(): Tensor {
    const t = empty(this.shape, isFloating(this.dtype) ? this.dtype : 'float32', this.device);
    native.fill(t.storage.handle, 0, t.numel, 1);
    return t;
  }

  // ---- in-place updates (ops/inplace.ts: raw, or recorded when they touch the graph) ----

  /** this = this op other (broadcast to this tensor's shape), without recording. */
  private _binaryInPlace(op: keyof typeof BinaryOp, other: Tensor, what: string): this {
    check(other instanceof Tensor, () => `other: expected a Tensor or a number in ${what}`);
    check(this.dtype !== 'bool', () => `${what}: arithmetic in place on a bool tensor is not supported (convert with int() or float())`);
    checkSameDevice(this, other, what);
    const shape = broadcastShapes(this.shape, other.shape, what);
    check(shape.length === this.ndim && shape.every((d, i) => d === this.shape[i]),
      () => `${what}: cannot broadcast [${other.shape.join(', ')}] into [${this.shape.join(', ')}]`);
    if (this.dtype === 'bfloat16') return this._bf16InPlace((w) => ew.binaryRaw(op, w, other));
    const cast = other.dtype === this.dtype ? other : shp.castTo(other, this.dtype);
    const o = readableBeside(this, cast, broadcastStrides(cast, shape));
    native.binary(BinaryOp[op], this.storage.handle, this.offset, this.storage.handle, this.offset, o.storage.handle, o.offset,
      [...shape], broadcastStrides(this, shape), broadcastStrides(o, shape));
    if (o !== cast) o.dispose();
    if (cast !== other) cast.dispose();
    bumpVersion(this);
    return this;
  }

  /** this = this op scalar through the unary kernel (exact aliasing), without recording. */
  private _scalarInPlace(op: 'addScalar' | 'mulScalar', value: number): this {
    check(isFloating(this.dtype), () => `${op === 'addScalar' ? 'add_' : 'mul_'}: expected a float32, float64 or bfloat16 tensor, got ${this.dtype}`);
    if (this.dtype === 'bfloat16') return this._bf16InPlace((w) => ew.unaryRaw(w, op, value));
    native.unary(UnaryOp[op], this.storage.handle, this.offset, this.storage.handle, this.offset, this.numel, value, 0);
    bumpVersion(this);
    return this;
  }

  /**
   * this (bfloat16) = bf16(f(this widened to float32)), without recording: in-place arithmetic
   * on bfloat16 computes in float32 and rounds once, as the out-of-place ops do.
   */
  private _bf16InPlace(f: (wide: Tensor) => Tensor): this {
    const view = this.detach();
    const wide = shp.castTo(view, 'float32');
    const r = f(wide);
    const y = contiguous(r);
    native.cast(this.storage.handle, this.offset, y.storage.handle, y.offset, this.numel);
    for (const t of new Set([view, wide, r, y])) t.dispose();
    bumpVersion(this);
    return this;
  }

  /** @internal gradient accumulation */
  _addInPlace(other: Tensor): this {
    this._checkAlive('grad accumulation');
    return this._binaryInPlace('add', other, 'grad accumulation');
  }

  add_(other: Operand, alpha = 1): this {
    const t = other instanceof Tensor ? other : null;
    if (inPlaceRecorded(this, 'add_', t)) {
      recordedInPlace(this, 'add_', (old) => old.add(other, alpha));
      return this;
    }
    if (typeof other === 'number' && this.dtype === 'int32') {
      const k = full([], other * alpha, { dtype: 'int32', device: this.device });
      this._binaryInPlace('add', k, 'add_');
      k.dispose();
      return this;
    }
    if (typeof other === 'number') return this._scalarInPlace('addScalar', other * alpha);
    if (alpha !== 1) {
      check(other instanceof Tensor, 'other: expected a Tensor or a number in add_');
      const scaled = other.detach().mul(alpha);
      this._binaryInPlace('add', scaled, 'add_');
      scaled.dispose();
      return this;
    }
    return this._binaryInPlace('add', other, 'add_');
  }
  sub_(other: Operand, alpha = 1): this {
    return typeof other === 'number' ? this.add_(-other * alpha) : this.add_(other, -alpha);
  }
  mul_(other: Operand): this {
    if (inPlaceRecorded(this, 'mul_', other instanceof Tensor ? other : null)) {
      recordedInPlace(this, 'mul_', (old) => old.mul(other));
      return this;
    }
    if (typeof other === 'number') return this._scalarInPlace('mulScalar', other);
    return this._binaryInPlace('mul', other, 'mul_');
  }
  div_(other: Operand): this {
    if (typeof other === 'number') return this.mul_(1 / other);
    if (inPlaceRecorded(this, 'div_', other)) {
      recordedInPlace(this, 'div_', (old) => old.div(other));
      return this;
    }
    return this._binaryInPlace('div', other, 'div_');
  }
  fill_(value: number): this {
    if (inPlaceRecorded(this, 'fill_')) {
      // the old values get a zero gradient, as PyTorch's fill_ on a tensor in a graph
      recordedInPlace(this, 'fill_', (old) => old.mul(0).add(value));
      return this;
    }
    native.fill(this.storage.handle, this.offset, this.numel, this.dtype === 'bool' ? Number(value !== 0) : value);
    bumpVersion(this);
    return this;
  }
  zero_(): this {
    return this.fill_(0);
  }
  /** Copies src (same shape, any device or dtype) into this tensor. */
  copy_(src: Tensor): this {
    check(src instanceof Tensor, 'src: expected a Tensor');
    check(src.shape.length === this.shape.length && src.shape.every((d, i) => d === this.shape[i]),
      () => `src: expected shape [${this.shape.join(', ')}], got [${src.shape.join(', ')}]`);
    if (inPlaceRecorded(this, 'copy_', src)) {
      recordedInPlace(this, 'copy_', (old) => old.mul(0).add(src.to(this.device).to(this.dtype)));
      return this;
    }
    const s = src.dtype === this.dtype ? src : shp.castTo(src, this.dtype);
    let c: Tensor;
    if (overlaps(this, s)) {
      if (s.offset === this.offset && s.isContiguous()) return this; // copying onto itself
      c = copyOf(s);
    } else {
      c = contiguous(s);
    }
    native.copy(this.storage.handle, this.offset, c.storage.handle, c.offset, this.numel);
    if (c !== s) c.dispose();
    if (s !== src) s.dispose();
    bumpVersion(this);
    return this;
  }

  // ---- devices and dtypes ----

  /**
   * A copy on another device, or with another dtype ('float32' | 'float64' | 'bfloat16' | 'int32' | 'bool'); this
   * when nothing changes. Device copies and float casts are recorded: the gradient goes back to
   * this tensor's device and dtype.
   */
  to(target: DeviceLike | DType): Tensor {
    if (target === 'float32' || target === 'int32' || target === 'float64' || target === 'bool' || target === 'bfloat16') {
      return this.dtype === target ? this : shp.castTo(this, target);
    }
    const device = parseDevice(target);
    if (device === this.device) return this;
    const c = contiguous(this);
    const out = new Tensor(Storage.allocate(device, this.dtype, this.numel), [...this.shape], contiguousStridesOf(this.shape), 0);
    native.copy(out.storage.handle, 0, c.storage.handle, c.offset, this.numel);
    disposeTemp(c, this);
    return record(out, 'toDevice', [this]);
  }

  /**
   * @internal Moves this tensor's values to `device` in place (the same object, a new storage):
   * module.to() keeps its Parameter objects, so an optimizer built before stays valid.
   */
  _moveTo(device: Device): void {
    this._checkAlive('to');
    if (device === this.device) return;
    const moved = noGradCopy(this, device);
    this._replaceStorage(moved);
    moved.dispose();
    this.grad?._moveTo(device);
  }

  /**
   * @internal Converts this tensor's values to another float dtype in place (the same object, a
   * new storage), its .grad too: module.to(dtype) keeps its Parameter objects.
   */
  _castInPlace(dtype: DType): void {
    this._checkAlive('to');
    if (dtype === this.dtype) return;
    const view = this.detach();
    const c = shp.castTo(view, dtype);
    view.dispose();
    this._replaceStorage(c);
    c.dispose();
    this.grad?._castInPlace(dtype);
  }

  /**
   * @internal Makes this tensor a contiguous view of src's storage, keeping its place in memory
   * tracking (kept, or in the scope that will free it). Other views of the old storage keep it.
   */
  _replaceStorage(src: Tensor): void {
    check(src.isContiguous(), '_replaceStorage: expected a contiguous source');
    const frame = this._scope;
    const oldVersion = this.storage.version;
    untrack(this);
    const self = this as { -readonly [K in 'storage' | 'shape' | 'strides' | 'offset']: Tensor[K] };
    self.storage = src.storage;
    self.shape = [...src.shape];
    self.strides = contiguousStridesOf(src.shape);
    self.offset = src.offset;
    track(this);
    keep(this);
    if (frame !== null) {
      frame.tensors.add(this);
      this._scope = frame;
    }
    // a graph that saved the old values must not read the new storage as if unchanged
    this.storage.version = Math.max(this.storage.version, oldVersion) + 1;
    this._version = this.storage.version;
  }
  cpu(): Tensor {
    return this.to('cpu');
  }
  cuda(index = 0): Tensor {
    return this.to(`cuda:${index}`);
  }
  float(): Tensor {
    return this.to('float32');
  }
  int(): Tensor {
    return this.to('int32');
  }
  double(): Tensor {
    return this.to('float64');
  }

  bool(): Tensor {
    return this.to('bool');
  }
  /** A bfloat16 copy (2-byte storage, rounded to nearest, ties to even; CPU only). */
  bfloat16(): Tensor {
    return this.to('bfloat16');
  }

  // ---- elementwise ----

  add(other: Operand, alpha = 1): Tensor { return ew.add(this, other, alpha); }
  sub(other: Operand, alpha = 1): Tensor { return ew.sub(this, other, alpha); }
  /** other - this */
  rsub(other: number): Tensor { return ew.rsub(this, other); }
  mul(other: Operand): Tensor { return ew.mul(this, other); }
  div(other: Operand): Tensor { return ew.div(this, other); }
  pow(exponent: Operand): Tensor { return ew.pow(this, exponent); }
  maximum(other: Operand): Tensor { return ew.maximum(this, other); }
  minimum(other: Operand): Tensor { return ew.minimum(this, other); }
  neg(): Tensor { return ew.neg(this); }
  exp(): Tensor { return ew.exp(this); }
  log(): Tensor { return ew.log(this); }
  sqrt(): Tensor { return ew.sqrt(this); }
  rsqrt(): Tensor { return ew.rsqrt(this); }
  abs(): Tensor { return ew.abs(this); }
  sign(): Tensor { return ew.sign(this); }
  square(): Tensor { return ew.square(this); }
  reciprocal(): Tensor { return ew.reciprocal(this); }
  sin(): Tensor { return ew.sin(this); }
  cos(): Tensor { return ew.cos(this); }
  relu(): Tensor { return ew.relu(this); }
  sigmoid(): Tensor { return ew.sigmoid(this); }
  tanh(): Tensor { return ew.tanh(this); }
  gelu(): Tensor { return ew.gelu(this); }
  leakyRelu(negativeSlope = 0.01): Tensor { return ew.leakyRelu(this, negativeSlope); }
  clamp(min?: number | null, max?: number | null): Tensor { return ew.clamp(this, min, max); }
  eq(other: Operand): Tensor { return ew.eq(this, other); }
  ne(other: Operand): Tensor { return ew.ne(this, other); }
  gt(other: Operand): Tensor { return ew.gt(this, other); }
  ge(other: Operand): Tensor { return ew.ge(this, other); }
  lt(other: Operand): Tensor { return ew.lt(this, other); }
  le(other: Operand): Tensor { return ew.le(this, other); }

  // ---- reductions ----

  sum(dim?: number | number[], keepdim = false): Tensor { return red.sum(this, dim, keepdim); }
  mean(dim?: number | number[], keepdim = false): Tensor { return red.mean(this, dim, keepdim); }
  max(dim?: number, keepdim = false): Tensor { return red.max(this, dim, keepdim); }
  min(dim?: number, keepdim = false): Tensor { return red.min(this, dim, keepdim); }
  argmax(dim?: number, keepdim = false): Tensor { return red.argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return red.argmin(this, dim, keepdim); }
  var(dim?: number | number[] | null, opts?: red.VarOptions): Tensor { return red.variance(this, dim, opts); }
  std(dim?: number | number[] | null, opts?: red.VarOptions): Tensor { return red.std(this, dim, opts); }
  norm(p: number | 'fro' = 2, dim?: number | number[] | null, keepdim = false): Tensor { return red.norm(this, p, dim, keepdim); }
  cumsum(dim: number): Tensor { return scan.cumsum(this, dim); }
  cumprod(dim: number): Tensor { return scan.cumprod(this, dim); }
  logcumsumexp(dim: number): Tensor { return scan.logcumsumexp(this, dim); }
  /** { values, indices } sorted along dim (stable). */
  sort(dim = -1, descending = false): scan.SortResult { return scan.sort(this, dim, descending); }
  argsort(dim = -1, descending = false): Tensor { return scan.argsort(this, dim, descending); }
  /** { values, indices } of the k largest (or smallest) along dim. */
  topk(k: number, dim = -1, largest = true): scan.SortResult { return scan.topk(this, k, dim, largest); }
  logsumexp(dim: number, keepdim = false): Tensor { return red.logsumexp(this, dim, keepdim); }

  // ---- shape ----

  reshape(shape: readonly number[]): Tensor { return shp.reshape(this, shape); }
  view(shape: readonly number[]): Tensor { return shp.reshape(this, shape); }
  flatten(startDim = 0, endDim = -1): Tensor { return shp.flatten(this, startDim, endDim); }
  transpose(dim0: number, dim1: number): Tensor { return shp.transpose(this, dim0, dim1); }
  /** Transpose of a 2-D tensor. */
  t(): Tensor {
    check(this.ndim <= 2, () => `t: expected a tensor of at most 2 dims, got ${this.ndim}`);
    return this.ndim < 2 ? this : shp.transpose(this, 0, 1);
  }
  permute(dims: readonly number[]): Tensor { return shp.permute(this, dims); }
  expand(shape: readonly number[]): Tensor { return shp.expand(this, shape); }
  squeeze(dim?: number): Tensor { return shp.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return shp.unsqueeze(this, dim); }
  narrow(dim: number, start: number, length: number): Tensor { return shp.narrow(this, dim, start, length); }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor { return shp.slice(this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return shp.select(this, dim, index); }
  contiguous(): Tensor { return shp.makeContiguous(this); }
  clone(): Tensor { return shp.clone(this); }
  indexSelect(dim: number, index: Tensor): Tensor { return idx.indexSelect(this, dim, index); }
  split(splitSizeOrSections: number | number[], dim = 0): Tensor[] { return lay.split(this, splitSizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return lay.chunk(this, chunks, dim); }
  repeat(repeats: readonly number[]): Tensor { return lay.repeat(this, repeats); }
  roll(shifts: number | number[], dims?: number | number[]): Tensor { return lay.roll(this, shifts, dims); }
  flip(dims: number | number[]): Tensor { return lay.flip(this, dims); }
  tril(diagonal = 0): Tensor { return lay.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return lay.triu(this, diagonal); }
  maskedFill(mask: Tensor, value: number): Tensor { return lay.maskedFill(this, mask, value); }
  gather(dim: number, index: Tensor): Tensor { return idx.gather(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return idx.scatterAdd(this, dim, index, src); }

  // ---- linear algebra and nn ----

  matmul(other: Tensor): Tensor { return matmul(this, other); }
  bmm(other: Tensor): Tensor { return mm.bmm(this, other); }
  outer(other: Tensor): Tensor { return mm.outer(this, other); }
  mm(other: Tensor): Tensor {
    check(this.ndim === 2 && other.ndim === 2, 'mm: expected two 2-D tensors');
    return matmul(this, other);
  }
  softmax(dim = -1): Tensor { return nnops.softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return nnops.logSoftmax(this, dim); }
}

/** A contiguous copy of t on device, outside the graph. */
function noGradCopy(t: Tensor, device: Device): Tensor {
  const c = contiguous(t);
  const out = new Tensor(Storage.allocate(device, t.dtype, t.numel), [...t.shape], contiguousStridesOf(t.shape), 0);
  native.copy(out.storage.handle, 0, c.storage.handle, c.offset, t.numel);
  disposeTemp(c, t);
  return out;
}

registerTensorClass(Tensor);

function contiguousStridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function normDimPublic(dim: number, ndim: number): number {
  check(Number.isInteger(dim) && dim >= -ndim && dim < ndim, () => `dim: ${dim} is out of range for ${ndim} dims`);
  return dim < 0 ? dim + ndim : dim;
}
