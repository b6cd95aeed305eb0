// Item transforms over { data, shape } items, against direct references, and ArrayDataset.
import { describe, expect, it } from 'vitest';
import { tensor } from '../../src/creation.js';
import { KilnError } from '../../src/errors.js';
import {
  ArrayDataset, Compose, Normalize, RandomCrop, RandomHorizontalFlip, ToFloat32, defaultCollate, hostTensor, normalize,
} from '../../src/data/index.js';
import type { ItemContext } from '../../src/data/index.js';

/** A context whose random() returns the given values in turn. */
function ctx(...values: number[]): ItemContext {
  let k = 0;
  return { index: 0, epoch: 0, random: () => values[k++] };
}

const img = (C: number, H: number, W: number) => hostTensor(Uint8Array.from({ length: C * H * W }, (_, i) => i), [C, H, W]);

describe('RandomCrop', () => {
  it('pads with fill and crops the window the random draws pick', () => {
    const x = img(2, 3, 4); // values 0..23, channel c row y col x = 12c + 4y + x
    // padded image is 7 x 8; crop 3 x 4; top = floor(r0 * (7 - 3 + 1)) - 2, left = floor(r1 * (8 - 4 + 1)) - 2
    const out = new RandomCrop([3, 4], { padding: 2, fill: 99 }).apply(x, ctx(0.0, 0.99));
    // top = -2, left = 2
    const want: number[] = [];
    for (let c = 0; c < 2; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) {
      const y = -2 + i;
      const xx = 2 + j;
      want.push(y >= 0 && y < 3 && xx < 4 ? 12 * c + 4 * y + xx : 99);
    }
    expect(out.shape).toEqual([2, 3, 4]);
    expect(out.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(out.data)).toEqual(want);
  });

  it('with no padding and the full size it is the identity; [H, W] images keep two dims', () => {
    const x = hostTensor(Float32Array.from({ length: 12 }, (_, i) => i / 2), [3, 4]);
    const out = new RandomCrop([3, 4]).apply(x, ctx(0.5, 0.5));
    expect(out.shape).toEqual([3, 4]);
    expect(Array.from(out.data)).toEqual(Array.from(x.data));
  });

  it('checks its arguments and input', () => {
    expect(() => new RandomCrop(0)).toThrow(/size must be a positive integer/);
    expect(() => new RandomCrop(2, { padding: -1 })).toThrow(/padding must be a non-negative integer/);
    expect(() => new RandomCrop(9).apply(img(1, 3, 3), ctx(0, 0))).toThrow(/crop 9x9 is larger than the padded image 3x3/);
    expect(() => new RandomCrop(2).apply(hostTensor(new Uint8Array(8), [2, 2, 2, 1]), ctx(0, 0))).toThrow(/expected an image \[C, H, W\] or \[H, W\]/);
    expect(() => new RandomCrop(2).apply(tensor([1]) as never)).toThrow(KilnError);
  });
});

describe('RandomHorizontalFlip, ToFloat32, Normalize', () => {
  it('flips rows when the draw is below p, else returns the input', () => {
    const x = img(1, 2, 3);
    expect(Array.from(new RandomHorizontalFlip(0.5).apply(x, ctx(0.2)).data)).toEqual([2, 1, 0, 5, 4, 3]);
    expect(new RandomHorizontalFlip(0.5).apply(x, ctx(0.7))).toBe(x);
    expect(() => new RandomHorizontalFlip(2)).toThrow(/p must be in \[0, 1\]/);
  });

  it('ToFloat32 scales into float32', () => {
    const out = new ToFloat32(1 / 255).apply(hostTensor(Uint8Array.of(0, 51, 255), [3]));
    expect(out.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.data)).toEqual([0, Math.fround(51 / 255), Math.fround(1)]);
  });

  it('Normalize on an item matches normalize on a tensor (scalar and per-channel)', () => {
    const data = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => Math.sin(i) * 3);
    for (const [mean, std] of [[0.3, 0.7], [[0.1, -0.2], [0.5, 2]]] as [number | number[], number | number[]][]) {
      const host = new Normalize(mean, std).apply(hostTensor(data, [2, 3, 2]));
      const t = tensor(data, { shape: [2, 3, 2] });
      const ref = normalize(t, mean, std);
      const got = Array.from(host.data);
      Array.from(ref.toTypedArray()).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
      t.dispose();
      ref.dispose();
    }
    expect(() => new Normalize([1, 2, 3], 1).apply(hostTensor(new Float32Array(4), [2, 2]))).toThrow(/3 channel values/);
  });
});

describe('ArrayDataset', () => {
  it('items are rows (numbers for 1-D fields), transformed with the item context; collate makes tensors', () => {
    const ds = new ArrayDataset(
      [hostTensor(Uint8Array.from({ length: 3 * 4 }, (_, i) => i), [3, 1, 2, 2]), hostTensor(Int32Array.of(7, 8, 9), [3])],
      { transforms: [new Compose([new RandomHorizontalFlip(1), new ToFloat32(2)])] },
    );
    expect(ds.length).toBe(3);
    const [x, y] = ds.get(1, ctx(0)) as [{ data: Float32Array; shape: number[] }, number];
    expect(x.shape).toEqual([1, 2, 2]);
    expect(Array.from(x.data)).toEqual([10, 8, 14, 12]); // row 1 = [4 5; 6 7], flipped, times 2
    expect(y).toBe(8);
    const [bx, by] = defaultCollate([ds.get(0, ctx(0)), ds.get(2, ctx(0))]);
    expect(bx.shape).toEqual([2, 1, 2, 2]);
    expect(bx.dtype).toBe('float32');
    expect(Array.from(bx.toTypedArray())).toEqual([2, 0, 6, 4, 18, 16, 22, 20]);
    expect(by.dtype).toBe('int32');
    expect(Array.from(by.toTypedArray())).toEqual([7, 9]);
    bx.dispose();
    by.dispose();
  });

  it('checks its fields', () => {
    expect(() => new ArrayDataset([])).toThrow(/at least one field/);
    expect(() => new ArrayDataset([hostTensor(new Uint8Array(4), [4]), hostTensor(new Uint8Array(3), [3])])).toThrow(/share dim 0: field 0 has 4 rows, field 1 has 3/);
    expect(() => new ArrayDataset([{ data: new Uint8Array(4), shape: [5] }])).toThrow(/shape \[5\] holds 5 values, data has 4/);
    expect(() => new ArrayDataset([hostTensor(new Uint8Array(4), [4])]).get(4)).toThrow(/index 4 out of range for length 4/);
  });
});
