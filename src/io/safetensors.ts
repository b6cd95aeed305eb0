/**
 * Checkpoints as safetensors files: `kiln.save(obj, path)` / `kiln.load(path)`.
 *
 * `save` takes either a flat record of tensors (a state dict: written as a plain safetensors
 * file any safetensors reader loads as is) or a nested object such as
 * `{ model: model.stateDict(), optimizer: opt.stateDict(), epoch: 3 }`. A nested object is
 * flattened: each tensor is stored under its '.'-joined key path ('model.fc.weight',
 * 'optimizer.state.0.expAvg'), and the object's shape, with every non-tensor value (numbers,
 * strings, booleans, null, arrays, plain objects), is stored as JSON in the header metadata
 * under the key 'kiln.tree'. `load` rebuilds the same shape of object.
 *
 * Files are written atomically (atomic.ts): a crash mid-save leaves the previous checkpoint.
 * Tensors are written one at a time, so saving never holds a second copy of the whole model.
 *
 * Every tensor `load` and `parseSafetensors` return is new and belongs to the caller
 * (freed by dispose() or kiln.scope).
 */
import { checkOptions } from '../options.js';
import { readFile } from 'node:fs/promises';
import { KilnError, check } from '../errors.js';
import { parseDevice } from '../device.js';
import { native } from '../native.js';
import { contiguous, disposeTemp, empty } from '../ops/util.js';
import { Tensor } from '../tensor.js';
import type { DeviceLike } from '../device.js';
import { tensor } from '../creation.js';
import { atomicWrite, writeAll } from './atomic.js';
import { jsonDepth } from './limits.js';
import {
  decodeTensorBytes,
  encodeSafetensors,
  layoutSafetensors,
  littleEndianBytes,
  parseHeader,
  type HostArray,
  type KilnDType,
} from './safetensors-format.js';

/** Metadata key holding the structure of a nested checkpoint. */
export const TREE_KEY = 'kiln.tree';
/** Deepest nesting save() writes and load() reads in a checkpoint's structure. */
export const MAX_TREE_DEPTH = 256;

export interface SaveOptions {
  /** String key/value pairs stored in the header's `__metadata__`. */
  metadata?: Record<string, string>;
}

export interface LoadOptions {
  /** Device of the returned tensors. Default 'cpu'. */
  device?: DeviceLike;
}

/** float32/int32 values, or a bfloat16 tensor's raw bits (written as BF16 without rounding). */
function hostArray(t: Tensor): HostArray {
  return t.dtype === 'bfloat16' ? bf16Bits(t) : (t.toTypedArray() as HostArray);
}

/** Writing supports float32, bfloat16 and int32 (the format module's rule); float64 is refused, not narrowed. */
function checkWritable(name: string, t: Tensor, what: string): void {
  if (t.dtype === 'float64') {
    throw new KilnError(`${what}: tensor '${name}' is float64; Kiln writes float32, bfloat16 and int32 safetensors (cast it with .float())`);
  }
}

function makeTensor(data: HostArray, dtype: KilnDType, shape: number[], device?: DeviceLike): Tensor {
  if (dtype !== 'bfloat16') return tensor(data as Float32Array | Int32Array, { dtype, shape, device });
  // the stored bits as they are (bfloat16 storage lives on the CPU)
  check(parseDevice(device) === 'cpu', 'device: bfloat16 tensors are CPU-only for now (load to the CPU, then cast with float())');
  const t = empty(shape, 'bfloat16', 'cpu');
  if (data.length > 0) native.write(t.storage.handle, 0, data);
  return t;
}

/** Encode a flat record of tensors as one safetensors file in memory. */
export function serializeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const host: Record<string, { dtype: KilnDType; shape: number[]; data: HostArray }> = {};
  for (const [name, t] of Object.entries(tensors)) {
    if (!(t instanceof Tensor)) throw new KilnError(`serializeSafetensors: value for '${name}' is not a Tensor`);
    checkWritable(name, t, 'serializeSafetensors');
    host[name] = { dtype: t.dtype as KilnDType, shape: [...t.shape], data: hostArray(t) };
  }
  return encodeSafetensors(host, metadata);
}

/**
 * Parse a safetensors file held in memory. Dtypes are converted to float32/int32 by the rule
 * in safetensors-format.ts. `file` names the source in errors.
 */
export function parseSafetensors(
  buf: Uint8Array,
  opts: LoadOptions & { file?: string } = {},
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const file = opts.file ?? '<buffer>';
  const h = parseHeader(buf, file);
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [name, e] of h.entries) {
      const bytes = buf.subarray(h.dataStart + e.dataOffsets[0], h.dataStart + e.dataOffsets[1]);
      const d = decodeTensorBytes(name, e, bytes, file);
      tensors[name] = makeTensor(d.data, d.dtype, d.shape, opts.device);
    }
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw err;
  }
  return { tensors, metadata: h.metadata };
}

/** Read a safetensors file: its tensors (flat, by stored name) and its metadata. */
export async function readSafetensors(
  path: string,
  opts: LoadOptions = {},
): Promise<{ tensors: Record<string, Tensor>; metadata: Record<string, string> }> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new KilnError(`${path}: cannot read checkpoint (${(e as Error).message})`);
  }
  return parseSafetensors(buf, { ...opts, file: path });
}

/** The raw bits of a bfloat16 tensor, row-major. */
function bf16Bits(t: Tensor): Uint16Array {
  const out = new Uint16Array(t.numel);
  if (t.numel === 0) return out;
  const c = contiguous(t);
  native.read(c.storage.handle, c.offset, out);
  disposeTemp(c, t);
  return out;
}

// ---- nested objects <-> flat tensors + JSON tree ------------------------------------------

// In the tree, a string starting with '$' is a marker: '$t:<name>' a tensor, '$n:<NaN|Infinity|
// -Infinity>' a non-finite number, '$u' undefined in an array; a user string starting with '$'
// is stored with one more '$' in front.
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

function isFlatTensorRecord(obj: unknown): obj is Record<string, Tensor> {
  return isPlainObject(obj) && Object.values(obj).every((v) => v instanceof Tensor);
}

function flatten(obj: unknown, tensors: Map<string, Tensor>): unknown {
  const walk = (v: unknown, path: string[]): unknown => {
    const where = () => (path.length ? `'${path.join('.')}'` : 'the top level');
    if (path.length > MAX_TREE_DEPTH) {
      throw new KilnError(`save: the object nests deeper than ${MAX_TREE_DEPTH} levels at '${path.slice(0, 8).join('.')}...' (does it contain itself?)`);
    }
    if (v instanceof Tensor) {
      const name = path.join('.');
      if (tensors.has(name)) throw new KilnError(`save: two tensors flatten to the same name '${name}'`);
      tensors.set(name, v);
      return `$t:${name}`;
    }
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : `$n:${String(v)}`;
    if (typeof v === 'string') return v.startsWith('$') ? `$${v}` : v;
    if (Array.isArray(v)) return v.map((x, i) => (x === undefined ? '$u' : walk(x, [...path, String(i)])));
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        out[k] = walk(x, [...path, k]);
      }
      return out;
    }
    const kind = typeof v === 'object' ? (v as object).constructor?.name ?? 'object' : typeof v;
    throw new KilnError(`save: cannot store a value of type ${kind} at ${where()} (tensors, numbers, strings, booleans, null, arrays and plain objects can be saved)`);
  };
  return walk(obj, []);
}

function unflatten(tree: unknown, tensors: Record<string, Tensor>, used: Set<string>, file: string): unknown {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (!v.startsWith('$')) return v;
      if (v.startsWith('$$')) return v.slice(1);
      if (v.startsWith('$t:')) {
        const name = v.slice(3);
        const t = tensors[name];
        if (!t) throw new KilnError(`${file}: checkpoint structure refers to tensor '${name}', which the file does not contain`);
        used.add(name);
        return t;
      }
      if (v.startsWith('$n:')) return Number(v.slice(3));
      if (v === '$u') return undefined;
      throw new KilnError(`${file}: bad marker '${v}' in the checkpoint structure`);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  return walk(tree);
}

/**
 * Save a checkpoint atomically. `obj` is a flat record of tensors or a nested object of
 * tensors and JSON values (see the module comment). `opts.metadata` is stored in the header.
 */
export async function save(obj: unknown, path: string, opts: SaveOptions = {}): Promise<void> {
  checkOptions(opts, ['metadata'], 'save');
  const metadata: Record<string, string> = { ...(opts.metadata ?? {}) };
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new KilnError(`save: metadata value for '${k}' must be a string, got ${typeof v}`);
  }
  let tensors: Map<string, Tensor>;
  if (isFlatTensorRecord(obj)) {
    tensors = new Map(Object.entries(obj));
  } else {
    if (!isPlainObject(obj) && !Array.isArray(obj)) {
      throw new KilnError(`save: expected a record of tensors or a plain object, got ${obj === null ? 'null' : typeof obj}`);
    }
    if (TREE_KEY in metadata) throw new KilnError(`save: metadata key '${TREE_KEY}' is reserved`);
    tensors = new Map();
    metadata[TREE_KEY] = JSON.stringify(flatten(obj, tensors));
  }
  for (const [name, t] of tensors) {
    if (t.isDisposed) throw new KilnError(`save: tensor '${name}' has been disposed`);
    checkWritable(name, t, 'save');
  }
  const entries = [...tensors].map(([name, t]) => [name, { dtype: t.dtype as KilnDType, shape: [...t.shape] }] as [string, { dtype: KilnDType; shape: number[] }]);
  const layout = layoutSafetensors(entries, metadata);
  const list = [...tensors.values()];
  await atomicWrite(path, async (fh) => {
    await writeAll(fh, layout.header);
    for (let i = 0; i < list.length; i++) {
      const data = hostArray(list[i]);
      if (data.byteLength !== layout.sizes[i]) {
        throw new KilnError(`save: tensor '${entries[i][0]}' produced ${data.byteLength} bytes, expected ${layout.sizes[i]}`);
      }
      await writeAll(fh, littleEndianBytes(data));
    }
  });
}

/**
 * Load a checkpoint written by `save` (or any safetensors file). Returns the same shape of
 * object `save` took: a flat record of tensors when it was saved flat (or written by another
 * tool), else the nested object with its non-tensor values.
 */
export async function load(path: string, opts: LoadOptions = {}): Promise<any> {
  checkOptions(opts, ['device'], 'load');
  const { tensors, metadata } = await readSafetensors(path, opts);
  const treeJson = metadata[TREE_KEY];
  if (treeJson === undefined) return tensors;
  let tree: unknown;
  try {
    if (jsonDepth(treeJson, MAX_TREE_DEPTH) > MAX_TREE_DEPTH) throw new Error(`it nests deeper than ${MAX_TREE_DEPTH} levels`);
    tree = JSON.parse(treeJson);
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw new KilnError(`${path}: metadata '${TREE_KEY}' is not valid JSON (${(e as Error).message})`);
  }
  const used = new Set<string>();
  let out: unknown;
  try {
    out = unflatten(tree, tensors, used, path);
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  // Tensors the structure does not mention are not returned; free them.
  for (const [name, t] of Object.entries(tensors)) if (!used.has(name)) t.dispose();
  return out;
}
