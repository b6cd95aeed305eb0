// The four findings of the reader fuzz run, each pinned: a hang (quadratic CSV numbers), a huge
// allocation (gzip inflated before its size was checked; an empty tensor with a huge dim), and a
// RangeError (deep nesting) instead of a KilnError.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { KilnError } from '../../src/errors.js';
import { parseCsvNumber, parseCsvTable } from '../../src/data/csv.js';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { parseSafetensors } from '../../src/io/safetensors.js';
import { load, save } from '../../src/io/safetensors.js';
import { rawSafetensors, rawSafetensorsText } from './formats.js';
import { trackedTensors } from '../helpers/memory.js';

const ROOT = resolve(import.meta.dirname, '../..');

function thrown(fn: () => unknown): KilnError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return e as KilnError;
  }
  throw new Error('expected a KilnError');
}

describe('CSV: linear in the input', () => {
  it('a million-digit field followed by a letter is "not a number" at once (the old regex backtracked quadratically: hours)', () => {
    const field = '7'.repeat(1_000_000) + 'x';
    expect(parseCsvNumber(field)).toBeUndefined();
    expect(parseCsvNumber('7'.repeat(1_000_000))).toBe(Infinity);
    const e = thrown(() => parseCsvTable(`a,b\n1,2\n3,${field}\n`, { columnTypes: { b: 'number' } }));
    expect(e.message).toMatch(/line 3, column 'b' \(2\): value "7777.*\.\.\. \(1000001 characters\) is not a number/);
    expect(e.message.length).toBeLessThan(300);
  });

  it('a 40000-character column name is shortened in messages (found by the long run)', () => {
    const e = thrown(() => parseCsvTable(`a,${'c'.repeat(40_000)}\n1,2\n3,zz\n`, { columnTypes: { ['c'.repeat(40_000)]: 'number' } }));
    expect(e.message).toMatch(/line 3, column 'c{60}\.\.\.' \(2\): value "zz" is not a number/);
    expect(e.message.length).toBeLessThan(200);
  });

  it('a quoted field of a million characters with doubled quotes and newlines reads back', () => {
    const inner = 'ab""c\n'.repeat(200_000);
    const t = parseCsvTable(`name,v\n"${inner}",1\n2,3\n`, { columnTypes: { name: 'category' } });
    expect(t.categories.name).toEqual(['2', 'ab"c\n'.repeat(200_000)]);
    expect(t.numRows).toBe(2);
    // line numbers still count the newlines inside the quotes
    const e = thrown(() => parseCsvTable(`name,v\n"${inner}",1\n2,oops\n`, { columnTypes: { name: 'category', v: 'number' } }));
    expect(e.message).toMatch(/line 200003, column 'v'/);
  });
});

describe('IDX: gzip inflates no more than the header declares', () => {
  it('a header claiming more than the gzip file can hold is rejected before inflating', () => {
    const head = encodeIdx([1], new Uint8Array([1])).slice(0, 8);
    const dv = new DataView(head.buffer);
    head[3] = 1;
    dv.setUint32(4, 4_000_000_000, false);
    const e = thrown(() => parseIdx(gzipSync(head)));
    expect(e.message).toMatch(/IDX dims \[4000000000\] need 4000000008 bytes, more than a gzip file of \d+ bytes can inflate to/);
  });

  it('a 256 MB inflation behind a 1000-byte header stops at the header size (child: peak RSS grows < 64 MB)', () => {
    const r = spawnSync(process.execPath, ['--import', './tests/io/ts-loader.mjs', 'tests/fuzz/gzip-bomb-child.mjs'], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.error).toMatch(/gzip data inflates to more than the 1008 bytes its IDX header declares/);
    expect(out.compressedBytes).toBeLessThan(400_000);
    expect(out.rssGrowthMB).toBeLessThan(64);
  });

  it('a highly compressible valid file reads whole (its first compressed bytes inflate past the prefix cap)', () => {
    const back = parseIdx(gzipSync(encodeIdx([2000, 2000], new Uint8Array(4_000_000).fill(5))));
    expect(back.shape).toEqual([2000, 2000]);
    expect(back.data.length).toBe(4_000_000);
    expect(back.data.every((v) => v === 5)).toBe(true);
  });

  it('a valid gzip file whose header sits after a long stretch of empty deflate blocks still reads', () => {
    // gzip member header, then 20000 empty stored blocks, then the data in a final stored block
    const data = encodeIdx([3], new Uint8Array([7, 8, 9]));
    const raw = gzipSync(data, { level: 0 }); // one stored block: 10-byte header, then BFINAL=1 block
    const empty = new Uint8Array(5 * 20_000);
    for (let i = 0; i < 20_000; i++) empty.set([0x00, 0x00, 0x00, 0xff, 0xff], 5 * i); // BFINAL=0, stored, LEN 0
    const bytes = new Uint8Array(raw.length + empty.length);
    bytes.set(raw.subarray(0, 10));
    bytes.set(empty, 10);
    bytes.set(raw.subarray(10), 10 + empty.length);
    expect(Array.from(parseIdx(bytes).data)).toEqual([7, 8, 9]);
  });
});

describe('empty tensors with huge dims are not created from a file', () => {
  it('safetensors [0, 4e9] is rejected; [0, 768] is read', () => {
    const e = thrown(() => parseSafetensors(rawSafetensors({ a: { dtype: 'F32', shape: [0, 4_000_000_000], data_offsets: [0, 0] } })));
    expect(e.message).toMatch(/tensor 'a'.*shape \[0, 4000000000\] has no elements, but its other dims describe 4000000000 elements/);
    const m0 = trackedTensors();
    const ok = parseSafetensors(rawSafetensors({ a: { dtype: 'F32', shape: [0, 768], data_offsets: [0, 0] } }));
    expect(ok.tensors.a.shape).toEqual([0, 768]);
    ok.tensors.a.dispose();
    expect(trackedTensors()).toBe(m0);
  });

  it('IDX [0, 65536, 65536] is rejected', () => {
    const e = thrown(() => parseIdx(encodeIdx([0, 65536, 65536], new Uint8Array(0))));
    expect(e.message).toMatch(/shape \[0, 65536, 65536\] has no elements/);
  });
});

describe('deep nesting is a KilnError, not a stack overflow', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiln-bounds-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a header nested 100000 levels deep', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const e = thrown(() => parseSafetensors(rawSafetensorsText(`{"a":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`)));
    expect(e.message).toMatch(/header nests deeper than 16 levels/);
  });

  it('a checkpoint structure (kiln.tree) nested 100000 levels deep', async () => {
    const p = join(dir, 'deep.safetensors');
    writeFileSync(p, rawSafetensors({ __metadata__: { 'kiln.tree': '['.repeat(100_000) + ']'.repeat(100_000) } }));
    await expect(load(p)).rejects.toThrow(/metadata 'kiln.tree' is not valid JSON \(it nests deeper than 256 levels\)/);
  });

  it('save() of an object that contains itself', async () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    await expect(save(o, join(dir, 'cycle.safetensors'))).rejects.toThrow(/nests deeper than 256 levels at 'self.self.self/);
  });
});
