// What a reader may do with any input: return a result that keeps the format's invariants and
// allocates no more than the input justifies, or throw a KilnError with a bounded message.
// Anything else (another error type, a broken invariant, a leaked tensor) throws here.
import { writeFileSync } from 'node:fs';
import { KilnError } from '../../src/errors.js';
import { Tensor } from '../../src/tensor.js';
import { isGzip, parseIdx } from '../../src/data/idx.js';
import { parseCsv, parseCsvTable } from '../../src/data/csv.js';
import { decodeSafetensors } from '../../src/io/safetensors-format.js';
import { load, parseSafetensors } from '../../src/io/safetensors.js';
import { trackedTensors } from '../helpers/memory.js';

export type Outcome = 'ok' | 'rejected';

/** Longest error message a reader may produce (besides the file name it quotes). */
const MAX_MESSAGE = 1500;

function fail(msg: string): never {
  throw new Error(`oracle: ${msg}`);
}

function run(fn: () => void): Outcome {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof KilnError) {
      if (e.message.length > MAX_MESSAGE) fail(`KilnError message of ${e.message.length} characters: ${e.message.slice(0, 200)}...`);
      return 'rejected';
    }
    throw e;
  }
}

async function runAsync(fn: () => Promise<void>): Promise<Outcome> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e instanceof KilnError) {
      if (e.message.length > MAX_MESSAGE) fail(`KilnError message of ${e.message.length} characters`);
      return 'rejected';
    }
    throw e;
  }
}

const numel = (shape: readonly number[]) => shape.reduce((a, d) => a * d, 1);

function disposeAll(v: unknown, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof Tensor) {
    if (!v.isDisposed) v.dispose();
    return;
  }
  for (const x of Array.isArray(v) ? v : Object.values(v)) disposeAll(x, seen);
}

/** safetensors: the pure decoder, then the tensor reader (which must leak nothing). */
export function checkSafetensors(bytes: Uint8Array): Outcome {
  const host = run(() => {
    const { tensors } = decodeSafetensors(bytes);
    let out = 0;
    for (const [name, t] of Object.entries(tensors)) {
      if (t.data.length !== numel(t.shape)) fail(`tensor '${name}': ${t.data.length} values for shape [${t.shape}]`);
      out += t.data.byteLength;
    }
    // I8/U8/BOOL widen to int32 (4x); nothing else grows.
    if (out > 4 * bytes.length) fail(`decoded ${out} bytes from a ${bytes.length}-byte file`);
  });
  const before = trackedTensors();
  const withTensors = run(() => {
    const { tensors } = parseSafetensors(bytes);
    for (const [name, t] of Object.entries(tensors)) {
      if (numel(t.shape) !== t.toTypedArray().length) fail(`tensor '${name}' shape/data mismatch`);
    }
    disposeAll(tensors);
  });
  if (trackedTensors() !== before) fail(`parseSafetensors leaked ${trackedTensors() - before} tensors`);
  if (host !== withTensors && !(host === 'ok' && withTensors === 'rejected')) fail(`decoder ${host}, tensor reader ${withTensors}`);
  return withTensors;
}

/** kiln.load on the bytes written to `path` (the nested-checkpoint path: kiln.tree metadata). */
export async function checkLoad(bytes: Uint8Array, path: string): Promise<Outcome> {
  writeFileSync(path, bytes);
  const before = trackedTensors();
  const outcome = await runAsync(async () => disposeAll(await load(path)));
  if (trackedTensors() !== before) fail(`load leaked ${trackedTensors() - before} tensors`);
  return outcome;
}

/** IDX: values match the shape; output is bounded by the file (or, gzipped, by its header). */
export function checkIdx(bytes: Uint8Array): Outcome {
  return run(() => {
    const r = parseIdx(bytes);
    if (r.data.length !== numel(r.shape)) fail(`${r.data.length} values for shape [${r.shape}]`);
    const bound = isGzip(bytes) ? 1032 * bytes.length + 1024 : bytes.length;
    if (r.data.byteLength > bound) fail(`${r.data.byteLength} bytes from a ${bytes.length}-byte file`);
  });
}

/** CSV: the table is rectangular and no bigger than the text's fields; tensors are freed. */
export function checkCsv(bytes: Uint8Array): Outcome {
  const text = new TextDecoder().decode(bytes);
  const lines = text.split(/\r\n|\r|\n/).length;
  const outcomes = [{}, { label: 0 }, { header: false, allowMissing: true }].map((opts) =>
    run(() => {
      const t = parseCsvTable(text, opts);
      if (t.features.length !== t.numRows * t.columns.length) fail(`features ${t.features.length} != ${t.numRows} x ${t.columns.length}`);
      if (t.numRows > lines) fail(`${t.numRows} rows from ${lines} lines`);
      if (t.features.length > text.length + 1) fail(`${t.features.length} values from ${text.length} characters`);
      if (t.labels && t.labels.length !== t.numRows) fail(`labels ${t.labels.length} != rows ${t.numRows}`);
    }),
  );
  const before = trackedTensors();
  const tensors = run(() => {
    const d = parseCsv(text, { label: 0 });
    d.features.dispose();
    d.labels?.dispose();
  });
  if (trackedTensors() !== before) fail('parseCsv leaked tensors');
  if (tensors !== outcomes[1]) fail(`parseCsvTable ${outcomes[1]}, parseCsv ${tensors}`);
  return outcomes[0];
}
