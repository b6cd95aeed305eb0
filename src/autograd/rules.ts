/**
 * The gradient rules, one table: for each recorded op, the gradients of its inputs given the
 * gradient dy of its output. Inputs and attributes come from the GradNode the forward recorded
 * (src/ops/*). Rules run with recording off and compose ordinary ops or call backward kernels.
 */
import { UnaryOp, type UnaryOpName, native } from '../native.js';
import { indexAddInto, scatterAddInto } from '../ops/indexing.js';
import { linearBackward } from '../ops/linear.js';
import { gruSequenceBackward, lstmSequenceBackward, rnnSequenceBackward } from '../ops/rnn.js';
import { sumTo } from '../ops/reduce.js';
import { placeRows } from '../ops/shape.js';
import { where } from '../ops/elementwise.js';
import { contiguous, disposeTemp, empty, splitAt } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import type { GradNode } from './engine.js';

type Rule = (node: GradNode, dy: Tensor) => (Tensor | null)[];

/** dx = dy * f'(x) from the native backward kernel; the output y is passed for ops that use it. */
function unaryGrad(op: UnaryOpName, x: Tensor, y: Tensor, dy: Tensor, alpha: number, beta: number): Tensor {
  switch (op) {
    case 'neg': return dy.neg();
    case 'addScalar': return dy;
    case 'mulScalar': return dy.mul(alpha);
    case 'rsubScalar': return dy.neg();
    case 'sign': return dy.mul(0);
  }
  const dyc = contiguous(dy);
  const xc = contiguous(x);
  const dx = empty(x.shape, 'float32', x.device);
  native.unaryBackward(UnaryOp[op], dx.storage.handle, 0, dyc.storage.handle, dyc.offset, xc.storage.handle, xc.offset,
    y.storage.handle, y.offset, x.numel, alpha, beta);
  disposeTemp(dyc, dy);
  disposeTemp(xc, x);
  return dx;
}

/** Zeros of `shape` with dy's rows written at start, start+step, ... along dim d. */
function placeInto(shape: readonly number[], d: number, dy: Tensor, start: number, step: number): Tensor {
  const out = empty(shape, 'float32', dy.device);
  native.fill(out.storage.handle, 0, out.numel, 0);
  placeRows(out, d, dy, start, step);
  return out;
}

/** Broadcast a reduced gradient back over the reduced dims. */
function unreduce(dy: Tensor, inShape: readonly number[], dims: number[], keepdim: boolean): Tensor {
  let g = dy;
  if (!keepdim) {
    const shape = inShape.map((d, i) => (dims.includes(i) ? 1 : d));
    g = dy.reshape(shape);
  }
  return g.expand([...inShape]);
}

export const gradRules = {
  unary: ({ inputs: [x], saved }, dy) => [unaryGrad(saved.op, x, saved.out, dy, saved.alpha, saved.beta)],

  add: ({ inputs: [a, b] }, dy) => [sumTo(dy, a.shape), sumTo(dy, b.shape)],
  sub: ({ inputs: [a, b] }, dy) => [sumTo(dy, a.shape), b.requiresGrad ? sumTo(dy.neg(), b.shape) : null],
  mul: ({ inputs: [a, b] }, dy) => [
    a.requiresGrad ? sumTo(dy.mul(b), a.shape) : null,
    b.requiresGrad ? sumTo(dy.mul(a), b.shape) : null,
  ],
  div: ({ inputs: [a, b], saved }, dy) => [
    a.requiresGrad ? sumTo(dy.div(b), a.shape) : null,
    b.requiresGrad ? sumTo(dy.mul(saved.out).div(b).neg(), b.shape) : null,
  ],
  pow: ({ inputs: [a, b], saved }, dy) => [
    a.requiresGrad ? sumTo(dy.mul(b).mul(a.pow(b.sub(1))), a.shape) : null,
    // d/db a^b = a^b log a; where a == 0 PyTorch takes 0
    b.requiresGrad ? sumTo(dy.mul(saved.out).mul(where(a.gt(0), a.log(), 0)), b.shape) : null,
  ],
  maximum: ({ inputs: [a, b] }, dy) => minMaxGrad(a, b, dy, 'gt'),
  minimum: ({ inputs: [a, b] }, dy) => minMaxGrad(a, b, dy, 'lt'),
  where: ({ inputs: [a, b], saved }, dy) => [
    a.requiresGrad ? sumTo(where(saved.cond, dy, 0), a.shape) : null,
    b.requiresGrad ? sumTo(where(saved.cond, 0, dy), b.shape) : null,
  ],

  sum: ({ inputs: [x], saved }, dy) => [unreduce(dy, x.shape, saved.dims, saved.keepdim)],
  mean: ({ inputs: [x], saved }, dy) => {
    const n = (saved.dims as number[]).reduce((p, d) => p * x.shape[d], 1);
    return [unreduce(dy.div(n), x.shape, saved.dims, saved.keepdim)];
  },
  maxmin: ({ inputs: [x], saved }, dy) => {
    const g = saved.keepdim ? dy : dy.unsqueeze(saved.dim);
    return [scatterAddInto(x.shape, saved.dim, saved.index, g)];
  },

  reshape: ({ saved }, dy) => [dy.reshape(saved.shape)],
  permute: ({ saved }, dy) => {
    const inv = new Array<number>(saved.dims.length);
    (saved.dims as number[]).forEach((d, i) => (inv[d] = i));
    return [dy.permute(inv)];
  },
  expand: ({ saved }, dy) => [sumTo(dy, saved.shape)],
  slice: ({ inputs: [x], saved }, dy) => [placeInto(x.shape, saved.dim, dy, saved.start, saved.step)],
  identity: (_node, dy) => [dy],
  cat: ({ inputs, saved }, dy) => {
    let start = 0;
    return inputs.map((t, i) => {
      const g = dy.narrow(saved.dim, start, saved.sizes[i]);
      start += saved.sizes[i];
      return t.requiresGrad ? g : null;
    });
  },

  matmul: ({ inputs: [a, b] }, dy) => [
    a.requiresGrad ? sumTo(dy.matmul(b.transpose(-1, -2)), a.shape) : null,
    b.requiresGrad ? sumTo(a.transpose(-1, -2).matmul(dy), b.shape) : null,
  ],

  linear: ({ inputs: [x, w, b] }, dy) => linearBackward(x, w, b, dy),

  indexSelect: ({ inputs: [x], saved }, dy) => [indexAddInto(x.shape, saved.dim, saved.index, dy)],
  gather: ({ inputs: [x], saved }, dy) => [scatterAddInto(x.shape, saved.dim, saved.index, dy)],
  scatterAdd: ({ inputs: [x, src], saved }, dy) => [
    x.requiresGrad ? dy : null,
    src.requiresGrad ? dy.gather(saved.dim, saved.index) : null,
  ],

  softmax: ({ saved }, dy) => {
    const y: Tensor = saved.out;
    const [outer, n, inner] = splitAt(y.shape, saved.dim);
    const dyc = contiguous(dy);
    const dx = empty(y.shape, 'float32', y.device);
    native.softmaxBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, y.storage.handle, y.offset, outer, n, inner, saved.log);
    disposeTemp(dyc, dy);
    return [dx];
  },
  rnnSequence: ({ inputs, saved }, dy) => rnnSequenceBackward(inputs, saved, dy),
  lstmSequence: ({ inputs, saved }, dy) => lstmSequenceBackward(inputs, saved, dy),
  gruSequence: ({ inputs, saved }, dy) => gruSequenceBackward(inputs, saved, dy),
  crossEntropy: ({ inputs: [logits], saved }, dy) => {
    const [B, C] = logits.shape;
    const dyc = contiguous(dy);
    const dx = empty([B, C], 'float32', logits.device);
    native.crossEntropyBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, saved.logProbs.storage.handle, 0,
      saved.target.storage.handle, saved.target.offset, B, C, saved.ignoreIndex, saved.labelSmoothing);
    disposeTemp(dyc, dy);
    return [dx];
  },
  conv2d: ({ inputs: [x, w], saved }, dy) => {
    const { col, geom } = saved;
    const [N, C, H, W] = geom.dims;
    const OC = w.shape[0];
    const K = col.shape[1];
    const L = col.shape[2];
    const dyc = contiguous(dy);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      // dcol[n] = W^T [K, OC] @ dy[n] [OC, L], then fold the taps back into the image
      const wc = contiguous(w);
      const dcol = empty([N, K, L], 'float32', x.device);
      native.gemm(true, false, K, L, OC, 1, wc.storage.handle, wc.offset, K, 0, dyc.storage.handle, dyc.offset, L, OC * L, 0,
        dcol.storage.handle, 0, L, K * L, N);
      disposeTemp(wc, w);
      dx = empty([N, C, H, W], 'float32', x.device);
      native.col2im(dx.storage.handle, 0, dcol.storage.handle, 0, geom.dims, geom.window, geom.out);
      dcol.dispose();
    }
    if (w.requiresGrad) {
      // dW = sum_n dy[n] [OC, L] @ col[n]^T [L, K]
      const per = empty([N, OC, K], 'float32', w.device);
      native.gemm(false, true, OC, K, L, 1, dyc.storage.handle, dyc.offset, L, OC * L, col.storage.handle, 0, L, K * L, 0,
        per.storage.handle, 0, K, OC * K, N);
      dw = per.sum(0).reshape(w.shape);
      per.dispose();
    }
    disposeTemp(dyc, dy);
    return [dx, dw];
  },
  col2im: ({ inputs: [cols], saved }, dy) => {
    const dyc = contiguous(dy);
    const dcols = empty(cols.shape, 'float32', cols.device);
    native.im2col(dcols.storage.handle, 0, dyc.storage.handle, dyc.offset, saved.geom.dims, saved.geom.window, saved.geom.out);
    disposeTemp(dyc, dy);
    return [dcols];
  },
  maxPool2d: ({ inputs: [x], saved }, dy) => {
    const dyc = contiguous(dy);
    const dx = empty(x.shape, 'float32', x.device);
    native.maxPool2dBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, saved.argmax.storage.handle, 0,
      saved.geom.dims, saved.geom.window, saved.geom.out);
    disposeTemp(dyc, dy);
    return [dx];
  },
  avgPool2d: ({ inputs: [x], saved }, dy) => {
    const dyc = contiguous(dy);
    const dx = empty(x.shape, 'float32', x.device);
    native.avgPool2dBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, saved.geom.dims, saved.geom.window,
      saved.geom.out, saved.countIncludePad);
    disposeTemp(dyc, dy);
    return [dx];
  },
} satisfies Record<string, Rule>;

export type OpName = keyof typeof gradRules;

/** maximum/minimum: the gradient goes to the winner; ties split it evenly, as PyTorch does. */
function minMaxGrad(a: Tensor, b: Tensor, dy: Tensor, wins: 'gt' | 'lt'): (Tensor | null)[] {
  const aWins = (wins === 'gt' ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
  return [
    a.requiresGrad ? sumTo(dy.mul(aWins), a.shape) : null,
    b.requiresGrad ? sumTo(dy.mul(aWins.rsub(1)), b.shape) : null,
  ];
}
