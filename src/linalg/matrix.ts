/** Matrix helpers over the last two dims: tril, triu, diagonal, diagEmbed, eye-like masks. */
import { record } from '../autograd/engine.js';
import { tensor } from '../creation.js';
import type { Device } from '../device.js';
import type { DType } from '../dtype.js';
import { check, checkInt, shapeStr } from '../errors.js';
import { where } from '../ops/elementwise.js';
import { checkTensor } from '../ops/util.js';
import { Tensor } from '../tensor.js';

function checkMatrix(x: Tensor, name: string, what: string): void {
  checkTensor(x, name);
  check(x.ndim >= 2, () => `${what}: expected a tensor of at least 2 dims (a matrix or a batch of them), got shape ${shapeStr(x.shape)}`);
}

/** A float32 [R, C] mask: 1 where keep(i, j). */
function mask(R: number, C: number, device: Device, keep: (i: number, j: number) => boolean): Tensor {
  const m = new Float32Array(R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) m[i * C + j] = keep(i, j) ? 1 : 0;
  return tensor(m, { shape: [R, C], device });
}

/** The lower triangle of the last two dims (j - i <= k), zeros elsewhere (NaN outside included). */
export function tril(x: Tensor, k = 0): Tensor {
  checkMatrix(x, 'input', 'tril');
  checkInt(k, 'diagonal');
  const [R, C] = x.shape.slice(-2);
  return where(mask(R, C, x.device, (i, j) => j - i <= k), x, 0);
}

/** The upper triangle of the last two dims (j - i >= k), zeros elsewhere. */
export function triu(x: Tensor, k = 0): Tensor {
  checkMatrix(x, 'input', 'triu');
  checkInt(k, 'diagonal');
  const [R, C] = x.shape.slice(-2);
  return where(mask(R, C, x.device, (i, j) => j - i >= k), x, 0);
}

/** The main diagonal of the last two dims, [..., min(R, C)], as a view. */
export function diagonal(x: Tensor): Tensor {
  checkMatrix(x, 'input', 'diagonal');
  x._checkAlive('diagonal');
  const nd = x.ndim;
  const [R, C] = x.shape.slice(-2);
  const shape = [...x.shape.slice(0, -2), Math.min(R, C)];
  const strides = [...x.strides.slice(0, -2), x.strides[nd - 2] + x.strides[nd - 1]];
  const out = new Tensor(x.storage, shape, strides, x.offset);
  out._base = x._base ?? x;
  return record(out, 'diagonal', [x], { R, C });
}

/** [..., n] -> [..., R, C] with the values on the main diagonal (n = min(R, C)), zeros elsewhere. */
export function diagEmbed(d: Tensor, R?: number, C?: number): Tensor {
  checkTensor(d, 'input');
  check(d.ndim >= 1, 'diagEmbed: expected a tensor of at least 1 dim');
  const n = d.shape[d.ndim - 1];
  const rows = R ?? n;
  const cols = C ?? n;
  check(Math.min(rows, cols) === n, () => `diagEmbed: ${n} values do not fill the diagonal of a ${rows} x ${cols} matrix`);
  const eye = mask(rows, cols, d.device, (i, j) => i === j);
  const e = d.dtype === 'float32' ? eye : eye.to(d.dtype);
  if (e !== eye) eye.dispose();
  // (i, j) = d[min index] * [i == j]: broadcast d along the longer side
  return rows >= cols ? d.unsqueeze(-2).mul(e) : d.unsqueeze(-1).mul(e);
}

/** The identity in a dtype on a device. */
export function identity(n: number, dtype: DType, device: Device): Tensor {
  const m = dtype === 'float64' ? new Float64Array(n * n) : new Float32Array(n * n);
  for (let i = 0; i < n; i++) m[i * n + i] = 1;
  return tensor(m, { shape: [n, n], dtype, device });
}

/** The transpose of the last two dims (a view). */
export function mT(x: Tensor): Tensor {
  return x.transpose(-1, -2);
}
