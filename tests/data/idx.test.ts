import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { KilnError } from '../../src/errors.js';
import { parseIdx, readIdx, encodeIdx, loadFashionMnist } from '../../src/data/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SUBSET = join(ROOT, 'data/fashion-mnist-subset');
const FULL = '/usr/share/datasets/fashion-mnist';

/** IDX bytes built by hand: magic, big-endian dims, then the payload. */
function idx(type: number, dims: number[], payload: number[] | Uint8Array): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const dv = new DataView(head.buffer);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  const body = payload instanceof Uint8Array ? payload : Uint8Array.from(payload);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

function errOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('parseIdx', () => {
  it('reads ubyte images (magic 0x00000803) and labels (0x00000801)', () => {
    const img = parseIdx(idx(0x08, [2, 2, 3], [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]));
    expect(new DataView(idx(0x08, [2, 2, 3], new Uint8Array(12)).buffer).getUint32(0, false)).toBe(0x803);
    expect(img.type).toBe('ubyte');
    expect(img.shape).toEqual([2, 2, 3]);
    expect(img.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(img.data)).toEqual([0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255]);
    const lbl = parseIdx(idx(0x08, [3], [9, 0, 4]));
    expect(lbl.shape).toEqual([3]);
    expect(Array.from(lbl.data)).toEqual([9, 0, 4]);
  });

  it('reads every type code big-endian', () => {
    expect(Array.from(parseIdx(idx(0x09, [3], [0xff, 0x80, 0x7f])).data)).toEqual([-1, -128, 127]);
    const s = parseIdx(idx(0x0b, [2], [0xff, 0xfe, 0x01, 0x02]));
    expect(s.type).toBe('short');
    expect(Array.from(s.data)).toEqual([-2, 258]);
    const i = parseIdx(idx(0x0c, [2], [0x80, 0, 0, 0, 0, 0, 0x01, 0x00]));
    expect(i.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i.data)).toEqual([-2147483648, 256]);
    const f = parseIdx(idx(0x0d, [1], [0x3f, 0xc0, 0, 0]));
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data)).toEqual([1.5]);
    const d = parseIdx(idx(0x0e, [1], [0xc0, 0x04, 0, 0, 0, 0, 0, 0]));
    expect(d.data).toBeInstanceOf(Float64Array);
    expect(Array.from(d.data)).toEqual([-2.5]);
  });

  it('handles zero dims (a scalar) and empty tensors', () => {
    expect(parseIdx(idx(0x08, [], [7]))).toMatchObject({ shape: [] });
    expect(parseIdx(idx(0x08, [0, 28, 28], [])).shape).toEqual([0, 28, 28]);
  });

  it('reads gzipped bytes by their magic number', () => {
    const g = gzipSync(idx(0x08, [2, 2], [1, 2, 3, 4]));
    expect(Array.from(parseIdx(g).data)).toEqual([1, 2, 3, 4]);
  });

  it('encodeIdx round-trips every type, gzipped or not', () => {
    const arrays = [
      Uint8Array.from([0, 9, 255]), Int8Array.from([-1, 5, 127]), Int16Array.from([-300, 0, 300]),
      Int32Array.from([-1e9, 1, 1e9]), Float32Array.from([1.5, -2, 0.25]), Float64Array.from([0.1, -1e300, 3]),
    ];
    for (const a of arrays) {
      for (const gzip of [false, true]) {
        const back = parseIdx(encodeIdx([3], a, { gzip }));
        expect(back.data.constructor).toBe(a.constructor);
        expect(Array.from(back.data)).toEqual(Array.from(a));
      }
    }
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['too short for a magic number', new Uint8Array([0, 0]), /shorter than the 4-byte magic number/],
    ['non-zero leading bytes', Uint8Array.from([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 0]), /bad IDX magic number 0x12340801/],
    ['an unknown type code', idx(0x0a, [1], [0]), /unknown type code 0x0a/],
    ['a truncated header', idx(0x08, [5, 5], []).subarray(0, 9), /truncated IDX header: 2 dims need 12 header bytes/],
    ['truncated data', idx(0x08, [2, 3], [1, 2, 3, 4, 5]), /need 6 data bytes, file has 5 \(truncated file\?\)/],
    ['trailing data', idx(0x0c, [1], [0, 0, 0, 1, 9]), /need 4 data bytes, file has 5 \(trailing bytes\)/],
    ['truncated gzip data', gzipSync(idx(0x08, [100], new Uint8Array(100).fill(3))).subarray(0, 15), /truncated gzip data/],
    ['corrupt gzip data', Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 0xff]), /gzip data/],
  ];
  for (const [what, bytes, re] of bad) {
    it(`rejects ${what} with a KilnError naming the file`, () => {
      const e = errOf(() => parseIdx(bytes, 'x-images-idx3-ubyte'));
      expect(e).toBeInstanceOf(KilnError);
      expect(e.message).toMatch(/^x-images-idx3-ubyte: /);
      expect(e.message).toMatch(re);
    });
  }
});

describe('readIdx and loadFashionMnist', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-idx-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('readIdx names the file in errors', async () => {
    const p = join(dir, 'broken-idx1-ubyte.gz');
    writeFileSync(p, gzipSync(idx(0x08, [10], new Uint8Array(10))).subarray(0, 12));
    await expect(readIdx(p)).rejects.toThrow(new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated gzip data`));
    await expect(readIdx(join(dir, 'nope'))).rejects.toThrow(/nope: cannot read IDX file/);
  });

  it('loads a small plain (not gzipped) split: images float32 [N,1,H,W] in [0,1], labels int32 [N]', async () => {
    const d = join(dir, 'plain');
    rmSync(d, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(d);
    const px = Uint8Array.from({ length: 3 * 28 * 28 }, (_, i) => i % 256);
    writeFileSync(join(d, 't10k-images-idx3-ubyte'), idx(0x08, [3, 28, 28], px));
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), idx(0x08, [3], [7, 0, 9]));
    const { images, labels } = await loadFashionMnist(d, { split: 'test' });
    expect(images.shape).toEqual([3, 1, 28, 28]);
    expect(images.dtype).toBe('float32');
    const v = images.toTypedArray();
    expect(v[0]).toBe(0);
    expect(v[255]).toBe(1);
    expect(v[100]).toBeCloseTo(100 / 255, 6);
    expect(labels.dtype).toBe('int32');
    expect(labels.toArray()).toEqual([7, 0, 9]);
    const lim = await loadFashionMnist(d, { split: 'test', limit: 2 });
    expect(lim.images.shape).toEqual([2, 1, 28, 28]);
    expect(lim.labels.toArray()).toEqual([7, 0]);

    await expect(loadFashionMnist(d, { split: 'train' })).rejects.toThrow(/no images file for split 'train' \(looked for train-images-idx3-ubyte, train-images-idx3-ubyte.gz/);
  });

  it('rejects mismatched counts, wrong kinds of file, and a bad magic number', async () => {
    const d = join(dir, 'bad');
    (await import('node:fs')).mkdirSync(d, { recursive: true });
    const img = join(d, 'train-images-idx3-ubyte.gz');
    const lbl = join(d, 'train-labels-idx1-ubyte.gz');
    writeFileSync(img, gzipSync(idx(0x08, [2, 2, 2], new Uint8Array(8))));
    writeFileSync(lbl, gzipSync(idx(0x08, [3], [1, 2, 3])));
    await expect(loadFashionMnist(d)).rejects.toThrow(/train-labels-idx1-ubyte.gz: 3 labels but .*train-images-idx3-ubyte.gz has 2 images/);
    writeFileSync(lbl, gzipSync(idx(0x08, [2, 1], [1, 2])));
    await expect(loadFashionMnist(d)).rejects.toThrow(/train-labels-idx1-ubyte.gz: expected a label file \(magic 0x00000801/);
    writeFileSync(img, gzipSync(idx(0x0d, [1, 1, 1], [0, 0, 0, 0])));
    await expect(loadFashionMnist(d)).rejects.toThrow(/train-images-idx3-ubyte.gz: expected an image file \(magic 0x00000803/);
    const raw = idx(0x08, [2, 2, 2], new Uint8Array(8));
    raw[1] = 0x99;
    writeFileSync(img, gzipSync(raw));
    await expect(loadFashionMnist(d)).rejects.toThrow(/train-images-idx3-ubyte.gz: bad IDX magic number 0x00990803/);
  });

  it('loads the committed Fashion-MNIST subset: 5000 train + 1000 test, balanced', async () => {
    for (const [split, n] of [['train', 5000], ['test', 1000]] as const) {
      const { images, labels } = await loadFashionMnist(SUBSET, { split });
      expect(images.shape).toEqual([n, 1, 28, 28]);
      const px = images.toTypedArray();
      let mn = Infinity;
      let mx = -Infinity;
      for (const v of px) { if (v < mn) mn = v; if (v > mx) mx = v; }
      expect(mn).toBe(0);
      expect(mx).toBe(1);
      const counts = new Array(10).fill(0);
      for (const l of labels.toTypedArray()) counts[l]++;
      expect(counts).toEqual(new Array(10).fill(n / 10));
      images.dispose();
      labels.dispose();
    }
  });

  it.skipIf(!existsSync(join(FULL, 't10k-images-idx3-ubyte.gz')))('loads the full Fashion-MNIST test split when installed', async () => {
    const { images, labels } = await loadFashionMnist(FULL, { split: 'test' });
    expect(images.shape).toEqual([10000, 1, 28, 28]);
    expect(labels.shape).toEqual([10000]);
    // The first test image is an ankle boot (class 9), the second a pullover (2).
    expect(Array.from(labels.toTypedArray().subarray(0, 4))).toEqual([9, 2, 1, 1]);
    images.dispose();
    labels.dispose();
  });
});
