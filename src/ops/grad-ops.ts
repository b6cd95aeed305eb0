/**
 * Backward kernels as recorded ops. A rule calls these; in a first-order backward nothing is
 * recorded and they are the plain kernels, and under createGraph they record a node whose own
 * rule (rules.ts) differentiates them again, so every gradient can be differentiated once more.
 */
import { record } from '../autograd/engine.js';
import { UnaryOp, type UnaryOpName, native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { placeRows } from './shape.js';
import { contiguous, disposeTemp, empty } from './util.js';

/**
 * Which value a unary op's derivative reads: the input x, the output y, or nothing (the op is
 * linear). The native unaryBackward kernel reads the same one.
 */
export const UNARY_READS: Record<UnaryOpName, 'x' | 'y' | null> = {
  neg: null, exp: 'y', log: 'x', sqrt: 'y', rsqrt: 'y', abs: 'x', sign: null, relu: 'x', sigmoid: 'y', tanh: 'y',
  gelu: 'x', leakyRelu: 'x', clamp: 'x', powScalar: 'x', addScalar: null, mulScalar: null,
  square: 'x', reciprocal: 'x', sin: 'x', cos: 'x', rsubScalar: null,
};

/** dx = dy * f'(v) from the native kernel, where v is x or y as UNARY_READS says. Recorded as 'unaryBackward'. */
export function unaryBackward(op: UnaryOpName, dy: Tensor, v: Tensor, alpha: number, beta: number): Tensor {
  const dyc = contiguous(dy);
  const vc = contiguous(v);
  const dx = empty(v.shape, dy.dtype, v.device);
  // the kernel takes both x and y and reads the one this op's derivative needs
  native.unaryBackward(UnaryOp[op], dx.storage.handle, 0, dyc.storage.handle, dyc.offset, vc.storage.handle, vc.offset,
    vc.storage.handle, vc.offset, v.numel, alpha, beta);
  disposeTemp(dyc, dy);
  disposeTemp(vc, v);
  return record(dx, 'unaryBackward', [dy, v], { op, alpha, beta }, 0b11);
}

/** Zeros of `shape` with src's rows written at start, start+step, ... along dim d: a slice's gradient. */
export function placeInto(shape: readonly number[], d: number, src: Tensor, start: number, step: number): Tensor {
  const out = empty(shape, src.dtype, src.device);
  native.fill(out.storage.handle, 0, out.numel, 0);
  placeRows(out, d, src, start, step);
  return record(out, 'placeInto', [src], { dim: d, start, step, length: src.ndim === 0 ? 1 : src.shape[d] });
}

/** Convolution geometry: dims [N, C, H, W] of the image, window [kH, kW, sH, sW, pH, pW, dH, dW], out [OH, OW]. */
export interface ConvGeom {
  dims: number[];
  window: number[];
  out: number[];
}

/** The columns [N, C*kH*kW, OH*OW] of image x [N, C, H, W]. Recorded as 'im2col'. */
export function im2col(x: Tensor, geom: ConvGeom): Tensor {
  const [N, C] = geom.dims;
  const [kH, kW] = geom.window;
  const xc = contiguous(x);
  const col = empty([N, C * kH * kW, geom.out[0] * geom.out[1]], 'float32', x.device);
  native.im2col(col.storage.handle, 0, xc.storage.handle, xc.offset, geom.dims, geom.window, geom.out);
  disposeTemp(xc, x);
  return record(col, 'im2col', [x], { geom });
}

/** The image [N, C, H, W] with the columns cols [N, C*kH*kW, OH*OW] added back in place. Recorded as 'col2im'. */
export function col2im(cols: Tensor, geom: ConvGeom): Tensor {
  const cc = contiguous(cols);
  const y = empty(geom.dims, 'float32', cols.device);
  native.col2im(y.storage.handle, 0, cc.storage.handle, cc.offset, geom.dims, geom.window, geom.out);
  disposeTemp(cc, cols);
  return record(y, 'col2im', [cols], { geom });
}

/** Pooling geometry: dims [N, C, H, W], window [kH, kW, sH, sW, pH, pW], out [OH, OW]. */
export interface PoolGeom {
  dims: number[];
  window: number[];
  out: number[];
  outShape: number[];
}

/** avgPool2d's forward kernel. Recorded as 'avgPool2d' (its backward, below, is a recorded op too). */
export function avgPool2d(x: Tensor, g: PoolGeom, countIncludePad: boolean): Tensor {
  const xc = contiguous(x);
  const y = empty(g.outShape, 'float32', x.device);
  native.avgPool2d(y.storage.handle, 0, xc.storage.handle, xc.offset, g.dims, g.window, g.out, countIncludePad);
  disposeTemp(xc, x);
  return record(y, 'avgPool2d', [x], { geom: g, countIncludePad });
}

/** dx [N, C, H, W] for dy [N, C, OH, OW] of avgPool2d (linear in dy). Recorded as 'avgPool2dBackward'. */
export function avgPool2dBackward(dy: Tensor, g: PoolGeom, countIncludePad: boolean): Tensor {
  const dyc = contiguous(dy);
  const dx = empty(g.dims, 'float32', dy.device);
  native.avgPool2dBackward(dx.storage.handle, 0, dyc.storage.handle, dyc.offset, g.dims, g.window, g.out, countIncludePad);
  disposeTemp(dyc, dy);
  return record(dx, 'avgPool2dBackward', [dy], { geom: g, countIncludePad });
}
