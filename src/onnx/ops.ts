/**
 * Each traced op (the names of autograd/rules.ts, plus the never-recorded ones of traceOp) as
 * ONNX nodes. An op missing here cannot be exported: export.ts throws a KilnError naming it.
 */
import { KilnError } from '../errors.js';
import { ONNX_TYPE, type OnnxDType, float, int, ints, str } from './builder.js';
import { type EmitContext, expandTarget, reduce, reshapeTarget, sliceBounds } from './context.js';
import { ATTENTION_OPS } from './attention.js';

export type Emit = (c: EmitContext) => void;

const dtypeOf = (c: EmitContext, id: number) => c.value(id).dtype as OnnxDType;
const outDtype = (c: EmitContext, k = 0) => dtypeOf(c, c.node.outputs[k]);

const UNARY: Record<string, (c: EmitContext, x: string, out: string, alpha: number, beta: number) => void> = {
  neg: (c, x, out) => c.b.node('Neg', [x], {}, [out]),
  exp: (c, x, out) => c.b.node('Exp', [x], {}, [out]),
  log: (c, x, out) => c.b.node('Log', [x], {}, [out]),
  sqrt: (c, x, out) => c.b.node('Sqrt', [x], {}, [out]),
  rsqrt: (c, x, out) => c.b.node('Reciprocal', c.b.node('Sqrt', [x]), {}, [out]),
  abs: (c, x, out) => c.b.node('Abs', [x], {}, [out]),
  sign: (c, x, out) => c.b.node('Sign', [x], {}, [out]),
  relu: (c, x, out) => c.b.node('Relu', [x], {}, [out]),
  sigmoid: (c, x, out) => c.b.node('Sigmoid', [x], {}, [out]),
  tanh: (c, x, out) => c.b.node('Tanh', [x], {}, [out]),
  // Kiln's gelu is the exact one: x/2 (1 + erf(x / sqrt 2)) (ONNX's Gelu op needs opset 20)
  gelu: (c, x, out) => {
    const [e] = c.b.node('Erf', c.b.node('Mul', [x, c.b.scalar(Math.SQRT1_2)]));
    const [onePlus] = c.b.node('Add', [e, c.b.scalar(1)]);
    c.b.node('Mul', [c.b.node('Mul', [x, c.b.scalar(0.5)])[0], onePlus], {}, [out]);
  },
  square: (c, x, out) => c.b.node('Mul', [x, x], {}, [out]),
  reciprocal: (c, x, out) => c.b.node('Reciprocal', [x], {}, [out]),
  sin: (c, x, out) => c.b.node('Sin', [x], {}, [out]),
  cos: (c, x, out) => c.b.node('Cos', [x], {}, [out]),
  leakyRelu: (c, x, out, alpha) => c.b.node('LeakyRelu', [x], { alpha: float(alpha) }, [out]),
  clamp: (c, x, out, lo, hi) => {
    // an infinite bound is left out (an empty input name)
    const bound = (v: number) => (Number.isFinite(v) ? c.b.scalar(v, 'clip_bound') : '');
    const inputs = [x, bound(lo), bound(hi)];
    while (inputs[inputs.length - 1] === '') inputs.pop();
    c.b.node('Clip', inputs, {}, [out]);
  },
  powScalar: (c, x, out, alpha) => c.b.node('Pow', [x, c.b.scalar(alpha)], {}, [out]),
  addScalar: (c, x, out, alpha) => c.b.node('Add', [x, c.b.scalar(alpha)], {}, [out]),
  mulScalar: (c, x, out, alpha) => c.b.node('Mul', [x, c.b.scalar(alpha)], {}, [out]),
  rsubScalar: (c, x, out, alpha) => c.b.node('Sub', [c.b.scalar(alpha), x], {}, [out]),
};

/** A binary arithmetic op computed in the output's dtype (int32 operands of a float op are cast first). */
const arithmetic = (opType: string): Emit => (c) => {
  const dt = outDtype(c);
  c.b.node(opType, [c.input(0, dt), c.input(1, dt)], {}, [c.output()]);
};

const COMPARE: Record<string, [string, boolean]> = {
  eq: ['Equal', false], ne: ['Equal', true], gt: ['Greater', false], ge: ['GreaterOrEqual', false],
  lt: ['Less', false], le: ['LessOrEqual', false],
};

/** The ONNX nodes of each traced op. */
export const OPS: Record<string, Emit> = {
  unary: (c) => {
    const { op, alpha, beta } = c.node.attrs;
    const f = UNARY[op];
    if (f === undefined) throw new KilnError(`onnx.export: the unary op '${op}' has no ONNX mapping`);
    f(c, c.input(0, 'float32'), c.output(), alpha, beta);
  },
  add: arithmetic('Add'),
  sub: arithmetic('Sub'),
  mul: arithmetic('Mul'),
  div: arithmetic('Div'),
  pow: arithmetic('Pow'),
  maximum: arithmetic('Max'),
  minimum: arithmetic('Min'),
  compare: (c) => {
    const [opType, negate] = COMPARE[c.node.attrs.op];
    let dt = dtypeOf(c, c.node.inputs[0]) === dtypeOf(c, c.node.inputs[1]) ? dtypeOf(c, c.node.inputs[0]) : 'float32';
    // ONNX orders numbers only; bools compare as 0/1
    if (dt === 'bool' && opType !== 'Equal') dt = 'int32';
    let [r] = c.b.node(opType, [c.input(0, dt), c.input(1, dt)]);
    if (negate) [r] = c.b.node('Not', [r]);
    // Kiln's comparisons give float32 0/1 masks
    c.b.node('Cast', [r], { to: int(1) }, [c.output()]);
  },
  where: (c) => {
    const cond = c.cast(c.extra('cond'), c.value(c.node.extra.cond).dtype, 'bool');
    c.b.node('Where', [cond, c.input(0, 'float32'), c.input(1, 'float32')], {}, [c.output()]);
  },
  cast: (c) => { c.b.node('Cast', [c.input(0)], { to: int(ONNX_TYPE[c.node.attrs.dtype as OnnxDType] ?? ONNX_TYPE.float32) }, [c.output()]); },

  // ---- reductions
  sum: (c) => {
    const dims: number[] = c.node.attrs.dims;
    if (dims.length === 0) c.b.node('Identity', [c.input(0)], {}, [c.output()]);
    else reduce(c, 'ReduceSum', c.input(0), dims, c.node.attrs.keepdim, c.output());
  },
  mean: (c) => {
    const dims: number[] = c.node.attrs.dims;
    if (dims.length === 0) c.b.node('Identity', [c.input(0)], {}, [c.output()]);
    else reduce(c, 'ReduceMean', c.input(0), dims, c.node.attrs.keepdim, c.output());
  },
  maxmin: (c) => {
    const { op, dim, keepdim } = c.node.attrs;
    reduce(c, op === 'min' ? 'ReduceMin' : 'ReduceMax', c.input(0), [dim], keepdim, c.output());
  },
  argReduce: (c) => {
    const { op, dim } = c.node.attrs;
    // the traced op keeps the reduced dim (a later reshape drops it); ONNX gives int64, Kiln int32
    const [r] = c.b.node(op === 'argmin' ? 'ArgMin' : 'ArgMax', [c.input(0)], { axis: int(dim), keepdims: int(1) });
    c.b.node('Cast', [r], { to: int(6) }, [c.output()]);
  },

  // ---- shape
  reshape: (c) => { c.b.node('Reshape', [c.input(0), reshapeTarget(c)], {}, [c.output()]); },
  permute: (c) => { c.b.node('Transpose', [c.input(0)], { perm: ints(c.node.attrs.dims) }, [c.output()]); },
  expand: (c) => { c.b.node('Expand', [c.input(0), expandTarget(c)], {}, [c.output()]); },
  slice: (c) => {
    const { start, end, step, dim } = sliceBounds(c);
    const b = c.b;
    b.node('Slice', [c.input(0), b.int64([start], 'starts'), b.int64([end], 'ends'), b.int64([dim], 'axes'), b.int64([step], 'steps')],
      {}, [c.output()]);
  },
  identity: (c) => { c.b.node('Identity', [c.input(0)], {}, [c.output()]); },
  toDevice: (c) => { c.b.node('Identity', [c.input(0)], {}, [c.output()]); },
  cat: (c) => {
    const dt = outDtype(c);
    c.b.node('Concat', c.node.inputs.map((_, i) => c.input(i, dt)), { axis: int(c.node.attrs.dim) }, [c.output()]);
  },

  // ---- linear algebra and indexing
  matmul: (c) => { c.b.node('MatMul', [c.input(0), c.input(1)], {}, [c.output()]); },
  linear: (c) => {
    const inputs = c.node.inputs.map((_, i) => c.input(i));
    c.b.node('Gemm', inputs, { transB: int(1) }, [c.output()]);
  },
  indexSelect: (c) => {
    let index = c.extra('index');
    // Kiln keeps the dim for a 0-d index (one row); ONNX's Gather would drop it
    if (c.value(c.node.extra.index).shape.length === 0) [index] = c.b.node('Reshape', [index, c.b.int64([1], 'shape')]);
    c.b.node('Gather', [c.input(0), index], { axis: int(c.node.attrs.dim) }, [c.output()]);
  },
  gather: (c) => { c.b.node('GatherElements', [c.input(0), c.extra('index')], { axis: int(c.node.attrs.dim) }, [c.output()]); },
  scatterAdd: (c) => {
    c.b.node('ScatterElements', [c.input(0), c.extra('index'), c.input(1)], { axis: int(c.node.attrs.dim), reduction: str('add') }, [c.output()]);
  },

  // ---- attention (attention.ts): the fused op, its causal mask, and arange (positions)
  ...ATTENTION_OPS,

  // ---- nn
  softmax: (c) => { c.b.node(c.node.attrs.log ? 'LogSoftmax' : 'Softmax', [c.input(0)], { axis: int(c.node.attrs.dim) }, [c.output()]); },
  conv2d: (c) => {
    const [kH, kW, sH, sW, pH, pW, dH, dW] = c.node.attrs.geom.window as number[];
    c.b.node('Conv', [c.input(0), c.input(1)], {
      kernel_shape: ints([kH, kW]), strides: ints([sH, sW]), pads: ints([pH, pW, pH, pW]), dilations: ints([dH, dW]),
    }, [c.output()]);
  },
  maxPool2d: (c) => {
    const [kH, kW, sH, sW, pH, pW] = c.node.attrs.geom.window as number[];
    c.b.node('MaxPool', [c.input(0)], { kernel_shape: ints([kH, kW]), strides: ints([sH, sW]), pads: ints([pH, pW, pH, pW]) }, [c.output()]);
  },
  avgPool2d: (c) => {
    const [kH, kW, sH, sW, pH, pW] = c.node.attrs.geom.window as number[];
    c.b.node('AveragePool', [c.input(0)], {
      kernel_shape: ints([kH, kW]), strides: ints([sH, sW]), pads: ints([pH, pW, pH, pW]),
      count_include_pad: int(c.node.attrs.countIncludePad ? 1 : 0),
    }, [c.output()]);
  },
};

/** Why an op that has no exporter cannot be exported, for the error message. */
export const UNSUPPORTED_HINT: Record<string, string> = {
  col2im: 'the transposed convolution outside nn.ConvTranspose2d (F.convTranspose2d): use the module',
  im2col: 'an unfold (im2col) outside a convolution',
  function: 'a custom autograd.Function: its forward is opaque to the tracer',
  checkpoint: 'utils.checkpoint: call the wrapped function directly for export',
  backwardHook: 'a module with backward hooks: remove them for export',
  random: 'random numbers drawn inside forward, such as dropout with training true or scaledDotProductAttention with dropoutP > 0: ' +
    'draw them only when this.training (export runs in eval mode)',
  crossEntropy: 'a loss: export the model, not the loss',
  binaryCrossEntropy: 'a loss: export the model, not the loss',
  rnnSequence: 'the RNN recurrence outside nn.RNN: use the module',
  lstmSequence: 'the LSTM recurrence outside nn.LSTM: use the module',
  gruSequence: 'the GRU recurrence outside nn.GRU: use the module',
};

