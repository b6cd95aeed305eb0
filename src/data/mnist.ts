/**
 * MNIST / Fashion-MNIST loader: IDX files in a directory -> image and label tensors.
 */
import { checkOptions } from '../options.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KilnError } from '../errors.js';
import { tensor } from '../creation.js';
import type { Tensor } from '../tensor.js';
import type { DeviceLike } from '../device.js';
import { readIdx, type IdxData } from './idx.js';
import { ArrayDataset, type ItemTransform } from './array-dataset.js';
import { ToFloat32 } from './host-transforms.js';

export interface MnistOptions {
  /** 'train' reads train-*-idx?-ubyte, 'test' reads t10k-*-idx?-ubyte. Default 'train'. */
  split?: 'train' | 'test';
  /** Keep only the first `limit` samples. */
  limit?: number;
  /** Device of the returned tensors. Default 'cpu'. */
  device?: DeviceLike;
}

export interface MnistData {
  /** float32 [N, 1, H, W], pixel values scaled to [0, 1]. */
  images: Tensor;
  /** int32 [N], class ids (0..9 for MNIST and Fashion-MNIST). */
  labels: Tensor;
}

/** Fashion-MNIST class names, by label id. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

function findFile(dir: string, prefix: string, kind: 'images' | 'labels', idxDims: number): string {
  const stems = [`${prefix}-${kind}-idx${idxDims}-ubyte`, `${prefix}-${kind}.idx${idxDims}-ubyte`];
  const tried: string[] = [];
  for (const stem of stems) {
    for (const name of [stem, `${stem}.gz`]) {
      const p = join(dir, name);
      if (existsSync(p)) return p;
      tried.push(name);
    }
  }
  throw new KilnError(`${dir}: no ${kind} file for split '${prefix === 't10k' ? 'test' : 'train'}' (looked for ${tried.join(', ')})`);
}

/**
 * Load one split of MNIST-format data from `dir`. Accepts the standard file names
 * (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
 * t10k-labels-idx1-ubyte), each plain or gzipped (.gz).
 *
 * Throws KilnError naming the file when a file is missing, truncated or corrupt, when the
 * image file is not ubyte [N, H, W], the label file not ubyte [N], or the counts differ.
 */
export async function loadFashionMnist(dir: string, opts: MnistOptions = {}): Promise<MnistData> {
  checkOptions(opts, ['split', 'limit', 'device'], 'loadFashionMnist');
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw new KilnError(`loadFashionMnist: split must be 'train' or 'test', got ${String(split)}`);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgPath = findFile(dir, prefix, 'images', 3);
  const lblPath = findFile(dir, prefix, 'labels', 1);
  const [img, lbl] = await Promise.all([readIdx(imgPath), readIdx(lblPath)]);
  return mnistTensors(img, lbl, imgPath, lblPath, opts);
}

/** Same as loadFashionMnist: the original MNIST digits use the same files and format. */
export const loadMnist = loadFashionMnist;

/** Checks an image and a label file belong together; returns [N, H, W]. */
function checkPair(img: IdxData, lbl: IdxData, imgPath: string, lblPath: string): [number, number, number] {
  if (img.type !== 'ubyte' || img.shape.length !== 3) {
    throw new KilnError(`${imgPath}: expected an image file (magic 0x00000803: ubyte, 3 dims), got ${img.type} with ${img.shape.length} dims`);
  }
  if (lbl.type !== 'ubyte' || lbl.shape.length !== 1) {
    throw new KilnError(`${lblPath}: expected a label file (magic 0x00000801: ubyte, 1 dim), got ${lbl.type} with ${lbl.shape.length} dims`);
  }
  const [n, h, w] = img.shape;
  if (lbl.shape[0] !== n) {
    throw new KilnError(`${lblPath}: ${lbl.shape[0]} labels but ${imgPath} has ${n} images`);
  }
  return [n, h, w];
}

function mnistTensors(img: IdxData, lbl: IdxData, imgPath: string, lblPath: string, opts: MnistOptions): MnistData {
  const [n, h, w] = checkPair(img, lbl, imgPath, lblPath);
  let count = n;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) {
      throw new KilnError(`loadFashionMnist: limit must be a non-negative integer, got ${String(opts.limit)}`);
    }
    count = Math.min(n, opts.limit);
  }
  const px = img.data as Uint8Array;
  const pixels = new Float32Array(count * h * w);
  for (let i = 0; i < pixels.length; i++) pixels[i] = px[i] / 255;
  const labels = new Int32Array(count);
  const raw = lbl.data as Uint8Array;
  for (let i = 0; i < count; i++) labels[i] = raw[i];
  const device = opts.device;
  return {
    images: tensor(pixels, { shape: [count, 1, h, w], dtype: 'float32', device }),
    labels: tensor(labels, { shape: [count], dtype: 'int32', device }),
  };
}

export interface MnistDatasetOptions {
  split?: 'train' | 'test';
  limit?: number;
  /**
   * Item transform of each image (a { data, shape } item: Uint8Array [1, H, W]). Default
   * ToFloat32(1 / 255) (float32 in [0, 1], as loadFashionMnist); null keeps the bytes.
   */
  transform?: ItemTransform | null;
}

/**
 * One split as an ArrayDataset of [image, label] items, the images kept as bytes in host
 * memory (47 MB for the Fashion-MNIST training set, shared with DataLoader workers without a
 * copy) and transformed per item: the dataset for augmentation pipelines and numWorkers.
 */
export async function fashionMnistDataset(dir: string, opts: MnistDatasetOptions = {}): Promise<ArrayDataset> {
  checkOptions(opts, ['split', 'limit', 'transform'], 'fashionMnistDataset');
  const split = opts.split ?? 'train';
  if (split !== 'train' && split !== 'test') {
    throw new KilnError(`fashionMnistDataset: split must be 'train' or 'test', got ${String(split)}`);
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgPath = findFile(dir, prefix, 'images', 3);
  const lblPath = findFile(dir, prefix, 'labels', 1);
  const [img, lbl] = await Promise.all([readIdx(imgPath), readIdx(lblPath)]);
  const [n, h, w] = checkPair(img, lbl, imgPath, lblPath);
  let count = n;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) throw new KilnError(`fashionMnistDataset: limit must be a non-negative integer, got ${String(opts.limit)}`);
    count = Math.min(n, opts.limit);
  }
  const transform = opts.transform === undefined ? new ToFloat32(1 / 255) : opts.transform;
  return new ArrayDataset(
    [
      { data: (img.data as Uint8Array).subarray(0, count * h * w), shape: [count, 1, h, w] },
      { data: (lbl.data as Uint8Array).subarray(0, count), shape: [count] },
    ],
    { transforms: [transform ?? undefined] },
  );
}
