// kiln.utils.makeGrid / saveImage / encodePng against torchvision.utils.make_grid's layout
// (written out pixel by pixel here) and against the PNG read back with pngjs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kiln-image-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** B images [1, H, W] whose pixel (b, y, x) is b + y / 10 + x / 100 */
function images(B: number, H: number, W: number): { t: kiln.Tensor; at: (b: number, y: number, x: number) => number } {
  const at = (b: number, y: number, x: number) => b + y / 10 + x / 100;
  const data = new Float32Array(B * H * W);
  for (let b = 0; b < B; b++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) data[(b * H + y) * W + x] = at(b, y, x);
  return { t: kiln.tensor(data, { shape: [B, 1, H, W] }), at };
}

describe('utils.makeGrid', () => {
  it('tiles images into rows of nrow with padding, one channel repeated to three', () => {
    const { t, at } = images(3, 2, 3);
    const g = kiln.utils.makeGrid(t, { nrow: 2, padding: 1, padValue: 0.5 });
    // torchvision: xmaps = min(nrow, B) = 2, ymaps = ceil(3 / 2) = 2, size (H + p) * ymaps + p
    expect(g.shape).toEqual([3, 7, 9]);
    const v = g.toTypedArray();
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 7; y++) {
        for (let x = 0; x < 9; x++) {
          const row = Math.floor((y - 1) / 3), col = Math.floor((x - 1) / 4);
          const iy = (y - 1) % 3, ix = (x - 1) % 4;
          const b = row * 2 + col;
          const inside = y >= 1 && x >= 1 && iy < 2 && ix < 3 && b < 3;
          expect(v[(c * 7 + y) * 9 + x]).toBeCloseTo(inside ? at(b, iy, ix) : 0.5, 6);
        }
      }
    }
    t.dispose();
    g.dispose();
  });

  it('normalizes by valueRange (clamped), by the min and max, or each image by its own', () => {
    const x = kiln.tensor(new Float32Array([-1, 0, 1, 3, 0, 2, 4, 6]), { shape: [2, 1, 2, 2] });
    const r = (t: kiln.Tensor) => Array.from(t.toTypedArray().slice(0, 8)).map((v) => +v.toFixed(5));
    // grid [3, 2, 4], padding 0: row y holds image 0's row y, then image 1's
    //   raw channel 0: [-1, 0, 0, 2,  1, 3, 4, 6]
    const byRange = kiln.utils.makeGrid(x, { padding: 0, normalize: true, valueRange: [-1, 1] });
    expect(r(byRange)).toEqual([0, 0.5, 0.5, 1, 1, 1, 1, 1]);
    const byMinMax = kiln.utils.makeGrid(x, { padding: 0, normalize: true });
    expect(r(byMinMax)).toEqual([0, 1, 1, 3, 2, 4, 5, 7].map((v) => +(v / 7).toFixed(5)));
    // each image over its own range: image 0 over [-1, 3], image 1 over [0, 6]
    const each = kiln.utils.makeGrid(x, { padding: 0, normalize: true, scaleEach: true });
    expect(r(each)).toEqual([0, 0.25, 0, 1 / 3, 0.5, 1, 2 / 3, 1].map((v) => +v.toFixed(5)));
    for (const t of [x, byRange, byMinMax, each]) t.dispose();
  });

  it('returns a single image unpadded, with three channels', () => {
    const { t } = images(1, 2, 3);
    const g = kiln.utils.makeGrid(t, { padding: 4 });
    expect(g.shape).toEqual([3, 2, 3]);
    t.dispose();
    g.dispose();
  });

  it('rejects bad input and unknown options by name', () => {
    const { t } = images(2, 2, 2);
    expect(() => kiln.utils.makeGrid(t, { nrows: 2 } as never)).toThrow(/makeGrid: unknown option 'nrows'/);
    expect(() => kiln.utils.makeGrid(t, { nrow: 0 })).toThrow(/nrow: expected an integer >= 1/);
    expect(() => kiln.utils.makeGrid(t, { padding: -1 })).toThrow(/padding: expected an integer >= 0/);
    expect(() => kiln.utils.makeGrid(t, { normalize: true, valueRange: [1, 0] })).toThrow(/valueRange: expected \[low, high\]/);
    const two = kiln.zeros([2, 2, 4, 4]);
    expect(() => kiln.utils.makeGrid(two)).toThrow(/images: expected 1, 3 or 4 channels, got 2/);
    const ints = kiln.zeros([2, 1, 4, 4], { dtype: 'int32' });
    expect(() => kiln.utils.makeGrid(ints)).toThrow(/images: expected a float32 tensor/);
    for (const x of [t, two, ints]) x.dispose();
  });
});

describe('utils.saveImage', () => {
  it('writes a greyscale PNG whose bytes are round(255 v), clamped', async () => {
    const vals = [0, 0.5, 1, -0.2, 1.7, 0.1, 0.999, 0.002];
    const x = kiln.tensor(new Float32Array(vals), { shape: [2, 1, 2, 2] });
    const file = join(dir, 'grid.png');
    await kiln.utils.saveImage(x, file, { padding: 1 });
    const png = PNG.sync.read(readFileSync(file));
    expect([png.width, png.height]).toEqual([2 * 3 + 1, 2 + 2]);
    expect(png.colorType).toBe(0);
    const px = (yy: number, xx: number) => png.data[(yy * png.width + xx) * 4];
    const want = vals.map((v) => Math.min(255, Math.max(0, Math.floor(v * 255 + 0.5))));
    // image 0 at (1, 1), image 1 at (1, 4); padding 0
    expect([px(1, 1), px(1, 2), px(2, 1), px(2, 2)]).toEqual(want.slice(0, 4));
    expect([px(1, 4), px(1, 5), px(2, 4), px(2, 5)]).toEqual(want.slice(4));
    expect([px(0, 0), px(3, 6), px(1, 3)]).toEqual([0, 0, 0]);
    // encodePng gives the same bytes
    expect(Buffer.from(kiln.utils.encodePng(x, { padding: 1 })).equals(readFileSync(file))).toBe(true);
    x.dispose();
  });

  it('writes three-channel images as RGB', async () => {
    const x = kiln.tensor(new Float32Array([1, 0, 0.5]), { shape: [1, 3, 1, 1] });
    const file = join(dir, 'rgb.png');
    await kiln.utils.saveImage(x, file);
    const png = PNG.sync.read(readFileSync(file));
    expect(png.colorType).toBe(2);
    expect(Array.from(png.data.subarray(0, 4))).toEqual([255, 0, 128, 255]);
    x.dispose();
  });

  it('rejects a missing path', async () => {
    const x = kiln.zeros([1, 1, 2, 2]);
    await expect(kiln.utils.saveImage(x, '')).rejects.toThrow(/path: expected a file name/);
    x.dispose();
  });
});
