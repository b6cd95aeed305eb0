// Running exported models in onnxruntime-node (a devDependency; tests skip when it is absent) and
// comparing them with Kiln's own forward pass.
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import * as kiln from '../../src/index.js';
import { trackedTensors } from '../helpers/memory.js';

type Ort = typeof import('onnxruntime-node');

export async function loadOrt(): Promise<Ort | null> {
  try {
    return await import('onnxruntime-node');
  } catch {
    return null;
  }
}

/** True when /usr/bin/python3 can import onnx (Debian's python3-onnx). */
export function hasPythonOnnx(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { encoding: 'utf8' });
  return r.status === 0;
}

/** onnx.checker.check_model(full_check=True) on each file, in one Python process: 'ok' or the error, per file. */
export function pythonCheck(paths: string[]): string[] {
  const code = [
    'import onnx, sys',
    'for p in sys.argv[1:]:',
    '    try:',
    '        onnx.checker.check_model(onnx.load(p), full_check=True)',
    "        print('ok')",
    '    except Exception as e:',
    "        print(repr(e).replace('\\n', ' '))",
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', code, ...paths], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n');
}

/** The tensors of forward's result, flattened in order. */
function flat(v: unknown, out: kiln.Tensor[] = []): kiln.Tensor[] {
  if (v instanceof kiln.Tensor) out.push(v);
  else if (Array.isArray(v)) for (const e of v) flat(e, out);
  return out;
}

/** Largest |a - b| over the largest |b|: the error relative to the output's scale. */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/**
 * Exports model on inputs[0], then runs the file in onnxruntime on every input set and compares
 * each output with Kiln's (shape exactly, values within tol relative to the output's scale).
 * Returns the largest relative error seen.
 */
export async function roundTrip(ort: Ort, model: kiln.nn.Module, inputSets: kiln.Tensor[][], opts: kiln.onnx.ExportOptions = {},
  tol = 1e-5): Promise<number> {
  model.eval();
  const before = trackedTensors();
  const bytes = kiln.onnx.exportBytes(model, inputSets[0], opts);
  expect(trackedTensors()).toBe(before);
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  let worst = 0;
  for (const inputs of inputSets) {
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    session.inputNames.forEach((name, i) => {
      const t = inputs[i];
      feeds[name] = new ort.Tensor(t.dtype === 'int32' ? 'int32' : 'float32', t.toTypedArray() as any, [...t.shape]);
    });
    const result = await session.run(feeds);
    const ref = kiln.noGrad(() => kiln.scope(() => flat(model.forward(...inputs)).map((t) => ({ shape: [...t.shape], dtype: t.dtype, data: t.toTypedArray() }))));
    expect(session.outputNames.length).toBe(ref.length);
    session.outputNames.forEach((name, k) => {
      const got = result[name];
      expect(got.dims.map(Number), `${name} shape`).toEqual(ref[k].shape);
      expect(got.type, `${name} dtype`).toBe(ref[k].dtype);
      const err = relError(got.data as Float32Array, ref[k].data);
      worst = Math.max(worst, err);
      expect(err, `${name}: relative error`).toBeLessThanOrEqual(tol);
    });
  }
  await session.release();
  return worst;
}
