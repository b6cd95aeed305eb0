import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KilnError } from '../../src/errors.js';
import { tensor } from '../../src/creation.js';
import { Tensor } from '../../src/tensor.js';
import {
  save, load, serializeSafetensors, parseSafetensors, readSafetensors, TREE_KEY,
  encodeSafetensors, decodeSafetensors, parseSafetensorsHeader, halfToFloat,
} from '../../src/io/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'tests/fixtures/safetensors');

/** A safetensors file from a header object and a data buffer, header padded to 8 bytes. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), pad = true): Uint8Array {
  let h = new TextEncoder().encode(JSON.stringify(header));
  if (pad && h.length % 8) {
    const p = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    p.set(h);
    h = p;
  }
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32bytes(...v: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(v).buffer);
}

function hasPython(): boolean {
  try {
    return spawnSync('python3', ['--version']).status === 0;
  } catch {
    return false;
  }
}

function errOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('safetensors format (pure)', () => {
  it('encodes a header padded to 8 bytes, tensors back to back, and decodes it back', () => {
    const buf = encodeSafetensors(
      {
        w: { dtype: 'float32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
        idx: { dtype: 'int32', shape: [3], data: new Int32Array([-1, 0, 7]) },
        s: { dtype: 'float32', shape: [], data: new Float32Array([3.5]) },
        e: { dtype: 'float32', shape: [0, 4], data: new Float32Array(0) },
      },
      { note: 'hi' },
    );
    const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    expect(header.__metadata__).toEqual({ note: 'hi' });
    expect(header.w).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header.idx).toEqual({ dtype: 'I32', shape: [3], data_offsets: [24, 36] });
    expect(header.s).toEqual({ dtype: 'F32', shape: [], data_offsets: [36, 40] });
    expect(header.e).toEqual({ dtype: 'F32', shape: [0, 4], data_offsets: [40, 40] });
    expect(buf.length).toBe(8 + n + 40);

    const back = decodeSafetensors(buf);
    expect(back.metadata).toEqual({ note: 'hi' });
    expect(Array.from(back.tensors.w.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(back.tensors.idx.dtype).toBe('int32');
    expect(Array.from(back.tensors.idx.data)).toEqual([-1, 0, 7]);
    expect(back.tensors.s.shape).toEqual([]);
    expect(Array.from(back.tensors.s.data)).toEqual([3.5]);
    expect(back.tensors.e.shape).toEqual([0, 4]);
  });

  it('accepts an unpadded header and tensors stored out of order', () => {
    const data = new Uint8Array([...f32bytes(9), ...f32bytes(1, 2)]);
    const buf = rawFile({ b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data, false);
    const t = decodeSafetensors(buf).tensors;
    expect(Array.from(t.a.data)).toEqual([9]);
    expect(Array.from(t.b.data)).toEqual([1, 2]);
  });

  it('converts other dtypes by the stated rule', () => {
    const dv = (n: number, f: (d: DataView) => void) => {
      const b = new Uint8Array(n);
      f(new DataView(b.buffer));
      return b;
    };
    const f64 = dv(16, (d) => { d.setFloat64(0, 0.1, true); d.setFloat64(8, -2, true); });
    const f16 = dv(6, (d) => { d.setUint16(0, 0x3c00, true); d.setUint16(2, 0xc000, true); d.setUint16(4, 0x0001, true); });
    const bf16 = dv(4, (d) => { d.setUint16(0, 0x3f80, true); d.setUint16(2, 0xc020, true); });
    const i64 = dv(16, (d) => { d.setBigInt64(0, -5n, true); d.setBigInt64(8, 2147483647n, true); });
    const u8 = new Uint8Array([0, 200, 255]);
    const i8 = new Uint8Array([0xff, 0x7f]);
    const bool = new Uint8Array([1, 0, 2]);
    const parts = [f64, f16, bf16, i64, u8, i8, bool];
    const names = ['f64', 'f16', 'bf16', 'i64', 'u8', 'i8', 'bool'];
    const dtypes = ['F64', 'F16', 'BF16', 'I64', 'U8', 'I8', 'BOOL'];
    const shapes = [[2], [3], [2], [2], [3], [2], [3]];
    const header: Record<string, unknown> = {};
    let off = 0;
    parts.forEach((p, k) => {
      header[names[k]] = { dtype: dtypes[k], shape: shapes[k], data_offsets: [off, off + p.length] };
      off += p.length;
    });
    const data = new Uint8Array(off);
    off = 0;
    for (const p of parts) { data.set(p, off); off += p.length; }
    const t = decodeSafetensors(rawFile(header, data)).tensors;
    expect(t.f64.dtype).toBe('float32');
    expect(Array.from(t.f64.data)).toEqual([Math.fround(0.1), -2]);
    expect(t.f16.dtype).toBe('float32');
    expect(Array.from(t.f16.data)).toEqual([1, -2, Math.fround(2 ** -24)]);
    expect(t.bf16.dtype).toBe('bfloat16'); // the raw bits: 1 and -2.5
    expect(Array.from(t.bf16.data)).toEqual([0x3f80, 0xc020]);
    expect(t.i64.dtype).toBe('int32');
    expect(Array.from(t.i64.data)).toEqual([-5, 2147483647]);
    expect(Array.from(t.u8.data)).toEqual([0, 200, 255]);
    expect(Array.from(t.i8.data)).toEqual([-1, 127]);
    expect(Array.from(t.bool.data)).toEqual([1, 0, 1]);
    expect(t.bool.sourceDtype).toBe('BOOL');
  });

  it('halfToFloat handles specials', () => {
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(halfToFloat(0x7e00)).toBeNaN();
    expect(halfToFloat(0x7bff)).toBe(65504);
  });

  it('rejects I64 values that do not fit in int32, naming the tensor', () => {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigInt64(0, 2n ** 40n, true);
    const e = errOf(() => decodeSafetensors(rawFile({ big: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, d)));
    expect(e).toBeInstanceOf(KilnError);
    expect(e.message).toMatch(/'big'.*does not fit in int32/);
  });

  const cases: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', () => new Uint8Array(5), /shorter than the 8-byte/],
    ['a header length beyond the file', () => {
      const b = rawFile({});
      new DataView(b.buffer).setBigUint64(0, 1000n, true);
      return b;
    }, /header length 1000 is beyond the end of the file/],
    ['a huge header length', () => {
      const b = rawFile({});
      new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
      return b;
    }, /beyond the end of the file/],
    ['invalid JSON', () => {
      const b = rawFile({ a: 1 });
      b[8] = 0x5b; // '['
      return b;
    }, /not valid UTF-8 JSON/],
    ['a JSON array header', () => rawFile([1, 2]), /not a JSON object/],
    ['offsets past the data', () => rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, f32bytes(1)), /tensor 'w'.*run past the end of the data/],
    ['shape/offset mismatch', () => rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, f32bytes(1, 2)), /tensor 'w'.*shape \[3\] of F32 needs 12 bytes.*cover 8/],
    ['overlapping tensors', () => rawFile({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    }, f32bytes(1, 2, 3)), /tensor 'b'.*overlap tensor 'a'/],
    ['begin after end', () => rawFile({ w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, f32bytes(1)), /tensor 'w'.*begin is after end/],
    ['an unknown dtype', () => rawFile({ w: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /tensor 'w'.*unsupported dtype F8_E4M3/],
    ['a bad shape', () => rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32bytes(1)), /tensor 'w'.*shape \[-1\]/],
    ['non-string metadata', () => rawFile({ __metadata__: { a: 1 } }), /__metadata__ value for 'a'/],
  ];
  for (const [what, make, re] of cases) {
    it(`rejects ${what} with a KilnError`, () => {
      const e = errOf(() => parseSafetensorsHeader(make(), 'ckpt.safetensors'));
      expect(e).toBeInstanceOf(KilnError);
      expect(e.message).toMatch(/^ckpt\.safetensors: invalid safetensors file: /);
      expect(e.message).toMatch(re);
    });
  }

  it('rejects a truncated file at every cut point', () => {
    const buf = encodeSafetensors({ w: { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4]) } });
    for (let cut = 0; cut < buf.length; cut++) {
      expect(() => decodeSafetensors(buf.subarray(0, cut))).toThrow(KilnError);
    }
  });
});

describe('safetensors with tensors', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-st-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('serializeSafetensors / parseSafetensors round-trip values, shapes and dtypes', () => {
    const w = tensor([[1.5, -2], [3, 4.25]]);
    const i = tensor([5, -6, 7], { dtype: 'int32' });
    const buf = serializeSafetensors({ w, i }, { epoch: '3' });
    const { tensors, metadata } = parseSafetensors(buf);
    expect(metadata).toEqual({ epoch: '3' });
    expect(tensors.w).toBeInstanceOf(Tensor);
    expect(tensors.w.shape).toEqual([2, 2]);
    expect(tensors.w.dtype).toBe('float32');
    expect(tensors.w.toArray()).toEqual([[1.5, -2], [3, 4.25]]);
    expect(tensors.i.dtype).toBe('int32');
    expect(tensors.i.toArray()).toEqual([5, -6, 7]);
  });

  it('saves a non-contiguous view with its logical values', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    const t = x.transpose(0, 1);
    const { tensors } = parseSafetensors(serializeSafetensors({ t }));
    expect(tensors.t.shape).toEqual([3, 2]);
    expect(tensors.t.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
  });

  it('save/load a flat state dict: a plain file, returned as a flat record', async () => {
    const p = join(dir, 'model.safetensors');
    await save({ 'fc.weight': tensor([[1, 2], [3, 4]]), 'fc.bias': tensor([0.5, -0.5]) }, p, { metadata: { arch: 'mlp' } });
    const raw = await readSafetensors(p);
    expect(raw.metadata).toEqual({ arch: 'mlp' });
    expect(Object.keys(raw.tensors).sort()).toEqual(['fc.bias', 'fc.weight']);
    const sd = await load(p);
    expect(Object.keys(sd).sort()).toEqual(['fc.bias', 'fc.weight']);
    expect(sd['fc.weight'].toArray()).toEqual([[1, 2], [3, 4]]);
    expect(sd['fc.bias'].toArray()).toEqual([0.5, -0.5]);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('save/load a nested model + optimizer checkpoint with non-tensor values', async () => {
    const p = join(dir, 'ckpt.safetensors');
    const ckpt = {
      model: { 'fc.weight': tensor([[1, 2]]), 'fc.bias': tensor([3]) },
      optimizer: {
        state: { 0: { step: 10, expAvg: tensor([[0.1, 0.2]]), expAvgSq: tensor([[0.01, 0.04]]) }, 1: { step: 10, expAvg: tensor([0.3]) } },
        paramGroups: [{ lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, params: [0, 1] }],
      },
      epoch: 3,
      bestLoss: Infinity,
      lastLoss: NaN,
      name: 'run-1',
      dollar: '$t:model.fc.bias',
      nothing: null,
      skipped: undefined,
      history: [1.5, 1.25, null],
    };
    await save(ckpt, p);
    const raw = await readSafetensors(p);
    expect(Object.keys(raw.tensors).sort()).toEqual([
      'model.fc.bias', 'model.fc.weight', 'optimizer.state.0.expAvg', 'optimizer.state.0.expAvgSq', 'optimizer.state.1.expAvg',
    ]);
    expect(typeof raw.metadata[TREE_KEY]).toBe('string');

    const back = await load(p);
    expect(back.model['fc.weight'].toArray()).toEqual([[1, 2]]);
    expect(back.model['fc.bias'].toArray()).toEqual([3]);
    const f = (t: Tensor) => Array.from(t.toTypedArray());
    expect(f(back.optimizer.state['0'].expAvg)).toEqual([0.1, 0.2].map(Math.fround));
    expect(f(back.optimizer.state['0'].expAvgSq)).toEqual([0.01, 0.04].map(Math.fround));
    expect(back.optimizer.state['0'].step).toBe(10);
    expect(back.optimizer.paramGroups).toEqual(ckpt.optimizer.paramGroups);
    expect(back.epoch).toBe(3);
    expect(back.bestLoss).toBe(Infinity);
    expect(back.lastLoss).toBeNaN();
    expect(back.name).toBe('run-1');
    expect(back.dollar).toBe('$t:model.fc.bias');
    expect(back.nothing).toBeNull();
    expect('skipped' in back).toBe(false);
    expect(back.history).toEqual([1.5, 1.25, null]);
  });

  it('rejects values it cannot store, colliding names and reserved metadata', async () => {
    const p = join(dir, 'bad.safetensors');
    await expect(save({ a: new Map() }, p)).rejects.toThrow(/cannot store a value of type Map at 'a'/);
    await expect(save({ a: { b: tensor([1]) }, 'a.b': tensor([2]) }, p)).rejects.toThrow(/same name 'a.b'/);
    await expect(save({ a: tensor([1]), n: 1 }, p, { metadata: { [TREE_KEY]: 'x' } })).rejects.toThrow(/reserved/);
    await expect(save(42 as unknown as object, p)).rejects.toThrow(KilnError);
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('load names the file and the problem for corrupt and truncated files', async () => {
    const p = join(dir, 'c.safetensors');
    await save({ w: tensor([1, 2, 3, 4]) }, p);
    const good = readFileSync(p);
    writeFileSync(p, good.subarray(0, good.length - 3));
    await expect(load(p)).rejects.toThrow(KilnError);
    await expect(load(p)).rejects.toThrow(new RegExp(`${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: invalid safetensors file: tensor 'w'.*truncated`));
    writeFileSync(p, good.subarray(0, 20));
    await expect(load(p)).rejects.toThrow(/header length \d+ is beyond the end of the file/);
    await expect(load(join(dir, 'missing.safetensors'))).rejects.toThrow(/cannot read checkpoint/);
  });

  it('loads the Python-written fixture with the right values', async () => {
    const p = join(FIXTURES, 'from_python.safetensors');
    const { tensors, metadata } = await readSafetensors(p);
    expect(metadata).toEqual({ format: 'pt', source: 'make_fixture.py' });
    expect(tensors.f32.dtype).toBe('float32');
    expect(tensors.f32.shape).toEqual([3, 4]);
    expect(Array.from(tensors.f32.toTypedArray())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(tensors.i32.dtype).toBe('int32');
    expect(tensors.i32.toArray()).toEqual([[-3, -2, -1], [0, 1, 2]]);
    expect(tensors.f64.dtype).toBe('float32');
    expect(tensors.f64.toArray()).toEqual([0.5, -1.25, 3]);
    expect(tensors.f16.toArray()).toEqual([1, -2, 0.5, 65504]);
    expect(tensors.bf16.toArray()).toEqual([1, -2.5, 3.140625]);
    expect(tensors.i64.dtype).toBe('int32');
    expect(tensors.i64.toArray()).toEqual([-5, 0, 7, 2147483647]);
    expect(tensors.u8.toArray()).toEqual([0, 255, 128]);
    expect(tensors.flags.dtype).toBe('int32');
    expect(tensors.flags.toArray()).toEqual([1, 0, 1]);
    expect(tensors.scalar.shape).toEqual([]);
    expect(tensors.scalar.item()).toBe(42);
    expect(tensors.empty.shape).toEqual([0, 3]);
    expect(tensors['nested.w'].toArray()).toEqual([[1.5, -2.5], [3.5, -4.5]]);
    // load() of a file without Kiln's structure gives the flat record
    const flat = await load(p);
    expect(Object.keys(flat).length).toBe(11);
  });

  it.skipIf(!hasPython())('writes files that a plain-Python reader parses with the same values', async () => {
    const p = join(dir, 'for_python.safetensors');
    await save({ model: { w: tensor([[1.25, -2], [3, 4]]), idx: tensor([7, -8, 9], { dtype: 'int32' }) }, epoch: 2 }, p, { metadata: { who: 'kiln' } });
    const r = spawnSync('python3', [join(FIXTURES, 'read_check.py'), p], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tensors['model.w']).toEqual({ dtype: 'F32', shape: [2, 2], values: [1.25, -2, 3, 4] });
    expect(out.tensors['model.idx']).toEqual({ dtype: 'I32', shape: [3], values: [7, -8, 9] });
    expect(out.metadata.who).toBe('kiln');
    expect(JSON.parse(out.metadata[TREE_KEY])).toEqual({ model: { w: '$t:model.w', idx: '$t:model.idx' }, epoch: 2 });
  });

  it.skipIf(!hasPython())('the committed fixture matches what make_fixture.py writes', () => {
    const out = join(dir, 'make_fixture.py');
    writeFileSync(out, readFileSync(join(FIXTURES, 'make_fixture.py')));
    const r = spawnSync('python3', [out], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'from_python.safetensors')), readFileSync(join(FIXTURES, 'from_python.safetensors')))).toBe(0);
  });

  it('a save killed mid-write leaves the previous checkpoint intact', async () => {
    const target = join(dir, 'ckpt.safetensors');
    await save({ model: { w: tensor([1, 2, 3]) }, epoch: 1 }, target);
    const before = readFileSync(target);

    // The child saves 4 x 16M floats (256 MB) over the target; kill it once its temp file exists.
    const child = spawn(process.execPath, ['--import', join(ROOT, 'tests/io/ts-loader.mjs'), join(ROOT, 'tests/io/save-child.mjs'), target, '16'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | number | null>((res) => child.on('exit', (code, sig) => res(sig ?? code)));
    let tmp: string | undefined;
    const deadline = Date.now() + 60_000;
    while (!tmp && Date.now() < deadline && child.exitCode === null) {
      tmp = readdirSync(dir).find((f) => f.startsWith('.ckpt.safetensors.') && f.endsWith('.tmp'));
      if (!tmp) await new Promise((r) => setTimeout(r, 1));
    }
    expect(tmp, `child never created a temp file; stderr: ${stderr}`).toBeDefined();
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // The stray temp file is still there, the target is byte-for-byte the old checkpoint.
    expect(readdirSync(dir)).toContain(tmp);
    expect(Buffer.compare(readFileSync(target), before)).toBe(0);
    const back = await load(target);
    expect(back.model.w.toArray()).toEqual([1, 2, 3]);
    expect(back.epoch).toBe(1);

    // The next save removes the dead writer's temp file.
    await save({ model: { w: tensor([4, 5]) }, epoch: 2 }, target);
    expect(readdirSync(dir)).toEqual(['ckpt.safetensors']);
    expect((await load(target)).model.w.toArray()).toEqual([4, 5]);
  });

  it('a save that fails part-way leaves the target and no temp file', async () => {
    const target = join(dir, 'x.safetensors');
    await save({ w: tensor([1]) }, target);
    const gone = tensor([1, 2]);
    gone.dispose();
    await expect(save({ a: tensor([3]), b: gone }, target)).rejects.toThrow(/tensor 'b' has been disposed/);
    const bad = tensor([1, 2]);
    // fails after the header and tensor 'a' are written to the temp file
    bad.toTypedArray = () => {
      throw new Error('simulated read failure');
    };
    await expect(save({ a: tensor([3]), b: bad }, target)).rejects.toThrow(/simulated read failure/);
    expect(readdirSync(dir)).toEqual(['x.safetensors']);
    expect((await load(target)).w.toArray()).toEqual([1]);
  });
});
