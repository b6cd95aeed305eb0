/**
 * Image grids and PNG files, as torchvision.utils.make_grid and save_image: a batch [B, C, H, W]
 * is tiled into rows of nrow images with padding between them; one-channel images become three
 * equal channels (as torchvision does), and saveImage writes the grid as an 8-bit PNG with
 * pngjs (greyscale when the images had one channel, else RGB or RGBA).
 *
 * Both work on the host: an image grid is small, and a PNG is written from host memory anyway.
 */
import { PNG } from 'pngjs';
import { tensor as makeTensor } from '../creation.js';
import { check, shapeStr } from '../errors.js';
import { atomicWrite, writeAll } from '../io/atomic.js';
import { Tensor } from '../tensor.js';
import { checkOptions } from './options.js';

export interface MakeGridOptions {
  /** Images per row. Default 8. */
  nrow?: number;
  /** Pixels of padding around and between images. Default 2. */
  padding?: number;
  /** Shift and scale to [0, 1], by valueRange or else by the min and max of the images. Default false. */
  normalize?: boolean;
  /** [low, high] mapped to [0, 1] when normalize is on (values outside are clamped). */
  valueRange?: [number, number];
  /** With normalize, each image by its own min and max. Default false. */
  scaleEach?: boolean;
  /** Value of the padding. Default 0. */
  padValue?: number;
}

const GRID_KEYS = ['nrow', 'padding', 'normalize', 'valueRange', 'scaleEach', 'padValue'] as const;

interface HostGrid {
  data: Float32Array;
  shape: [number, number, number];
  /** The images had one channel (their three channels are equal). */
  grey: boolean;
}

function nonNegInt(v: unknown, dflt: number, name: string, min = 0): number {
  if (v === undefined) return dflt;
  check(typeof v === 'number' && Number.isInteger(v) && v >= min, () => `${name}: expected an integer >= ${min}, got ${String(v)}`);
  return v;
}

/** Shift [lo, hi] to [0, 1] in place, clamping first (torchvision's norm_ip). */
function normRange(a: Float32Array, lo: number, hi: number): void {
  const scale = 1 / Math.max(hi - lo, 1e-5);
  for (let i = 0; i < a.length; i++) a[i] = (Math.min(Math.max(a[i], lo), hi) - lo) * scale;
}

function minMax(a: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < lo) lo = a[i];
    if (a[i] > hi) hi = a[i];
  }
  return [lo, hi];
}

function gridHost(images: Tensor, options: MakeGridOptions | undefined, owner: string): HostGrid {
  const o = checkOptions(options, GRID_KEYS, owner) as MakeGridOptions;
  check(images instanceof Tensor, () => `images: expected a Tensor, got ${images === null ? 'null' : typeof images}`);
  check(images.dtype === 'float32', () => `images: expected a float32 tensor, got ${images.dtype}`);
  check(images.ndim >= 2 && images.ndim <= 4, () => `images: expected [B, C, H, W], [C, H, W] or [H, W], got ${shapeStr(images.shape)}`);
  const nrow = nonNegInt(o.nrow, 8, 'nrow', 1);
  const padding = nonNegInt(o.padding, 2, 'padding');
  const padValue = o.padValue ?? 0;
  check(typeof padValue === 'number' && Number.isFinite(padValue), () => `padValue: expected a finite number, got ${String(padValue)}`);
  check(o.normalize === undefined || typeof o.normalize === 'boolean', () => `normalize: expected a boolean, got ${String(o.normalize)}`);
  check(o.scaleEach === undefined || typeof o.scaleEach === 'boolean', () => `scaleEach: expected a boolean, got ${String(o.scaleEach)}`);
  const range = o.valueRange;
  check(range === undefined || (Array.isArray(range) && range.length === 2 && range.every(Number.isFinite) && range[0] < range[1]),
    () => `valueRange: expected [low, high] with low < high, got ${String(range)}`);

  const shape4 = images.ndim === 4 ? images.shape : images.ndim === 3 ? [1, ...images.shape] : [1, 1, ...images.shape];
  const [B, C0, H, W] = shape4;
  check(C0 === 1 || C0 === 3 || C0 === 4, () => `images: expected 1, 3 or 4 channels, got ${C0} (shape ${shapeStr(images.shape)})`);
  check(B > 0 && H > 0 && W > 0, () => `images: expected at least one non-empty image, got ${shapeStr(images.shape)}`);
  const src = new Float32Array(images.toTypedArray()); // a copy: normalize works in place
  if (o.normalize) {
    const per = H * W * C0;
    for (let b = 0; b < (o.scaleEach ? B : 1); b++) {
      const part = o.scaleEach ? src.subarray(b * per, (b + 1) * per) : src;
      const [lo, hi] = range ?? minMax(part);
      normRange(part, lo, hi);
    }
  }
  const C = C0 === 1 ? 3 : C0;
  // a single image comes back as it is (three channels), without padding, as in torchvision
  const xmaps = B === 1 ? 1 : Math.min(nrow, B);
  const ymaps = Math.ceil(B / xmaps);
  const pad = B === 1 ? 0 : padding;
  const h = H + pad, w = W + pad;
  const GH = h * ymaps + pad, GW = w * xmaps + pad;
  const data = new Float32Array(C * GH * GW).fill(padValue);
  for (let k = 0; k < B; k++) {
    const y0 = Math.floor(k / xmaps) * h + pad, x0 = (k % xmaps) * w + pad;
    for (let c = 0; c < C; c++) {
      const from = (k * C0 + (C0 === 1 ? 0 : c)) * H * W;
      for (let y = 0; y < H; y++) {
        data.set(src.subarray(from + y * W, from + (y + 1) * W), (c * GH + y0 + y) * GW + x0);
      }
    }
  }
  return { data, shape: [C, GH, GW], grey: C0 === 1 };
}

/** A grid of images [C, rows, cols] (torchvision.utils.make_grid); one-channel images give 3 channels. */
export function makeGrid(images: Tensor, options?: MakeGridOptions): Tensor {
  const g = gridHost(images, options, 'makeGrid');
  return makeTensor(g.data, { shape: g.shape });
}

/** The PNG bytes of a grid: values in [0, 1] map to 0..255 as round(255 v), clamped; NaN to 0. */
export function encodePng(images: Tensor, options?: MakeGridOptions): Uint8Array {
  const g = gridHost(images, options, 'encodePng');
  return pngBytes(g);
}

function pngBytes({ data, shape: [C, H, W], grey }: HostGrid): Uint8Array {
  const png = new PNG({ width: W, height: H });
  const px = png.data;
  const plane = H * W;
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 4; c++) {
      // torchvision: mul(255).add(0.5).clamp(0, 255), truncated to uint8
      const v = c < C ? data[c * plane + i] * 255 + 0.5 : 255;
      px[i * 4 + c] = v >= 255 ? 255 : v > 0 ? v : 0; // the typed array truncates; NaN fails both tests
    }
  }
  // colorType 0: grey, 2: RGB, 6: RGBA (pngjs takes RGBA pixels and packs them)
  return PNG.sync.write(png, { colorType: grey ? 0 : C === 3 ? 2 : 6 });
}

/**
 * Writes images as a PNG grid (torchvision.utils.save_image): values in [0, 1] (or normalize them
 * with the grid options). The file is replaced atomically.
 */
export async function saveImage(images: Tensor, path: string, options?: MakeGridOptions): Promise<void> {
  check(typeof path === 'string' && path.length > 0, () => `path: expected a file name, got ${String(path)}`);
  const bytes = pngBytes(gridHost(images, options, 'saveImage'));
  await atomicWrite(path, (fh) => writeAll(fh, bytes));
}
