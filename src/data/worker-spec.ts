/**
 * How a DataLoader worker gets its dataset: a JS object cannot cross threads, so a dataset
 * describes itself (Dataset.workerSpec) and the worker rebuilds it.
 *
 *   { kiln: 'arrays', ... }     an ArrayDataset (TensorDataset sends its tensors this way),
 *                               its arrays in SharedArrayBuffers, its transforms as specs
 *   { kiln: 'subset', ... }     a Subset (randomSplit) of another spec
 *   { module, export, args }    a user dataset: the worker imports `module` (a file URL or a
 *                               package name), takes `export` (default 'default'), and builds
 *                               `new Export(...args)` when it is a class, else awaits
 *                               `Export(...args)`. args must survive structured cloning.
 *
 * The worker never loads Kiln's native addon (not yet safe in worker threads): a user module
 * must not import 'kiln' itself (use 'kiln/data-host'), and items hold numbers and typed arrays.
 */
import { KilnError } from '../errors.js';
import { ArrayDataset } from './array-dataset.js';
import { Dataset, Subset } from './dataset-base.js';
import type { HostTensor } from './host.js';
import type { TransformSpec } from './host-transforms.js';

export type WorkerSpec =
  | { kiln: 'arrays'; names: string[] | null; fields: HostTensor[]; transforms: (TransformSpec | null)[] }
  | { kiln: 'subset'; indices: Int32Array; dataset: WorkerSpec }
  | { module: string; export?: string; args?: unknown[] };

/** What a worker needs of a dataset. */
export interface HostDataset {
  readonly length: number;
  get(i: number, ctx?: unknown): unknown;
}

function isClass(f: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(f));
}

/** Build the dataset a spec describes (in a worker). */
export async function buildDataset(spec: WorkerSpec): Promise<HostDataset> {
  if ('kiln' in spec) {
    if (spec.kiln === 'arrays') return ArrayDataset.fromSpec(spec.names, spec.fields, spec.transforms);
    if (spec.kiln === 'subset') return new Subset((await buildDataset(spec.dataset)) as Dataset<unknown>, spec.indices);
    throw new KilnError(`DataLoader worker: unknown dataset spec kind ${String((spec as { kiln: unknown }).kiln)}`);
  }
  if (typeof spec.module !== 'string') throw new KilnError('workerSpec: module must be a string (a file URL or a package name)');
  const name = spec.export ?? 'default';
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const make = mod[name];
  if (typeof make !== 'function') throw new KilnError(`workerSpec: module ${spec.module} has no export '${name}' that is a class or function`);
  const args = spec.args ?? [];
  const ds = (isClass(make) ? new (make as new (...a: unknown[]) => unknown)(...args) : await (make as (...a: unknown[]) => unknown)(...args)) as HostDataset;
  if (!ds || typeof ds.get !== 'function' || typeof ds.length !== 'number') {
    throw new KilnError(`workerSpec: ${spec.module} '${name}' did not give a dataset (an object with length and get(i))`);
  }
  return ds;
}
