/**
 * The gradient rules, one table: for each recorded op, the gradients of its inputs given the
 * gradient dy of its output (dys: of every output, for multi-output nodes). Inputs and attributes
 * come from the GradNode the forward recorded (src/ops/*); `next[i]` is null when input i needs
 * no gradient.
 *
 * Rules run with grad mode equal to createGraph. So every rule is written with recorded ops:
 * composed ordinary ops, or backward kernels recorded as ops of their own (ops/grad-ops.ts) whose
 * rules are further down this table. In a first-order backward recording is off and the same
 * code calls the kernels directly. A rule that has no second derivative checks isGradEnabled()
 * and throws a KilnError naming the op (noSecondDerivative).
 */
import { gemmOf, withAutocast } from '../autocast.js';
import { zeros } from '../creation.js';
import { KilnError } from '../errors.js';
import { type UnaryOpName, native } from '../native.js';
import { where } from '../ops/elementwise.js';
import { UNARY_READS, avgPool2d, avgPool2dBackward, col2im, im2col, placeInto, unaryBackward } from '../ops/grad-ops.js';
import { indexAddInto, scatterAddInto } from '../ops/indexing.js';
import { choleskyGrad, diagonalGrad, eighGrad, qrGrad, slogdetGrad, solveGrad, solveTriangularGrad } from '../linalg/grad.js';
import { linearBackward } from '../ops/linear.js';
import { gruSequenceBackward, lstmSequenceBackward, rnnSequenceBackward } from '../ops/rnn.js';
import { sumTo } from '../ops/reduce.js';
import { attentionBackward } from '../ops/attention.js';
import { cumprodGrad, logcumsumexpGrad, scanOp } from '../ops/scan.js';
import { contiguous, disposeTemp, empty, splitAt } from '../ops/util.js';
import type { Tensor } from '../tensor.js';
import { type GradNode, isGradEnabled } from './engine.js';

type Grads = (Tensor | null | undefined)[];
type Rule = (node: GradNode, dy: Tensor, dys: (Tensor | undefined)[]) => Grads;

/** The error for createGraph through an op whose gradient is not itself differentiable. */
function noSecondDerivative(op: string, hint: string): void {
  if (isGradEnabled()) {
    throw new KilnError(`createGraph: ${op} has no second derivative in Kiln (its backward is one native kernel); ${hint}`);
  }
}

// The gradient of a matmul operand that is one matrix shared by the other's batch is a sum over
// the batch of per-item products. These fold the batch into the contraction, one matmul, so the
// [batch, M, N] products are never stored (for a ConvTranspose2d weight at batch 64, 134 MB).
const batchNumel = (t: Tensor) => t.shape.slice(0, -2).reduce((p, d) => p * d, 1);

/** Whether matmul operand t is one matrix (no batch dims, or all of size 1) that other's batch shares. */
const sharedOver = (t: Tensor, other: Tensor) => t.ndim >= 2 && other.ndim > 2 && batchNumel(t) === 1 && batchNumel(other) > 1;

/** Sum over the batch dims of x[i] @ y[i]^T, for x [..., M, N] and y [..., K, N]: [M, K]. */
function batchSumMatmulNT(x: Tensor, y: Tensor): Tensor {
  const [M, N] = x.shape.slice(-2);
  const K = y.shape[y.ndim - 2];
  const B = batchNumel(x);
  const xs = x.reshape([B, M, N]).permute([1, 0, 2]).reshape([M, B * N]);
  return xs.matmul(y.reshape([B, K, N]).transpose(1, 2).reshape([B * N, K]));
}

/** Sum over the batch dims of x[i]^T @ y[i], for x [..., M, K] and y [..., M, N]: [K, N]. */
function batchSumMatmulTN(x: Tensor, y: Tensor): Tensor {
  const [M, K] = x.shape.slice(-2);
  const N = y.shape[y.ndim - 1];
  const B = batchNumel(x);
  return x.reshape([B * M, K]).t().matmul(y.reshape([B * M, N]));
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

/** dy * f'(x) for a unary op: linear ops composed, the rest through the (recorded) native kernel. */
function unaryGrad(op: UnaryOpName, x: Tensor, y: Tensor | undefined, dy: Tensor, alpha: number, beta: number): Tensor {
  switch (op) {
    case 'neg': return dy.neg();
    case 'addScalar': return dy;
    case 'mulScalar': return dy.mul(alpha);
    case 'rsubScalar': return dy.neg();
    case 'sign': return dy.mul(0);
  }
  return unaryBackward(op, dy, UNARY_READS[op] === 'y' ? y! : x, alpha, beta);
}

/**
 * d/dv of f'(v), where v is what f' reads (x or y, UNARY_READS): unaryBackward's gradient with
 * respect to v is g * dy * this. null where it is 0 (piecewise-linear ops).
 */
function unarySecond(op: UnaryOpName, v: Tensor, alpha: number): Tensor | null {
  switch (op) {
    case 'exp': return null; // f' = y, d/dy = 1 (handled by the caller)
    case 'log': return v.square().reciprocal().neg(); // f' = 1/x
    case 'sqrt': return v.square().mul(2).reciprocal().neg(); // f' = 1/(2y)
    case 'rsqrt': return v.square().mul(-1.5); // f' = -y^3/2
    case 'sigmoid': return v.mul(-2).add(1); // f' = y(1-y)
    case 'tanh': return v.mul(-2); // f' = 1-y^2
    case 'gelu': return v.square().mul(-0.5).exp().mul(1 / Math.sqrt(2 * Math.PI)).mul(v.square().rsub(2)); // phi(x)(2-x^2)
    case 'powScalar': return alpha === 0 || alpha === 1 ? null : v.pow(alpha - 2).mul(alpha * (alpha - 1));
    case 'square': return null; // constant 2 (handled by the caller)
    case 'reciprocal': return v.pow(3).reciprocal().mul(2); // f' = -1/x^2
    case 'sin': return v.sin().neg();
    case 'cos': return v.cos().neg();
    default: return null; // abs, relu, leakyRelu, clamp: f'' = 0 away from the kinks
  }
}

/** maximum/minimum: the gradient goes to the winner; ties split it evenly, as PyTorch does. */
function minMaxGrad(a: Tensor, b: Tensor, next: GradNode['next'], dy: Tensor, wins: 'gt' | 'lt'): Grads {
  const aWins = (wins === 'gt' ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
  return [
    next[0] ? sumTo(dy.mul(aWins), a.shape) : null,
    next[1] ? sumTo(dy.mul(aWins.rsub(1)), b.shape) : null,
  ];
}

/** softmax-cross-entropy's gradient composed of recorded ops (createGraph): (softmax(x) - target) * dy per row. */
function crossEntropyComposed(logits: Tensor, saved: Record<string, any>, dy: Tensor): Tensor {
  const [B, C] = logits.shape;
  const t = saved.target.toTypedArray() as Int32Array;
  const ls: number = saved.labelSmoothing;
  const dist = new Float32Array(B * C);
  const keep = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    if (t[b] === saved.ignoreIndex) continue;
    keep[b] = 1;
    for (let c = 0; c < C; c++) dist[b * C + c] = ls / C;
    dist[b * C + t[b]] += 1 - ls;
  }
  const target = empty([B, C], 'float32', logits.device);
  native.write(target.storage.handle, 0, dist);
  const mask = empty([B, 1], 'float32', logits.device);
  native.write(mask.storage.handle, 0, keep);
  return logits.softmax(1).sub(target).mul(dy.reshape([B, 1]).mul(mask));
}

export const gradRules = {
  // ---- elementwise
  unary: ({ inputs: [x], saved }, dy) => [unaryGrad(saved.op, x, saved.out, dy, saved.alpha, saved.beta)],
  unaryBackward: ({ inputs: [dyIn, v], next, saved }, g) => {
    const op: UnaryOpName = saved.op;
    let dv: Tensor | null = null;
    if (next[1]) {
      if (op === 'exp') dv = g.mul(dyIn);
      else if (op === 'square') dv = g.mul(dyIn).mul(2);
      else {
        const s = unarySecond(op, v, saved.alpha);
        dv = s === null ? null : g.mul(dyIn).mul(s);
      }
    }
    return [next[0] ? unaryBackward(op, g, v, saved.alpha, saved.beta) : null, dv];
  },
  add: ({ inputs: [a, b], next }, dy) => [next[0] ? sumTo(dy, a.shape) : null, next[1] ? sumTo(dy, b.shape) : null],
  sub: ({ inputs: [a, b], next }, dy) => [next[0] ? sumTo(dy, a.shape) : null, next[1] ? sumTo(dy.neg(), b.shape) : null],
  mul: ({ inputs: [a, b], next }, dy) => [
    next[0] ? sumTo(dy.mul(b), a.shape) : null,
    next[1] ? sumTo(dy.mul(a), b.shape) : null,
  ],
  div: ({ inputs: [a, b], next, saved }, dy) => [
    next[0] ? sumTo(dy.div(b), a.shape) : null,
    next[1] ? sumTo(dy.mul(saved.out).div(b).neg(), b.shape) : null,
  ],
  pow: ({ inputs: [a, b], next, saved }, dy) => [
    next[0] ? sumTo(dy.mul(b).mul(a.pow(b.sub(1))), a.shape) : null,
    // d/db a^b = a^b log a; where a == 0 PyTorch takes 0
    next[1] ? sumTo(dy.mul(saved.out).mul(where(a.gt(0), a.log(), 0)), b.shape) : null,
  ],
  maximum: ({ inputs: [a, b], next }, dy) => minMaxGrad(a, b, next, dy, 'gt'),
  minimum: ({ inputs: [a, b], next }, dy) => minMaxGrad(a, b, next, dy, 'lt'),
  where: ({ inputs: [a, b], next, saved }, dy) => [
    next[0] ? sumTo(where(saved.cond, dy, 0), a.shape) : null,
    next[1] ? sumTo(where(saved.cond, 0, dy), b.shape) : null,
  ],
  binaryCrossEntropy: ({ inputs: [x, y, w], next }, dy) => {
    // PyTorch's gradients: (x - y) w / max(x (1 - x), 1e-12) for x, finite at exactly 0 and 1
    const weighted = (t: Tensor) => (w ? t.mul(w) : t);
    const logs = () => [x.log().clamp(-100, null), x.rsub(1).log().clamp(-100, null)];
    let dt: Tensor | null = null;
    let dw: Tensor | null = null;
    if (next[1]) {
      const [logP, log1mP] = logs();
      dt = dy.mul(weighted(log1mP.sub(logP)));
    }
    if (w && next[2]) {
      const [logP, log1mP] = logs();
      dw = sumTo(dy.mul(y.mul(logP).add(y.rsub(1).mul(log1mP)).neg()), w.shape);
    }
    return [
      next[0] ? dy.mul(weighted(x.sub(y).div(x.mul(x.rsub(1)).clamp(1e-12, null)))) : null,
      dt,
      dw,
    ];
  },

  // ---- reductions
  sum: ({ inputs: [x], saved }, dy) => [unreduce(dy, x.shape, saved.dims, saved.keepdim)],
  mean: ({ inputs: [x], saved }, dy) => {
    const n = (saved.dims as number[]).reduce((p, d) => p * x.shape[d], 1);
    return [unreduce(dy.div(n), x.shape, saved.dims, saved.keepdim)];
  },
  maxmin: ({ inputs: [x], saved }, dy) => {
    const g = saved.keepdim ? dy : dy.unsqueeze(saved.dim);
    return [scatterAddInto(x.shape, saved.dim, saved.index, g)];
  },

  // ---- shape
  reshape: ({ saved }, dy) => [dy.reshape(saved.shape)],
  permute: ({ saved }, dy) => {
    const inv = new Array<number>(saved.dims.length);
    (saved.dims as number[]).forEach((d, i) => (inv[d] = i));
    return [dy.permute(inv)];
  },
  expand: ({ saved }, dy) => [sumTo(dy, saved.shape)],
  slice: ({ inputs: [x], saved }, dy) => [placeInto(x.shape, saved.dim, dy, saved.start, saved.step)],
  placeInto: ({ saved }, g) => [g.slice(saved.dim, saved.start, saved.start + saved.length * saved.step, saved.step)],
  identity: (_node, dy) => [dy],
  cat: ({ inputs, next, saved }, dy) => {
    let start = 0;
    return inputs.map((_t, i) => {
      const g = next[i] ? dy.narrow(saved.dim, start, saved.sizes[i]) : null;
      start += saved.sizes[i];
      return g;
    });
  },
  toDevice: ({ inputs: [x] }, dy) => [dy.to(x.device)],
  cast: ({ inputs: [x] }, dy) => [dy.to(x.dtype)],

  // ---- linear algebra
  // under autocast (saved.bf16) the gradient GEMMs run in bfloat16 too
  matmul: ({ inputs: [a, b], next, saved }, dy) => withAutocast(saved.bf16 ? 'bfloat16' : null, () => [
    next[0] ? (sharedOver(a, b) ? batchSumMatmulNT(dy, b).reshape(a.shape) : sumTo(dy.matmul(b.transpose(-1, -2)), a.shape)) : null,
    next[1] ? (sharedOver(b, a) ? batchSumMatmulTN(a, dy).reshape(b.shape) : sumTo(a.transpose(-1, -2).matmul(dy), b.shape)) : null,
  ]),
  linear: ({ inputs: [x, w, b], next, saved }, dy) =>
    linearBackward(x, w, b, dy, [next[0] !== null, next[1] !== null, next[2] != null], saved.bf16 === true),

  // ---- kiln.linalg (src/linalg/grad.ts)
  cholesky: choleskyGrad,
  solveTriangular: solveTriangularGrad,
  solve: solveGrad,
  slogdet: slogdetGrad,
  eigh: eighGrad,
  qr: qrGrad,
  diagonal: diagonalGrad,

  // ---- indexing
  indexSelect: ({ inputs: [x], saved }, dy) => [indexAddInto(x.shape, saved.dim, saved.index, dy)],
  indexAddInto: ({ saved }, g) => [g.indexSelect(saved.dim, saved.index)],
  gather: ({ inputs: [x], saved }, dy) => [scatterAddInto(x.shape, saved.dim, saved.index, dy)],
  scatterAddInto: ({ saved }, g) => [g.gather(saved.dim, saved.index)],
  scatterAdd: ({ next, saved }, dy) => [next[0] ? dy : null, next[1] ? dy.gather(saved.dim, saved.index) : null],

  // ---- nn
  softmax: ({ saved }, dy) => {
    const y: Tensor = saved.out;
    if (isGradEnabled()) {
      // composed, through the saved output (whose own node leads back to x)
      return saved.log
        ? [dy.sub(y.exp().mul(dy.sum(saved.dim, true)))]
        : [y.mul(dy.sub(dy.mul(y).sum(saved.dim, true)))];
    }
    const [outer, n, inner] = splitAt(y.shape, saved.dim);
    const dyc = contiguous(dy);
    const dx = empty(y.shape, y.dtype, y.device);
    native.softmaxBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, y.storage.handle, y.offset, outer, n, inner, saved.log);
    disposeTemp(dyc, dy);
    return [dx];
  },
  crossEntropy: ({ inputs: [logits], saved }, dy) => {
    if (isGradEnabled()) return [crossEntropyComposed(logits, saved, dy)];
    const [B, C] = logits.shape;
    const dyc = contiguous(dy);
    const dx = empty([B, C], 'float32', logits.device);
    native.crossEntropyBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, saved.logProbs.storage.handle, 0,
      saved.target.storage.handle, saved.target.offset, B, C, saved.ignoreIndex, saved.labelSmoothing);
    disposeTemp(dyc, dy);
    return [dx];
  },
  conv2d: ({ inputs: [x, w], next, saved }, dy) => {
    const { col, geom } = saved;
    const [N, C, H, W] = geom.dims;
    const OC = w.shape[0];
    const K = col.shape[1];
    const L = col.shape[2];
    if (isGradEnabled()) {
      // recorded: dx = col2im(W^T dy), dW = sum_n dy[n] im2col(x)[n]^T
      const dy3 = dy.reshape([N, OC, L]);
      return withAutocast(saved.bf16 ? 'bfloat16' : null, () => [
        next[0] ? col2im(w.reshape([OC, K]).t().matmul(dy3), geom) : null,
        next[1] ? batchSumMatmulNT(dy3, im2col(x, geom)).reshape(w.shape) : null,
      ]);
    }
    const gemm = gemmOf(saved.bf16 === true);
    const dyc = contiguous(dy);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (next[0]) {
      // dcol[n] = W^T [K, OC] @ dy[n] [OC, L], then fold the taps back into the image
      const wc = contiguous(w);
      const dcol = empty([N, K, L], 'float32', x.device);
      gemm(true, false, K, L, OC, 1, wc.storage.handle, wc.offset, K, 0, dyc.storage.handle, dyc.offset, L, OC * L, 0,
        dcol.storage.handle, 0, L, K * L, N);
      disposeTemp(wc, w);
      dx = empty([N, C, H, W], 'float32', x.device);
      native.col2im(dx.storage.handle, 0, dcol.storage.handle, 0, geom.dims, geom.window, geom.out);
      dcol.dispose();
    }
    if (next[1]) {
      // dW = sum_n dy[n] [OC, L] @ col[n]^T [L, K], accumulated into one C (stride 0, beta 1):
      // no [N, OC, K] of per-image products
      dw = zeros([OC, K], { device: w.device });
      gemm(false, true, OC, K, L, 1, dyc.storage.handle, dyc.offset, L, OC * L, col.storage.handle, 0, L, K * L, 1,
        dw.storage.handle, 0, K, 0, N);
      dw = dw.reshape(w.shape);
    }
    disposeTemp(dyc, dy);
    return [dx, dw];
  },
  im2col: ({ saved }, g) => [col2im(g, saved.geom)],
  col2im: ({ saved }, dy) => [im2col(dy, saved.geom)],
  maxPool2d: ({ inputs: [x], saved }, dy) => {
    const { geom, argmax } = saved;
    if (isGradEnabled()) {
      // recorded: dy scattered to each window's argmax within its plane
      const [N, C, H, W] = geom.dims;
      const L = geom.out[0] * geom.out[1];
      return [scatterAddInto([N, C, H * W], 2, argmax.reshape([N, C, L]), dy.reshape([N, C, L])).reshape([N, C, H, W])];
    }
    const dyc = contiguous(dy);
    const dx = empty(x.shape, 'float32', x.device);
    native.maxPool2dBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, argmax.storage.handle, 0,
      geom.dims, geom.window, geom.out);
    disposeTemp(dyc, dy);
    return [dx];
  },
  avgPool2d: ({ saved }, dy) => [avgPool2dBackward(dy, saved.geom, saved.countIncludePad)],
  // the adjoint of the adjoint: avgPool2d itself
  avgPool2dBackward: ({ saved }, g) => [avgPool2d(g, saved.geom, saved.countIncludePad)],
  rnnSequence: ({ inputs, saved }, dy) => {
    noSecondDerivative('rnnSequence (nn.RNN)', 'compose the cell from linear and tanh/relu ops for higher-order gradients');
    return rnnSequenceBackward(inputs, saved, dy);
  },
  lstmSequence: ({ inputs, saved }, dy) => {
    noSecondDerivative('lstmSequence (nn.LSTM)', 'compose the cell from linear, sigmoid and tanh ops for higher-order gradients');
    return lstmSequenceBackward(inputs, saved, dy);
  },
  gruSequence: ({ inputs, saved }, dy) => {
    noSecondDerivative('gruSequence (nn.GRU)', 'compose the cell from linear, sigmoid and tanh ops for higher-order gradients');
    return gruSequenceBackward(inputs, saved, dy);
  },

  // ---- sequence models: scans, sort, norm, fused attention (ops/scan.ts, ops/reduce.ts, ops/attention.ts)
  scan: ({ inputs: [x], saved }, dy) => {
    const { op, dim, reverse } = saved;
    // cumsum's adjoint is the sum running the other way
    if (op === 'sum') return [scanOp(dy, 'sum', dim, !reverse)];
    if (op === 'logsumexp') return [logcumsumexpGrad(x, saved.out, dy, dim, reverse)];
    noSecondDerivative('cumprod', 'its gradient is one native kernel (exact with zeros); compose exp(cumsum(log x)) for positive x');
    return [cumprodGrad(x, dy, dim)];
  },
  sortValues: ({ inputs: [x], saved }, dy) => [scatterAddInto(x.shape, saved.dim, saved.index, dy)],
  norm2: ({ inputs: [x], saved }, dy) => {
    const y: Tensor = saved.out;
    // x / |x| * dy, and 0 (a subgradient) where the norm is 0
    const g = where(y.gt(0), dy.div(y), 0);
    return [unreduce(g, x.shape, saved.dims, saved.keepdim).mul(x)];
  },
  attention: ({ inputs, saved }, dy) => attentionBackward(inputs, saved, dy, isGradEnabled()),

  // ---- nodes whose backward is a callback (custom Functions, checkpoints, module backward hooks)
  function: ({ saved }, _dy, dys) => saved.backward(dys),
  checkpoint: ({ saved }, _dy, dys) => saved.backward(dys),
  backwardHook: ({ saved }, _dy, dys) => saved.backward(dys),
} satisfies Record<string, Rule>;

export type OpName = keyof typeof gradRules;
