/**
 * Attention for export. ONNX 17 has no attention op, so Kiln's fused attention (ops/attention.ts)
 * is written out as its definition, softmax(q k^T * scale + mask) v:
 *
 *   Transpose(k) -> MatMul(q, kT) -> Mul(scale) -> [Where(causal, s, -inf)] -> [Add(mask)]
 *   -> Softmax(axis -1) -> MatMul(p, v)
 *
 * q, k, v are the traced op's 4-d [B, H, L|S, E] inputs. A causal mask is built at run time from
 * the scores' shape (Range, LessOrEqual), so it follows a dynamic sequence length; so is the
 * [L, S] causalMask that MultiheadAttention adds when it returns its weights. arange (the GPT's
 * positions) is a constant unless its end moved with a dynamic axis: then Range up to that dim of
 * a graph input, read at run time.
 */
import { KilnError } from '../errors.js';
import { type OnnxDType, int, ints } from './builder.js';
import { type EmitContext, runtimeDim } from './context.js';

/** Dim `axis` (>= 0) of the value named x at run time, as a 0-d int64. */
function dimScalar(c: EmitContext, x: string, axis: number): string {
  const [d] = c.b.node('Shape', [x], { start: int(axis), end: int(axis + 1) });
  return c.b.node('Squeeze', [d, c.b.int64([0], 'axes')])[0];
}

const int64Scalar = (c: EmitContext, v: number) => c.b.initializer('size', { dtype: 'int64', dims: [], data: [v] });

/** bool [L, S], true where key j may be seen from query i (j <= i, top-left aligned); L, S 0-d int64. */
function allowed(c: EmitContext, L: string, S: string): string {
  const b = c.b;
  const zero = int64Scalar(c, 0);
  const one = int64Scalar(c, 1);
  const [rows] = b.node('Unsqueeze', [b.node('Range', [zero, L, one])[0], b.int64([1], 'axes')]);
  const [cols] = b.node('Range', [zero, S, one]);
  return b.node('LessOrEqual', [cols, rows])[0];
}

export const ATTENTION_OPS: Record<string, (c: EmitContext) => void> = {
  attention: (c) => {
    const b = c.b;
    const { scale, causal } = c.node.attrs as { scale: number; causal: boolean };
    const [kT] = b.node('Transpose', [c.input(1)], { perm: ints([0, 1, 3, 2]) });
    let [s] = b.node('MatMul', [c.input(0), kT]);
    [s] = b.node('Mul', [s, b.scalar(scale, 'scale')]);
    if (causal) [s] = b.node('Where', [allowed(c, dimScalar(c, s, 2), dimScalar(c, s, 3)), s, b.scalar(-Infinity, 'neg_inf')]);
    if (c.node.extra.bias !== undefined) [s] = b.node('Add', [s, c.extra('bias', 'float32')]);
    const [p] = b.node('Softmax', [s], { axis: int(-1) });
    b.node('MatMul', [p, c.input(2)], {}, [c.output()]);
  },

  causalMask: (c) => {
    const { L, S } = c.node.attrs as { L: number; S: number };
    let sizes: [string, string];
    if (c.node.inputs.length === 1) {
      // sized from the scores it masks: [..., L, S]
      const r = c.value(c.node.inputs[0]).shape.length;
      const like = c.input(0);
      sizes = [dimScalar(c, like, r - 2), dimScalar(c, like, r - 1)];
    } else if (L === c.nodeB.attrs.L && S === c.nodeB.attrs.S) {
      sizes = [int64Scalar(c, L), int64Scalar(c, S)];
    } else {
      throw new KilnError(`onnx.export: a causal mask [${L}, ${S}] whose size moves with the dynamic axes was made apart from the ` +
        'scores it masks; pass the scores as its like argument, or use scaledDotProductAttention with isCausal');
    }
    c.b.node('Where', [allowed(c, ...sizes), c.b.scalar(0), c.b.scalar(-Infinity, 'neg_inf')], {}, [c.output()]);
  },

  arange: (c) => {
    const { start, end, step, dtype } = c.node.attrs as { start: number; end: number; step: number; dtype: string };
    const dt: OnnxDType = dtype === 'int32' ? 'int32' : 'float32';
    const endB = c.nodeB.attrs.end as number;
    const b = c.b;
    if (end === endB) {
      // Kiln's own values (Range in float32 could round the count or the steps differently)
      const n = c.value(c.node.outputs[0]).shape[0];
      const data = Array.from({ length: n }, (_, i) => start + i * step);
      b.node('Identity', [b.initializer('arange', { dtype: dt, dims: [n], data })], {}, [c.output()]);
      return;
    }
    const dim = runtimeDim(c, end, endB);
    if (dim === null) {
      throw new KilnError(`onnx.export: arange(${start}, ${end}) ends at a size that moves with the dynamic axes but is not a dim of ` +
        'a graph input; make the range from an input dim (arange(0, x.shape[1])) or export without dynamicAxes');
    }
    const [limit] = b.node('Cast', [b.node('Squeeze', [dim, b.int64([0], 'axes')])[0]], { to: int(dt === 'int32' ? 6 : 1) });
    const scalar = (v: number) => b.initializer('range', { dtype: dt, dims: [], data: [v] });
    b.node('Range', [scalar(start), limit, scalar(step)], {}, [c.output()]);
  },
};
