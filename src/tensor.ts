/**
 * Tensor: a strided view (shape, strides, offset) of a native Storage, plus autograd state.
 * The math lives in src/ops; the methods here forward to it so user code reads like PyTorch.
 */
import { type BackwardOptions, type GradNode, backward as runBackward, isGradEnabled } from './autograd/engine.js';
import { type Device, type DeviceLike, parseDevice } from './device.js';
import type { DType } from './dtype.js';
import { KilnError, check } from './errors.js';
import { full } from './creation.js';
import { Storage, track, untrack } from './memory.js';
import { BinaryOp, UnaryOp, native } from './native.js';
import * as ew from './ops/elementwise.js';
import * as idx from './ops/indexing.js';
import { matmul } from './ops/matmul.js';
import * as nnops from './ops/nn.js';
import * as red from './ops/reduce.js';
import * as shp from './ops/shape.js';
import { broadcastShapes, broadcastStrides, checkSameDevice, contiguous, disposeTemp, empty } from './ops/util.js';

type Nested = number | Nested[];
type Operand = Tensor | number;

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
  /** @internal */ _retainsGrad = false;
  /** @internal the scope that will free this tensor (memory.ts) */ _scope: any = null;

  /** @internal Tensors are made by the creation functions and ops, not by `new`. */
  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    track(this);
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
    check(!value || this.dtype === 'float32', () => `requiresGrad: only float32 tensors can require gradients, this one is ${this.dtype}`);
    this._requiresGrad = value;
  }
  /** In place, returns this (PyTorch's requires_grad_). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** Keep .grad for this non-leaf tensor during backward. */
  retainGrad(): this {
    this._retainsGrad = true;
    return this;
  }
  /** @internal set by autograd when an op records this tensor's history */
  _setGrad(requiresGrad: boolean, node: GradNode | null): void {
    this._requiresGrad = requiresGrad;
    this._gradFn = node;
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

  toTypedArray(): Float32Array | Int32Array {
    this._checkAlive();
    const n = this.numel;
    const out = this.dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    if (n === 0) return out;
    const c = contiguous(this);
    native.read(c.storage.handle, c.offset, out);
    disposeTemp(c, this);
    return out;
  }

  toArray(): Nested {
    const flat = this.toTypedArray();
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

  /** The value of a one-element tensor. */
  item(): number {
    check(this.numel === 1, () => `item: expected a tensor with one element, got shape [${this.shape.join(', ')}]`);
    return this.toTypedArray()[0];
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- autograd ----

  backward(gradient?: Tensor, options?: BackwardOptions): void {
    this._checkAlive();
    runBackward(this, gradient, options);
  }

  /** A view sharing storage, cut from the graph. */
  detach(): Tensor {
    return shp.detach(this);
  }

  /** @internal ones with this tensor's shape (the implicit gradient of a scalar). */
  _onesLike(): Tensor {
    const t = empty(this.shape, 'float32', this.device);
    native.fill(t.storage.handle, 0, t.numel, 1);
    return t;
  }

  // ---- in-place updates (optimizers, initialisers; never recorded) ----

  private _checkInPlace(what: string): void {
    this._checkAlive(what);
    if (isGradEnabled() && this.requiresGrad && this.isLeaf) {
      throw new KilnError(`${what}: a leaf tensor that requires grad cannot be modified in place outside kiln.noGrad()`);
    }
    check(this.isContiguous(), () => `${what}: in-place updates need a contiguous tensor`);
  }

  /** this = this op other (broadcast to this tensor's shape). */
  private _binaryInPlace(op: keyof typeof BinaryOp, other: Tensor, what: string): this {
    this._checkInPlace(what);
    check(other instanceof Tensor, () => `other: expected a Tensor or a number in ${what}`);
    checkSameDevice(this, other, what);
    const shape = broadcastShapes(this.shape, other.shape, what);
    check(shape.length === this.ndim && shape.every((d, i) => d === this.shape[i]),
      () => `${what}: cannot broadcast [${other.shape.join(', ')}] into [${this.shape.join(', ')}]`);
    const o = other.dtype === this.dtype ? other : shp.castTo(other, this.dtype);
    native.binary(BinaryOp[op], this.storage.handle, this.offset, this.storage.handle, this.offset, o.storage.handle, o.offset,
      [...shape], broadcastStrides(this, shape), broadcastStrides(o, shape));
    if (o !== other) o.dispose();
    return this;
  }

  /** @internal gradient accumulation */
  _addInPlace(other: Tensor): this {
    return this._binaryInPlace('add', other, 'grad accumulation');
  }

  add_(other: Operand, alpha = 1): this {
    if (typeof other === 'number' && this.dtype === 'int32') {
      const k = full([], other * alpha, { dtype: 'int32', device: this.device });
      this._binaryInPlace('add', k, 'add_');
      k.dispose();
      return this;
    }
    if (typeof other === 'number') {
      this._checkInPlace('add_');
      native.unary(UnaryOp.addScalar, this.storage.handle, this.offset, this.storage.handle, this.offset, this.numel, other * alpha, 0);
      return this;
    }
    if (alpha !== 1) {
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
    if (typeof other === 'number') {
      this._checkInPlace('mul_');
      native.unary(UnaryOp.mulScalar, this.storage.handle, this.offset, this.storage.handle, this.offset, this.numel, other, 0);
      return this;
    }
    return this._binaryInPlace('mul', other, 'mul_');
  }
  div_(other: Operand): this {
    return typeof other === 'number' ? this.mul_(1 / other) : this._binaryInPlace('div', other, 'div_');
  }
  fill_(value: number): this {
    this._checkInPlace('fill_');
    native.fill(this.storage.handle, this.offset, this.numel, value);
    return this;
  }
  zero_(): this {
    return this.fill_(0);
  }
  /** Copies src (same shape, any device or dtype) into this tensor. */
  copy_(src: Tensor): this {
    this._checkInPlace('copy_');
    check(src instanceof Tensor, 'src: expected a Tensor');
    check(src.shape.length === this.shape.length && src.shape.every((d, i) => d === this.shape[i]),
      () => `src: expected shape [${this.shape.join(', ')}], got [${src.shape.join(', ')}]`);
    const s = src.dtype === this.dtype ? src : shp.castTo(src, this.dtype);
    const c = contiguous(s);
    native.copy(this.storage.handle, this.offset, c.storage.handle, c.offset, this.numel);
    if (c !== s) c.dispose();
    if (s !== src) s.dispose();
    return this;
  }

  // ---- devices and dtypes ----

  /** A copy on another device, or with another dtype ('float32' | 'int32'); this when nothing changes. */
  to(target: DeviceLike | DType): Tensor {
    if (target === 'float32' || target === 'int32') return this.dtype === target ? this : shp.castTo(this, target);
    const device = parseDevice(target);
    if (device === this.device) return this;
    const c = contiguous(this);
    const out = new Tensor(Storage.allocate(device, this.dtype, this.numel), [...this.shape], contiguousStridesOf(this.shape), 0);
    native.copy(out.storage.handle, 0, c.storage.handle, c.offset, this.numel);
    disposeTemp(c, this);
    return out;
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
  var(dim?: number | number[], opts?: { unbiased?: boolean; keepdim?: boolean }): Tensor { return red.variance(this, dim, opts); }
  std(dim?: number | number[], opts?: { unbiased?: boolean; keepdim?: boolean }): Tensor { return red.std(this, dim, opts); }
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
  gather(dim: number, index: Tensor): Tensor { return idx.gather(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return idx.scatterAdd(this, dim, index, src); }

  // ---- linear algebra and nn ----

  matmul(other: Tensor): Tensor { return matmul(this, other); }
  mm(other: Tensor): Tensor {
    check(this.ndim === 2 && other.ndim === 2, 'mm: expected two 2-D tensors');
    return matmul(this, other);
  }
  softmax(dim = -1): Tensor { return nnops.softmax(this, dim); }
  logSoftmax(dim = -1): Tensor { return nnops.logSoftmax(this, dim); }
}

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
