/**
 * Layout ops composed of the primitives (views, copies, indexSelect, where), so their gradients
 * and second derivatives follow from those ops' rules: split, chunk, repeat, roll, flip, pad
 * (constant, reflect, replicate, circular), tril, triu, maskedFill.
 */
import { check, checkFinite, checkInt, shapeStr } from '../errors.js';
import { native } from '../native.js';
import { checkOptions } from '../options.js';
import type { Tensor } from '../tensor.js';
import { where } from './elementwise.js';
import { indexSelect } from './indexing.js';
import { cat } from './shape.js';
import { checkTensor, empty, normDim } from './util.js';

/** int32 [n] on x's device from host values. */
function indexTensor(values: ArrayLike<number>, like: Tensor): Tensor {
  const t = empty([values.length], 'int32', like.device);
  if (values.length > 0) native.write(t.storage.handle, 0, Int32Array.from(values));
  return t;
}

/** Views of consecutive pieces along dim: of splitSize each (the last may be smaller), or of the listed sizes. */
export function split(x: Tensor, splitSizeOrSections: number | number[], dim = 0): Tensor[] {
  checkTensor(x, 'input');
  const d = normDim(dim, x.ndim);
  const n = x.shape[d];
  let sizes: number[];
  if (Array.isArray(splitSizeOrSections)) {
    sizes = splitSizeOrSections;
    sizes.forEach((s, i) => check(Number.isInteger(s) && s >= 0, () => `splitSizeOrSections[${i}]: expected a non-negative integer, got ${s}`));
    const total = sizes.reduce((a, b) => a + b, 0);
    check(total === n, () => `splitSizeOrSections: sizes sum to ${total}, dim ${d} has ${n}`);
  } else {
    checkInt(splitSizeOrSections, 'splitSize');
    check(splitSizeOrSections > 0 || n === 0, () => `splitSize: expected a positive integer, got ${splitSizeOrSections}`);
    const s = splitSizeOrSections;
    sizes = [];
    for (let start = 0; start < n; start += s) sizes.push(Math.min(s, n - start));
    if (sizes.length === 0) sizes.push(0);
  }
  let start = 0;
  return sizes.map((s) => {
    const part = x.narrow(d, start, s);
    start += s;
    return part;
  });
}

/** chunks pieces of (about) equal size along dim, as torch.chunk (the last may be smaller, fewer when it divides so). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor(x, 'input');
  checkInt(chunks, 'chunks');
  check(chunks > 0, () => `chunks: expected a positive integer, got ${chunks}`);
  const d = normDim(dim, x.ndim);
  const n = x.shape[d];
  return split(x, Math.max(1, Math.ceil(n / chunks)), d);
}

/** x tiled reps times along each dim (reps may have more dims than x, as torch.repeat). */
export function repeat(x: Tensor, reps: readonly number[]): Tensor {
  checkTensor(x, 'input');
  check(Array.isArray(reps) && reps.length >= x.ndim,
    () => `repeats: expected at least ${x.ndim} entries (one per dim of the input), got ${Array.isArray(reps) ? reps.length : String(reps)}`);
  reps.forEach((r, i) => check(Number.isInteger(r) && r >= 0, () => `repeats[${i}]: expected a non-negative integer, got ${r}`));
  const shape = [...new Array<number>(reps.length - x.ndim).fill(1), ...x.shape];
  // [1, s0, 1, s1, ...] expanded to [r0, s0, r1, s1, ...], copied, merged pairwise
  const inter: number[] = [];
  const expanded: number[] = [];
  shape.forEach((s, i) => {
    inter.push(1, s);
    expanded.push(reps[i], s);
  });
  return x.reshape(inter).expand(expanded).contiguous().reshape(shape.map((s, i) => s * reps[i]));
}

/** Elements shifted by shifts along dims (wrapping around); with no dims, over the flattened tensor. */
export function roll(x: Tensor, shifts: number | number[], dims?: number | number[]): Tensor {
  checkTensor(x, 'input');
  if (dims === undefined) {
    check(typeof shifts === 'number', 'shifts: expected one shift when dims is not given');
    return roll(x.reshape([x.numel]), shifts, 0).reshape([...x.shape]);
  }
  const sh = Array.isArray(shifts) ? shifts : [shifts];
  const ds = Array.isArray(dims) ? dims : [dims];
  check(sh.length === ds.length, () => `shifts, dims: expected as many shifts as dims, got ${sh.length} and ${ds.length}`);
  let out = x;
  sh.forEach((s, i) => {
    checkInt(s, 'shifts');
    const d = normDim(ds[i], x.ndim, 'dims');
    const n = x.shape[d];
    if (n === 0) return;
    const k = ((s % n) + n) % n;
    if (k === 0) return;
    out = cat([out.narrow(d, n - k, k), out.narrow(d, 0, n - k)], d);
  });
  return out === x ? x.clone() : out;
}

/** x reversed along each of dims (a gather with reversed indices: Kiln has no negative strides). */
export function flip(x: Tensor, dims: number | number[]): Tensor {
  checkTensor(x, 'input');
  const ds = (Array.isArray(dims) ? dims : [dims]).map((d) => normDim(d, x.ndim, 'dims'));
  check(new Set(ds).size === ds.length, () => `dims: ${shapeStr(ds)} repeats a dim`);
  let out = x;
  for (const d of ds) {
    const n = x.shape[d];
    const idx = indexTensor(Array.from({ length: n }, (_, i) => n - 1 - i), x);
    out = indexSelect(out, d, idx);
  }
  return out === x ? x.clone() : out;
}

export interface PadOptions {
  mode?: 'constant' | 'reflect' | 'replicate' | 'circular';
  value?: number;
}

/**
 * Pads the last dims: pad = [left, right] for the last dim, then [left, right] of the one before,
 * ... (torch.nn.functional.pad's order). Constant pads may be negative (crop).
 */
export function pad(x: Tensor, padding: readonly number[], opts: PadOptions = {}): Tensor {
  checkOptions(opts, ['mode', 'value'], 'pad');
  checkTensor(x, 'input');
  const { mode = 'constant', value = 0 } = opts;
  check(['constant', 'reflect', 'replicate', 'circular'].includes(mode),
    () => `mode: expected 'constant', 'reflect', 'replicate' or 'circular', got ${String(mode)}`);
  check(Array.isArray(padding) && padding.length % 2 === 0 && padding.length / 2 <= x.ndim,
    () => `pad: expected an even number of sizes, at most 2 per dim of the input (${x.ndim} dims), got ${Array.isArray(padding) ? shapeStr(padding) : String(padding)}`);
  padding.forEach((p, i) => checkInt(p, `pad[${i}]`));
  checkFinite(value, 'value');
  let out = x;
  for (let i = 0; i < padding.length / 2; i++) {
    const d = x.ndim - 1 - i;
    const [lo, hi] = [padding[2 * i], padding[2 * i + 1]];
    if (lo === 0 && hi === 0) continue;
    const n = out.shape[d];
    if (mode === 'constant') {
      // negative amounts crop first
      const start = Math.max(0, -lo);
      const keep = n - start - Math.max(0, -hi);
      check(keep >= 0, () => `pad: cropping ${-lo} and ${-hi} from dim ${d} of size ${n} leaves nothing`);
      let mid = start > 0 || keep < n ? out.narrow(d, start, keep) : out;
      const parts: Tensor[] = [];
      const block = (k: number) => {
        const shape = [...mid.shape];
        shape[d] = k;
        const t = empty(shape, mid.dtype, mid.device);
        if (t.numel > 0) native.fill(t.storage.handle, 0, t.numel, value);
        return t;
      };
      if (lo > 0) parts.push(block(lo));
      parts.push(mid);
      if (hi > 0) parts.push(block(hi));
      mid = parts.length === 1 ? mid : cat(parts, d);
      out = mid;
      continue;
    }
    check(lo >= 0 && hi >= 0, () => `pad: ${mode} padding needs non-negative sizes, got ${lo} and ${hi}`);
    if (mode === 'reflect') {
      check(lo < n && hi < n, () => `pad: reflect padding (${lo}, ${hi}) must be smaller than dim ${d} (${n})`);
    } else {
      check(n > 0, () => `pad: ${mode} padding of an empty dim ${d}`);
      if (mode === 'circular') check(lo <= n && hi <= n, () => `pad: circular padding (${lo}, ${hi}) must be at most dim ${d} (${n})`);
    }
    const src = (j: number): number => {
      if (mode === 'replicate') return Math.min(Math.max(j, 0), n - 1);
      if (mode === 'circular') return ((j % n) + n) % n;
      return j < 0 ? -j : j >= n ? 2 * (n - 1) - j : j; // reflect, without repeating the edge
    };
    const rows = Array.from({ length: lo + n + hi }, (_, t) => src(t - lo));
    out = indexSelect(out, d, indexTensor(rows, out));
  }
  return out === x ? x.clone() : out;
}

/** A [R, C] float32 0/1 mask: 1 where col - row >= diagonal (upper) or <= diagonal (lower). */
function triMask(R: number, C: number, diagonal: number, upper: boolean, like: Tensor): Tensor {
  const host = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) host[r * C + c] = (upper ? c - r >= diagonal : c - r <= diagonal) ? 1 : 0;
  const m = empty([R, C], 'float32', like.device);
  if (host.length > 0) native.write(m.storage.handle, 0, host);
  return m;
}

function tri(x: Tensor, diagonal: number, upper: boolean): Tensor {
  checkTensor(x, 'input');
  checkInt(diagonal, 'diagonal');
  check(x.ndim >= 2, () => `${upper ? 'triu' : 'tril'}: expected a tensor of at least 2 dims, got ${shapeStr(x.shape)}`);
  const m = triMask(x.shape[x.ndim - 2], x.shape[x.ndim - 1], diagonal, upper, x);
  if (x.dtype !== 'float32') {
    // int32 / bool: multiply by the 0/1 mask in int32, keep the dtype
    const mi = m.to('int32');
    const prod = (x.dtype === 'bool' ? x.to('int32') : x).mul(mi);
    return x.dtype === 'bool' ? prod.to('bool') : prod;
  }
  return where(m, x, 0);
}

/** The lower triangle (col - row <= diagonal) of the last two dims; the rest 0. */
export const tril = (x: Tensor, diagonal = 0) => tri(x, diagonal, false);
/** The upper triangle (col - row >= diagonal) of the last two dims; the rest 0. */
export const triu = (x: Tensor, diagonal = 0) => tri(x, diagonal, true);

/** x with value where mask is true (bool, or any nonzero of a float32/int32 mask), broadcasting. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor(x, 'input');
  checkTensor(mask, 'mask');
  check(typeof value === 'number', () => `value: expected a number, got ${typeof value}`);
  check(x.dtype === 'float32', () => `maskedFill: expected a float32 input, got ${x.dtype}`);
  return where(mask, value, x);
}
