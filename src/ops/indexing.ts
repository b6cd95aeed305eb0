/** Indexing with index tensors: indexSelect, gather, and their scatter-add inverses. */
import { noGrad, record } from '../autograd/engine.js';
import { check, shapeStr } from '../errors.js';
import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { checkSameDevice, checkTensor, contiguous, disposeTemp, empty, normDim, splitAt } from './util.js';
import { anyBf16, viaFloat32 } from './bf16.js';

function checkIndex(index: Tensor, name = 'index'): void {
  checkTensor(index, name);
  check(index.dtype === 'int32', () => `${name}: expected an int32 tensor, got ${index.dtype}`);
}

/** out = x with dim replaced by the rows listed in the 1-D int32 index. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex(index);
  check(index.ndim <= 1, () => `index: expected a 1-D tensor, got shape ${shapeStr(index.shape)}`);
  checkSameDevice(x, index, 'indexSelect');
  const d = normDim(dim, x.ndim);
  const xc = contiguous(x);
  const ic = contiguous(index);
  const [outer, n, inner] = splitAt(x.shape, d);
  const shape = [...x.shape];
  if (shape.length > 0) shape[d] = index.numel;
  const out = empty(shape, x.dtype, x.device);
  native.indexSelect(out.storage.handle, 0, xc.storage.handle, xc.offset, ic.storage.handle, ic.offset, outer, n, inner, index.numel);
  disposeTemp(xc, x);
  disposeTemp(ic, index);
  return record(out, 'indexSelect', [x], { dim: d, index }, 0, null, [index]);
}

/** Zeros of `shape` with src's rows added at index along dim: indexSelect's gradient (recorded: its rule is indexSelect). */
export function indexAddInto(shape: readonly number[], dim: number, index: Tensor, src: Tensor): Tensor {
  // bfloat16 sums run in float32 and are rounded once (the add kernels are float)
  if (anyBf16(src)) return viaFloat32([src], (s) => indexAddInto(shape, dim, index, s));
  const out = empty(shape, src.dtype, src.device);
  native.fill(out.storage.handle, 0, out.numel, 0);
  const sc = contiguous(src);
  const ic = contiguous(index);
  const [outer, n, inner] = splitAt(shape, dim);
  native.indexAdd(out.storage.handle, 0, sc.storage.handle, sc.offset, ic.storage.handle, ic.offset, outer, n, inner, index.numel);
  disposeTemp(sc, src);
  disposeTemp(ic, index);
  return record(out, 'indexAddInto', [src], { dim, index }, 0, null, [index]);
}

/** out[..., j, ...] = x[..., index[..., j, ...], ...] along dim (index matches x except in dim). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkIndex(index);
  checkSameDevice(x, index, 'gather');
  const d = normDim(dim, x.ndim);
  check(index.ndim === x.ndim && index.shape.every((s, i) => i === d || s === x.shape[i]),
    () => `index: expected shape ${shapeStr(x.shape)} except in dim ${d}, got ${shapeStr(index.shape)}`);
  const xc = contiguous(x);
  const ic = contiguous(index);
  const [outer, n, inner] = splitAt(x.shape, d);
  const k = index.ndim === 0 ? 1 : index.shape[d];
  const out = empty(index.shape, x.dtype, x.device);
  native.gather(out.storage.handle, 0, xc.storage.handle, xc.offset, ic.storage.handle, ic.offset, outer, n, inner, k);
  disposeTemp(xc, x);
  disposeTemp(ic, index);
  return record(out, 'gather', [x], { dim: d, index }, 0, null, [index]);
}

/** Zeros of `shape` with src added at index along dim: gather's gradient (recorded: its rule is gather). */
export function scatterAddInto(shape: readonly number[], dim: number, index: Tensor, src: Tensor): Tensor {
  if (anyBf16(src)) return viaFloat32([src], (s) => scatterAddInto(shape, dim, index, s));
  const out = empty(shape, src.dtype, src.device);
  native.fill(out.storage.handle, 0, out.numel, 0);
  const sc = contiguous(src);
  const ic = contiguous(index);
  const [outer, n, inner] = splitAt(shape, dim);
  const k = index.ndim === 0 ? 1 : index.shape[dim];
  native.scatterAdd(out.storage.handle, 0, sc.storage.handle, sc.offset, ic.storage.handle, ic.offset, outer, n, inner, k);
  disposeTemp(sc, src);
  disposeTemp(ic, index);
  return record(out, 'scatterAddInto', [src], { dim, index }, 0, null, [index]);
}

/** x with src added at index along dim (recorded for x and src). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkIndex(index);
  checkTensor(src, 'src');
  if (anyBf16(x, src)) return viaFloat32([x, src], (a, s) => scatterAdd(a, dim, index, s));
  const d = normDim(dim, x.ndim);
  check(src.shape.length === index.shape.length && src.shape.every((s, i) => s === index.shape[i]),
    () => `src: expected the shape of index ${shapeStr(index.shape)}, got ${shapeStr(src.shape)}`);
  const out = noGrad(() => {
    const added = scatterAddInto(x.shape, d, index, src);
    const sum = added.add(x);
    added.dispose();
    return sum;
  });
  return record(out, 'scatterAdd', [x, src], { dim: d, index }, 0, null, [index]);
}
