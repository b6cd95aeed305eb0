/**
 * Item transforms over HostTensors (plain JS over typed arrays), for per-item augmentation in
 * a dataset's get(): they run in DataLoader workers as well as in the main thread. Each one
 * describes itself (toSpec) so that a worker can rebuild it (transformFromSpec).
 *
 *   new ArrayDataset([images, labels], { transforms: [new Compose([
 *     new RandomCrop(28, { padding: 2 }), new RandomHorizontalFlip(), new ToFloat32(1 / 255),
 *     new Normalize(0.2860, 0.3530)]) ] })
 *
 * Images are [C, H, W] or [H, W]. Randomness comes from the ItemContext the loader passes,
 * so an item's augmentation is fixed by (loader seed, epoch, index).
 */
import { KilnError } from '../errors.js';
import { type HostTensor, isHostTensor } from './host.js';
import type { ItemContext } from './seeded.js';

/** A transform a worker can rebuild: its registered name and constructor arguments. */
export interface TransformSpec {
  name: string;
  args: unknown[];
}

export interface HostTransform {
  apply(x: HostTensor, ctx?: ItemContext): HostTensor;
  toSpec(): TransformSpec;
}

function need(x: unknown, what: string): HostTensor {
  if (!isHostTensor(x)) throw new KilnError(`${what}: expected a { data, shape } item (a HostTensor), got ${x === null ? 'null' : typeof x}`);
  return x;
}

function rand(ctx: ItemContext | undefined): number {
  return ctx ? ctx.random() : Math.random();
}

/** [C, H, W] view of an image shape (C = 1 for [H, W]). */
function chw(x: HostTensor, what: string): [number, number, number] {
  const s = x.shape;
  if (s.length === 2) return [1, s[0], s[1]];
  if (s.length === 3) return [s[0], s[1], s[2]];
  throw new KilnError(`${what}: expected an image [C, H, W] or [H, W], got shape [${s.join(', ')}]`);
}

/** Pad by `padding` on every side (with `fill`), then crop a random size[0] x size[1] window. */
export class RandomCrop implements HostTransform {
  readonly size: [number, number];
  readonly padding: number;
  readonly fill: number;

  constructor(size: number | [number, number], opts: { padding?: number; fill?: number } = {}) {
    const s: [number, number] = typeof size === 'number' ? [size, size] : size;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => Number.isInteger(d) && d > 0)) {
      throw new KilnError(`RandomCrop: size must be a positive integer or [h, w], got ${String(size)}`);
    }
    const padding = opts.padding ?? 0;
    if (!Number.isInteger(padding) || padding < 0) throw new KilnError(`RandomCrop: padding must be a non-negative integer, got ${String(padding)}`);
    const fill = opts.fill ?? 0;
    if (!Number.isFinite(fill)) throw new KilnError(`RandomCrop: fill must be a finite number, got ${String(fill)}`);
    this.size = s;
    this.padding = padding;
    this.fill = fill;
  }

  apply(x: HostTensor, ctx?: ItemContext): HostTensor {
    need(x, 'RandomCrop');
    const [C, H, W] = chw(x, 'RandomCrop');
    const [h, w] = this.size;
    const p = this.padding;
    if (h > H + 2 * p || w > W + 2 * p) {
      throw new KilnError(`RandomCrop: crop ${h}x${w} is larger than the padded image ${H + 2 * p}x${W + 2 * p}`);
    }
    const top = Math.floor(rand(ctx) * (H + 2 * p - h + 1)) - p;
    const left = Math.floor(rand(ctx) * (W + 2 * p - w + 1)) - p;
    const src = x.data;
    const out = new (src.constructor as new (n: number) => typeof src)(C * h * w);
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < h; i++) {
        const y = top + i;
        const o = (c * h + i) * w;
        if (y < 0 || y >= H) {
          out.fill(this.fill, o, o + w);
          continue;
        }
        const row = (c * H + y) * W;
        for (let j = 0; j < w; j++) {
          const xx = left + j;
          out[o + j] = xx >= 0 && xx < W ? src[row + xx] : this.fill;
        }
      }
    }
    return { data: out, shape: x.shape.length === 2 ? [h, w] : [C, h, w] };
  }

  toSpec(): TransformSpec {
    return { name: 'RandomCrop', args: [this.size, { padding: this.padding, fill: this.fill }] };
  }
}

/** Mirror left-right with probability p. */
export class RandomHorizontalFlip implements HostTransform {
  constructor(readonly p = 0.5) {
    if (!(p >= 0 && p <= 1)) throw new KilnError(`RandomHorizontalFlip: p must be in [0, 1], got ${String(p)}`);
  }

  apply(x: HostTensor, ctx?: ItemContext): HostTensor {
    need(x, 'RandomHorizontalFlip');
    const [C, H, W] = chw(x, 'RandomHorizontalFlip');
    if (rand(ctx) >= this.p) return x;
    const src = x.data;
    const out = new (src.constructor as new (n: number) => typeof src)(src.length);
    for (let r = 0; r < C * H; r++) {
      const o = r * W;
      for (let j = 0; j < W; j++) out[o + j] = src[o + W - 1 - j];
    }
    return { data: out, shape: [...x.shape] };
  }

  toSpec(): TransformSpec {
    return { name: 'RandomHorizontalFlip', args: [this.p] };
  }
}

/** Float32 copy times `scale` (ToFloat32(1 / 255) maps bytes to [0, 1], as ToTensor does). */
export class ToFloat32 implements HostTransform {
  constructor(readonly scale = 1) {
    if (!Number.isFinite(scale)) throw new KilnError(`ToFloat32: scale must be a finite number, got ${String(scale)}`);
  }

  apply(x: HostTensor): HostTensor {
    need(x, 'ToFloat32');
    const src = x.data;
    const out = new Float32Array(src.length);
    const s = this.scale;
    for (let i = 0; i < src.length; i++) out[i] = src[i] * s;
    return { data: out, shape: [...x.shape] };
  }

  toSpec(): TransformSpec {
    return { name: 'ToFloat32', args: [this.scale] };
  }
}

/**
 * (x - mean) / std on a HostTensor, with the channel rule of kiln.data.normalize: scalars
 * apply everywhere; arrays apply along dim -3 for 3+ dims ([C, H, W]), else the last dim.
 * Computed in float32 as the tensor version does: (x - m) * (1 / s).
 */
export function normalizeHost(x: HostTensor, mean: number | number[], std: number | number[]): HostTensor {
  need(x, 'normalize');
  const means = Array.isArray(mean) ? mean : [mean];
  const stds = Array.isArray(std) ? std : [std];
  for (const s of stds) if (!(Number.isFinite(s) && s !== 0)) throw new KilnError(`normalize: std must be finite and non-zero, got ${s}`);
  const C = Math.max(means.length, stds.length);
  if ((means.length !== C && means.length !== 1) || (stds.length !== C && stds.length !== 1)) {
    throw new KilnError(`normalize: mean has ${means.length} values, std ${stds.length}; they must match (or be scalars)`);
  }
  const nd = x.shape.length;
  const dim = nd >= 3 ? nd - 3 : nd - 1;
  const src = x.data;
  const out = new Float32Array(src.length);
  if (C === 1 && !Array.isArray(mean) && !Array.isArray(std)) {
    // scalar: (x - m) / s, as the tensor version (sub then div)
    const m = Math.fround(mean);
    const s = Math.fround(std);
    for (let i = 0; i < src.length; i++) out[i] = Math.fround(Math.fround(Math.fround(src[i]) - m) / s);
    return { data: out, shape: [...x.shape] };
  }
  if (dim < 0 || x.shape[dim] !== C) {
    throw new KilnError(`normalize: ${C} channel values but shape [${x.shape.join(', ')}] has ${dim < 0 ? 'no channel dim' : `size ${x.shape[dim]} at dim ${dim}`}`);
  }
  let inner = 1;
  for (let k = dim + 1; k < nd; k++) inner *= x.shape[k];
  const m = Float32Array.from({ length: C }, (_, c) => means[means.length === 1 ? 0 : c]);
  const r = Float32Array.from({ length: C }, (_, c) => 1 / stds[stds.length === 1 ? 0 : c]);
  for (let i = 0; i < src.length; i++) {
    const c = Math.floor(i / inner) % C;
    out[i] = Math.fround(Math.fround(Math.fround(src[i]) - m[c]) * r[c]);
  }
  return { data: out, shape: [...x.shape] };
}

/** normalizeHost as a transform (kiln.data.Normalize also accepts HostTensors). */
export class HostNormalize implements HostTransform {
  constructor(readonly mean: number | number[], readonly std: number | number[]) {}
  apply(x: HostTensor): HostTensor {
    return normalizeHost(x, this.mean, this.std);
  }
  toSpec(): TransformSpec {
    return { name: 'Normalize', args: [this.mean, this.std] };
  }
}

/** Transforms in order, passing the item context along. */
export class HostCompose implements HostTransform {
  constructor(readonly transforms: HostTransform[]) {}
  apply(x: HostTensor, ctx?: ItemContext): HostTensor {
    let cur = x;
    for (const t of this.transforms) cur = t.apply(cur, ctx);
    return cur;
  }
  toSpec(): TransformSpec {
    return { name: 'Compose', args: [this.transforms.map((t) => t.toSpec())] };
  }
}

/** The spec of a transform a worker can rebuild, or undefined (a plain function, say). */
export function specOf(t: unknown): TransformSpec | undefined {
  const f = (t as { toSpec?: unknown } | null)?.toSpec;
  return typeof f === 'function' ? (f.call(t) as TransformSpec | undefined) : undefined;
}

/** Rebuild a transform from its spec (in a worker). */
export function transformFromSpec(spec: TransformSpec): HostTransform {
  const a = spec.args as any[];
  switch (spec.name) {
    case 'RandomCrop': return new RandomCrop(a[0], a[1]);
    case 'RandomHorizontalFlip': return new RandomHorizontalFlip(a[0]);
    case 'ToFloat32': return new ToFloat32(a[0]);
    case 'Normalize': {
      if (a[2] && (a[2] as { dim?: number }).dim !== undefined) throw new KilnError('Normalize: a dim option cannot be sent to a DataLoader worker');
      return new HostNormalize(a[0], a[1]);
    }
    case 'Compose': return new HostCompose((a[0] as TransformSpec[]).map(transformFromSpec));
    default: throw new KilnError(`DataLoader worker: unknown transform '${spec.name}'`);
  }
}
