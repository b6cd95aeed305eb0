/**
 * ArrayDataset: a dataset over typed arrays in host memory, with per-item transforms that run
 * in plain JS. Item i holds row i of every field (a number for a 1-D field, else a HostTensor
 * view of the row, then the field's transform). DataLoader workers share its arrays through
 * SharedArrayBuffers (copied once, on the first epoch with workers) instead of copying them.
 * No tensor dependency.
 */
import { KilnError } from '../errors.js';
import { Dataset, checkIndex } from './dataset-base.js';
import { type HostArray, type HostTensor, hostTensor } from './host.js';
import { type HostTransform, type TransformSpec, specOf, transformFromSpec } from './host-transforms.js';
import type { ItemContext } from './seeded.js';
import type { WorkerSpec } from './worker-spec.js';

export type Fields = HostTensor[] | Record<string, HostTensor>;
/** An item transform: a HostTransform (workers can rebuild it), or a function (this thread only). */
export type ItemTransform = HostTransform | ((x: HostTensor, ctx?: ItemContext) => unknown);
type FieldTransforms = (ItemTransform | undefined | null)[] | Record<string, ItemTransform | undefined | null>;

export interface ArrayDatasetOptions {
  /** Per-field item transforms, by position (array fields) or by name (record fields). */
  transforms?: FieldTransforms;
}

export class ArrayDataset extends Dataset<unknown> {
  readonly names: string[] | null;
  readonly fields: HostTensor[];
  readonly transforms: (ItemTransform | undefined)[];
  readonly #n: number;
  #shared: HostTensor[] | null = null;

  constructor(fields: Fields, opts: ArrayDatasetOptions = {}) {
    super();
    const list = Array.isArray(fields) ? fields : Object.values(fields ?? {});
    this.names = Array.isArray(fields) ? null : Object.keys(fields ?? {});
    if (list.length === 0) throw new KilnError('ArrayDataset: expected at least one field');
    this.fields = list.map((f, k) => {
      const name = this.names ? `'${this.names[k]}'` : k;
      if (!f || typeof f !== 'object') throw new KilnError(`ArrayDataset: field ${name} must be { data, shape }`);
      const t = hostTensor(f.data, f.shape);
      if (t.shape.length === 0) throw new KilnError(`ArrayDataset: field ${name} is a scalar; expected at least one dim`);
      return t;
    });
    this.#n = this.fields[0].shape[0];
    this.fields.forEach((f, k) => {
      if (f.shape[0] !== this.#n) throw new KilnError(`ArrayDataset: fields must share dim 0: field 0 has ${this.#n} rows, field ${k} has ${f.shape[0]}`);
    });
    const tr = opts.transforms ?? [];
    this.transforms = this.fields.map((_, k) => {
      const t = Array.isArray(tr) ? tr[k] : this.names ? (tr as Record<string, ItemTransform | undefined>)[this.names[k]] : undefined;
      if (t != null && typeof t !== 'function' && typeof (t as HostTransform).apply !== 'function') {
        throw new KilnError(`ArrayDataset: the transform of field ${k} is neither a function nor an object with apply()`);
      }
      return t ?? undefined;
    });
  }

  get length(): number {
    return this.#n;
  }

  /** Row i of each field (numbers for 1-D fields, HostTensor views otherwise), transformed. */
  get(i: number, ctx?: ItemContext): unknown {
    checkIndex(i, this.#n, 'ArrayDataset.get');
    const vals = this.fields.map((f, k) => {
      let v: number | HostTensor;
      if (f.shape.length === 1) v = f.data[i];
      else {
        const rowShape = f.shape.slice(1);
        const per = rowShape.reduce((a, d) => a * d, 1);
        v = { data: f.data.subarray(i * per, (i + 1) * per) as HostArray, shape: rowShape };
      }
      const t = this.transforms[k];
      if (!t) return v;
      return typeof t === 'function' ? t(v as HostTensor, ctx) : t.apply(v as HostTensor, ctx);
    });
    if (!this.names) return vals;
    const out: Record<string, unknown> = {};
    this.names.forEach((nm, k) => { out[nm] = vals[k]; });
    return out;
  }

  /** The fields copied into SharedArrayBuffers (once), so workers read them without a copy. */
  shared(): HostTensor[] {
    this.#shared ??= this.fields.map((f) => {
      if (f.data.buffer instanceof SharedArrayBuffer) return f;
      const C = f.data.constructor as new (b: SharedArrayBuffer) => HostArray;
      const data = new C(new SharedArrayBuffer(f.data.byteLength));
      data.set(f.data as never);
      return { data, shape: f.shape };
    });
    return this.#shared;
  }

  override workerSpec(): WorkerSpec {
    const transforms = this.transforms.map((t, k) => {
      if (!t) return null;
      const spec = specOf(t);
      if (!spec) {
        throw new KilnError(
          `ArrayDataset: the transform of field ${k} cannot be sent to a DataLoader worker (a function, or an object without toSpec()); ` +
            "use Kiln's item transforms (RandomCrop, RandomHorizontalFlip, ToFloat32, Normalize, Compose of these) or a dataset module (workerSpec)",
        );
      }
      return spec;
    });
    return { kiln: 'arrays', names: this.names, fields: this.shared(), transforms };
  }

  /** Rebuild from a spec (in a worker). */
  static fromSpec(names: string[] | null, fields: HostTensor[], transforms: (TransformSpec | null)[]): ArrayDataset {
    const f: Fields = names ? Object.fromEntries(names.map((n, k) => [n, fields[k]])) : fields;
    const t = transforms.map((s) => (s ? transformFromSpec(s) : undefined));
    return new ArrayDataset(f, { transforms: names ? Object.fromEntries(names.map((n, k) => [n, t[k]])) : t });
  }
}
