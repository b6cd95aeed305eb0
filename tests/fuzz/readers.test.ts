// Property tests of the readers: valid files read back exactly; mutated files give a result
// that keeps the format's invariants or a KilnError, never another error, a leak or an
// allocation the file does not justify (oracles.ts). KILN_FUZZ_RUNS sets the runs per property
// (CI uses the default; scripts/fuzz-readers.sh does the long run in child processes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors-format.js';
import { parseIdx } from '../../src/data/idx.js';
import { parseCsvNumber, parseCsvTable } from '../../src/data/csv.js';
import { save } from '../../src/io/safetensors.js';
import { tensor } from '../../src/creation.js';
import {
  csvSource, encodeIdxSource, encodeSt, gzipOf, idxSource, mutate, mutations, rawSafetensors, safetensorsRawDtypes, safetensorsSource,
} from './formats.js';
import { checkCsv, checkIdx, checkLoad, checkSafetensors } from './oracles.js';

const RUNS = Number(process.env.KILN_FUZZ_RUNS ?? 150);
const SEED = process.env.KILN_FUZZ_SEED === undefined ? undefined : Number(process.env.KILN_FUZZ_SEED);
const params = (numRuns = RUNS) => ({ numRuns, seed: SEED });

describe('safetensors reader', () => {
  it('reads back what the writer wrote, exactly', () => {
    fc.assert(fc.property(safetensorsSource, (src) => {
      const back = decodeSafetensors(encodeSt(src));
      expect(Object.keys(back.tensors)).toEqual(Object.keys(src.tensors));
      for (const [name, t] of Object.entries(src.tensors)) {
        expect(back.tensors[name].shape).toEqual(t.shape);
        expect(back.tensors[name].dtype).toBe(t.dtype);
        expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
      }
      expect(back.metadata).toEqual(src.metadata);
    }), params());
  });

  it('mutated files: a valid result or a KilnError', () => {
    const file = fc.oneof(safetensorsSource.map(encodeSt), safetensorsRawDtypes);
    fc.assert(fc.property(file, mutations, (f, ms) => {
      checkSafetensors(mutate(f, ms));
    }), params());
  });

  describe('load() of nested checkpoints', () => {
    let dir: string;
    let base: Uint8Array;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-'));
      const p = join(dir, 'base.safetensors');
      const a = tensor([1, 2, 3]);
      const b = tensor([4], { dtype: 'int32' });
      await save({ model: { w: a, n: [b, 2, 'x', null] }, epoch: 3, lr: NaN }, p);
      a.dispose();
      b.dispose();
      base = new Uint8Array((await import('node:fs')).readFileSync(p));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('mutated checkpoints: a valid object or a KilnError, nothing leaked', async () => {
      await fc.assert(fc.asyncProperty(mutations, async (ms) => {
        await checkLoad(mutate(base, ms), join(dir, 'm.safetensors'));
      }), params(Math.ceil(RUNS / 3)));
    });
  });
});

describe('IDX reader', () => {
  it('reads back what encodeIdx wrote, plain or gzipped', () => {
    fc.assert(fc.property(idxSource, (src) => {
      const back = parseIdx(encodeIdxSource(src));
      expect(back.shape).toEqual(src.shape);
      expect(back.type).toBe(src.type);
      expect(Array.from(back.data)).toEqual(Array.from(src.data));
    }), params());
  });

  it('mutated files (the bytes, or the content under valid gzip): a valid result or a KilnError', () => {
    fc.assert(fc.property(idxSource, mutations, fc.boolean(), (src, ms, under) => {
      const plain = encodeIdxSource({ ...src, gzip: false });
      const bytes = under ? gzipOf(mutate(plain, ms)) : mutate(encodeIdxSource(src), ms);
      checkIdx(bytes);
    }), params());
  });
});

describe('CSV reader', () => {
  it('reads numeric tables back (float32 of each value)', () => {
    fc.assert(fc.property(csvSource, (src) => {
      const t = parseCsvTable(src.text);
      expect(t.columns).toEqual(src.names);
      expect(t.numRows).toBe(src.values.length);
      expect(Array.from(t.features)).toEqual(src.values.flat().map(Math.fround));
    }), params());
  });

  it('parseCsvNumber agrees with the grammar it documents', () => {
    // The grammar as a regular expression, used only on short strings (it backtracks on long ones).
    const grammar = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
    const special = /^[+-]?(nan|inf|infinity)$/i;
    const chars = fc.constantFrom(...'0123456789.eE+- naifNIFxt');
    fc.assert(fc.property(fc.string({ unit: chars, maxLength: 12 }), (s) => {
      const t = s.trim();
      const want = grammar.test(t) ? Number(t) : special.test(t) ? Number(t.replace(/inf(inity)?$/i, 'Infinity').replace(/nan$/i, 'NaN')) : undefined;
      expect(parseCsvNumber(s)).toBe(want);
    }), params(RUNS * 4));
  });

  it('mutated files: a valid table or a KilnError', () => {
    fc.assert(fc.property(csvSource, mutations, (src, ms) => {
      checkCsv(mutate(new TextEncoder().encode(src.text), ms));
    }), params());
  });
});

describe('a fixed corpus of hostile safetensors headers', () => {
  it('each is a KilnError', () => {
    const hostile = [
      { a: { dtype: 'F32', shape: [0, 4_000_000_000], data_offsets: [0, 0] } },
      { a: { dtype: 'F32', shape: new Array(100_000).fill(1), data_offsets: [0, 4] } },
      { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: JSON.parse('['.repeat(50) + ']'.repeat(50)) } },
      { ['n'.repeat(100_000)]: { dtype: 'BAD', shape: [1], data_offsets: [0, 4] } },
    ];
    for (const h of hostile) expect(checkSafetensors(rawSafetensors(h, new Uint8Array(4)))).toBe('rejected');
  });
});
