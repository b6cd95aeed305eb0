/**
 * makeGrid: a batch of images laid out as one image, as torchvision.utils.make_grid: nrow images
 * per row, `padding` pixels of padValue around and between them, grey images repeated to RGB.
 */
import { tensor } from '../creation.js';
import { check, checkFinite, shapeStr } from '../errors.js';
import { Tensor } from '../tensor.js';
import { checkOptionKeys } from './options.js';

export interface MakeGridOptions {
  /** Images per row (default 8). */
  nrow?: number;
  /** Pixels between and around the images (default 2). */
  padding?: number;
  /** Shift and scale to [0, 1] by valueRange, or else the batch's min and max (default false). */
  normalize?: boolean;
  valueRange?: [number, number];
  /** With normalize: each image by its own min and max. */
  scaleEach?: boolean;
  padValue?: number;
}

const KEYS = ['nrow', 'padding', 'normalize', 'valueRange', 'scaleEach', 'padValue'];

/** images: [B, C, H, W] (C 1 or 3), [C, H, W] or [H, W]. Returns a float32 [C', H', W'] tensor (C' = 3 for grey input). */
export function makeGrid(images: Tensor, opts: MakeGridOptions = {}): Tensor {
  check(images instanceof Tensor, 'images: expected a Tensor');
  checkOptionKeys(opts, KEYS, 'makeGrid');
  const { nrow = 8, padding = 2, normalize = false, valueRange, scaleEach = false, padValue = 0 } = opts;
  check(Number.isInteger(nrow) && nrow > 0, () => `nrow: expected a positive integer, got ${nrow}`);
  check(Number.isInteger(padding) && padding >= 0, () => `padding: expected a non-negative integer, got ${padding}`);
  checkFinite(padValue, 'padValue');
  if (valueRange !== undefined) {
    check(Array.isArray(valueRange) && valueRange.length === 2 && valueRange.every(Number.isFinite) && valueRange[0] < valueRange[1],
      'valueRange: expected [min, max] with min < max');
  }
  let shape = [...images.shape];
  if (shape.length === 2) shape = [1, 1, ...shape];
  else if (shape.length === 3) shape = [1, ...shape];
  check(shape.length === 4, () => `images: expected [B, C, H, W], [C, H, W] or [H, W], got ${shapeStr(images.shape)}`);
  const [B, C0, H, W] = shape;
  check(B > 0 && H > 0 && W > 0, () => `images: expected a non-empty batch of images, got ${shapeStr(images.shape)}`);
  const src = Float32Array.from(images.toTypedArray());
  const plane = H * W;
  if (normalize) {
    const scale = (from: number, to: number) => {
      let [lo, hi] = valueRange ?? [Infinity, -Infinity];
      if (valueRange === undefined) for (let i = from; i < to; i++) { lo = Math.min(lo, src[i]); hi = Math.max(hi, src[i]); }
      for (let i = from; i < to; i++) src[i] = (Math.min(Math.max(src[i], lo), hi) - lo) / Math.max(hi - lo, 1e-5);
    };
    if (scaleEach) for (let b = 0; b < B; b++) scale(b * C0 * plane, (b + 1) * C0 * plane);
    else scale(0, src.length);
  }
  const C = C0 === 1 ? 3 : C0;
  const channel = (b: number, c: number) => (b * C0 + (C0 === 1 ? 0 : c)) * plane;
  if (B === 1) {
    // one image: no padding, as torchvision
    const out = new Float32Array(C * plane);
    for (let c = 0; c < C; c++) out.set(src.subarray(channel(0, c), channel(0, c) + plane), c * plane);
    return tensor(out, { shape: [C, H, W] });
  }
  const cols = Math.min(nrow, B);
  const rows = Math.ceil(B / cols);
  const cellH = H + padding;
  const cellW = W + padding;
  const GH = rows * cellH + padding;
  const GW = cols * cellW + padding;
  const out = new Float32Array(C * GH * GW).fill(padValue);
  for (let b = 0; b < B; b++) {
    const y0 = Math.floor(b / cols) * cellH + padding;
    const x0 = (b % cols) * cellW + padding;
    for (let c = 0; c < C; c++) {
      const from = channel(b, c);
      for (let y = 0; y < H; y++) out.set(src.subarray(from + y * W, from + (y + 1) * W), (c * GH + y0 + y) * GW + x0);
    }
  }
  return tensor(out, { shape: [C, GH, GW] });
}
