/**
 * Transforms: functions from a tensor (or batch) to a tensor (or batch).
 *
 *   const t = new Compose([(x) => x.div(255), new Normalize(0.2860, 0.3530)]);
 *   const y = t.apply(x);
 */
import { KilnError } from '../errors.js';
import { tensor } from '../creation.js';
import { Tensor } from '../tensor.js';
import { type HostTensor, isHostTensor } from './host.js';
import { normalizeHost, specOf, type TransformSpec } from './host-transforms.js';
import type { ItemContext } from './seeded.js';

export { RandomCrop, RandomHorizontalFlip, ToFloat32 } from './host-transforms.js';
export type { HostTransform, TransformSpec } from './host-transforms.js';

export type TransformFn<I = Tensor, O = Tensor> = (x: I, ctx?: ItemContext) => O;
export type Transform<I = Tensor, O = Tensor> = TransformFn<I, O> | { apply(x: I, ctx?: ItemContext): O };

function run<I, O>(t: Transform<I, O>, x: I, ctx?: ItemContext): O {
  return typeof t === 'function' ? t(x, ctx) : t.apply(x, ctx);
}

/**
 * (x - mean) / std. Scalars apply to every element. Arrays apply per channel along `dim`;
 * by default dim -3 for tensors of 3 or more dims ([C, H, W] or [N, C, H, W], as
 * torchvision), else the last dim (per-feature statistics for [N, F]). Returns a new tensor.
 */
export function normalize(x: Tensor, mean: number | number[], std: number | number[], opts: { dim?: number } = {}): Tensor {
  if (x.dtype !== 'float32') throw new KilnError(`normalize: expected a float32 tensor, got ${x.dtype}`);
  const stds = Array.isArray(std) ? std : [std];
  for (const s of stds) if (!(Number.isFinite(s) && s !== 0)) throw new KilnError(`normalize: std must be finite and non-zero, got ${s}`);
  if (!Array.isArray(mean) && !Array.isArray(std)) {
    const c = x.sub(mean);
    const out = c.div(std);
    c.dispose();
    return out;
  }
  const means = Array.isArray(mean) ? mean : null;
  const C = Math.max(means?.length ?? 1, stds.length);
  if ((means && means.length !== C && means.length !== 1) || (stds.length !== C && stds.length !== 1)) {
    throw new KilnError(`normalize: mean has ${means ? means.length : 1} values, std ${stds.length}; they must match (or be scalars)`);
  }
  const nd = x.shape.length;
  let dim = opts.dim ?? (nd >= 3 ? -3 : -1);
  if (dim < 0) dim += nd;
  if (dim < 0 || dim >= nd) throw new KilnError(`normalize: dim ${opts.dim ?? -3} out of range for a tensor of ${nd} dims`);
  if (x.shape[dim] !== C) {
    throw new KilnError(`normalize: ${C} channel values but dim ${dim} of shape [${x.shape.join(', ')}] has size ${x.shape[dim]}`);
  }
  const bshape = [C, ...new Array<number>(nd - dim - 1).fill(1)];
  const m = new Float32Array(C);
  const r = new Float32Array(C);
  for (let c = 0; c < C; c++) {
    m[c] = means ? means[means.length === 1 ? 0 : c] : (mean as number);
    r[c] = 1 / stds[stds.length === 1 ? 0 : c];
  }
  const mt = tensor(m, { shape: bshape, device: x.device });
  const rt = tensor(r, { shape: bshape, device: x.device });
  const c = x.sub(mt);
  const out = c.mul(rt);
  c.dispose();
  mt.dispose();
  rt.dispose();
  return out;
}

/**
 * normalize as a reusable transform object. It also takes a HostTensor item ({ data, shape },
 * in a dataset's get(), also in DataLoader workers), with the same channel rule.
 */
export class Normalize {
  constructor(readonly mean: number | number[], readonly std: number | number[], readonly opts: { dim?: number } = {}) {}
  apply(x: Tensor): Tensor;
  apply(x: HostTensor): HostTensor;
  apply(x: Tensor | HostTensor): Tensor | HostTensor {
    if (x instanceof Tensor) return normalize(x, this.mean, this.std, this.opts);
    if (!isHostTensor(x)) throw new KilnError('Normalize: expected a Tensor or a { data, shape } item');
    if (this.opts.dim !== undefined) throw new KilnError('Normalize: the dim option applies to tensors only');
    return normalizeHost(x, this.mean, this.std);
  }
  toSpec(): TransformSpec {
    return { name: 'Normalize', args: [this.mean, this.std, this.opts] };
  }
}

/**
 * One-hot encoding: int32 class ids of any shape [...] -> float32 [..., numClasses].
 * numClasses defaults to max(label) + 1. A label outside [0, numClasses) is a KilnError.
 */
export function oneHot(labels: Tensor, numClasses?: number): Tensor {
  if (labels.dtype !== 'int32') throw new KilnError(`oneHot: expected int32 class ids, got ${labels.dtype}`);
  const ids = labels.toTypedArray();
  let C = numClasses;
  if (C === undefined) {
    let mx = -1;
    for (const v of ids) if (v > mx) mx = v;
    C = mx + 1;
  } else if (!Number.isInteger(C) || C < 1) {
    throw new KilnError(`oneHot: numClasses must be a positive integer, got ${String(C)}`);
  }
  const out = new Float32Array(ids.length * C);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i];
    if (v < 0 || v >= C) throw new KilnError(`oneHot: label ${v} at flat index ${i} is outside [0, ${C})`);
    out[i * C + v] = 1;
  }
  return tensor(out, { dtype: 'float32', shape: [...labels.shape, C], device: labels.device });
}

/**
 * Apply transforms in order. With tensors, intermediate results (not the input, not the
 * output) are disposed as soon as the next transform has used them.
 */
export class Compose<I = Tensor, O = Tensor> {
  readonly transforms: Transform<any, any>[];

  constructor(transforms: Transform<any, any>[]) {
    if (!Array.isArray(transforms)) throw new KilnError('Compose: expected an array of transforms');
    transforms.forEach((t, k) => {
      if (typeof t !== 'function' && !(t && typeof (t as { apply?: unknown }).apply === 'function')) {
        throw new KilnError(`Compose: transform ${k} is neither a function nor an object with apply()`);
      }
    });
    this.transforms = transforms;
  }

  apply(x: I, ctx?: ItemContext): O {
    let cur: unknown = x;
    for (const t of this.transforms) {
      const next = run(t, cur, ctx);
      if (cur !== x && cur !== next && cur instanceof Tensor && !cur.isDisposed) cur.dispose();
      cur = next;
    }
    return cur as O;
  }

  /** The composition as a plain function. */
  get fn(): (x: I, ctx?: ItemContext) => O {
    return (x: I, ctx?: ItemContext) => this.apply(x, ctx);
  }

  /** For DataLoader workers: defined when every transform describes itself. */
  toSpec(): TransformSpec | undefined {
    const specs = this.transforms.map(specOf);
    return specs.every((x) => x !== undefined) ? { name: 'Compose', args: [specs] } : undefined;
  }
}

/** compose(f, g, h)(x) = h(g(f(x))), with Compose's disposal of intermediates. */
export function compose<I = Tensor, O = Tensor>(...transforms: Transform<any, any>[]): (x: I) => O {
  return new Compose<I, O>(transforms).fn;
}
