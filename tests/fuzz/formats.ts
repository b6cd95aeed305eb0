// Valid reader inputs (safetensors, IDX, CSV) as fast-check arbitraries, and byte/text mutations
// of them. Shared by the CI property tests (readers.test.ts) and the long run
// (scripts/fuzz-readers.sh -> fuzz-child.mjs).
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { encodeIdx, type IdxTypedArray, type IdxType } from '../../src/data/idx.js';
import { encodeSafetensors } from '../../src/io/safetensors-format.js';

// ---- valid files ------------------------------------------------------------------------------

const dims = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 3 });
const numel = (shape: number[]) => shape.reduce((a, d) => a * d, 1);

export interface StSource {
  tensors: Record<string, { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array }>;
  metadata: Record<string, string>;
}

/** A safetensors file Kiln writes (F32/I32), with the arrays it holds. */
export const safetensorsSource: fc.Arbitrary<StSource> = fc
  .record({
    list: fc.uniqueArray(
      fc.record({ name: fc.string({ minLength: 1, maxLength: 8 }), int: fc.boolean(), shape: dims, seed: fc.integer() }),
      { maxLength: 4, selector: (t) => t.name },
    ),
    metadata: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 12 }), { maxKeys: 3 }),
  })
  .filter((r) => r.list.every((t) => t.name !== '__metadata__') && !('__proto__' in r.metadata))
  .map(({ list, metadata }) => {
    const tensors: StSource['tensors'] = {};
    for (const t of list) {
      const n = numel(t.shape);
      const data = t.int ? new Int32Array(n) : new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = t.int ? Math.imul(t.seed, i + 1) | 0 : Math.fround(Math.sin(t.seed + i) * 1e3);
      tensors[t.name] = { dtype: t.int ? 'int32' : 'float32', shape: t.shape, data };
    }
    return { tensors, metadata };
  });

export const encodeSt = (s: StSource): Uint8Array => encodeSafetensors(s.tensors, s.metadata);

/** Any dtype the reader knows, with random bytes: exercises every decode path. */
export const safetensorsRawDtypes: fc.Arbitrary<Uint8Array> = fc
  .array(fc.record({ dtype: fc.constantFrom('F64', 'F32', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL'), shape: dims, bytes: fc.uint8Array({ maxLength: 64 }) }), { maxLength: 4 })
  .map((list) => {
    const size: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1 };
    const header: Record<string, unknown> = {};
    const parts: Uint8Array[] = [];
    let off = 0;
    list.forEach((t, k) => {
      const len = numel(t.shape) * size[t.dtype];
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = t.bytes.length ? t.bytes[i % t.bytes.length] : i;
      header[`t${k}`] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + len] };
      parts.push(b);
      off += len;
    });
    return rawSafetensors(header, concat(parts));
  });

/** A safetensors file from any JSON header and data bytes (padded to 8 like the writer). */
export function rawSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return rawSafetensorsText(JSON.stringify(header), data);
}

export function rawSafetensorsText(json: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  let h = new TextEncoder().encode(json);
  if (h.length % 8) {
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

export interface IdxSource {
  shape: number[];
  type: IdxType;
  data: IdxTypedArray;
  gzip: boolean;
}

const idxTypes: IdxType[] = ['ubyte', 'byte', 'short', 'int', 'float', 'double'];

/** An IDX file (plain or gzipped) and the values it holds. */
export const idxSource: fc.Arbitrary<IdxSource> = fc
  .record({ shape: dims, type: fc.constantFrom(...idxTypes), seed: fc.integer(), gzip: fc.boolean() })
  .map(({ shape, type, seed, gzip }) => {
    const n = numel(shape);
    const make = { ubyte: Uint8Array, byte: Int8Array, short: Int16Array, int: Int32Array, float: Float32Array, double: Float64Array }[type];
    const data = new make(n);
    for (let i = 0; i < n; i++) data[i] = type === 'float' || type === 'double' ? Math.sin(seed + i) * 100 : Math.imul(seed, i + 7);
    return { shape, type, data, gzip };
  });

export const encodeIdxSource = (s: IdxSource): Uint8Array => encodeIdx(s.shape, s.data, { type: s.type, gzip: s.gzip });

export interface CsvSource {
  text: string;
  names: string[];
  /** values[row][col] */
  values: number[][];
}

/** A numeric CSV table: header, quoted or bare fields, LF or CRLF, spaces around numbers. */
export const csvSource: fc.Arbitrary<CsvSource> = fc
  .record({
    cols: fc.integer({ min: 1, max: 5 }),
    rows: fc.array(fc.array(fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 })), { minLength: 5, maxLength: 5 }), { maxLength: 8 }),
    quote: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    crlf: fc.boolean(),
    pad: fc.boolean(),
  })
  .map(({ cols, rows, quote, crlf, pad }) => {
    const names = Array.from({ length: cols }, (_, k) => `c${k}`);
    const values = rows.map((r) => r.slice(0, cols).map((v) => (Object.is(v, -0) ? 0 : v)));
    const cell = (v: number, k: number) => {
      const s = pad ? ` ${String(v)} ` : String(v);
      return quote[k] ? `"${s}"` : s;
    };
    const nl = crlf ? '\r\n' : '\n';
    const text = [names.join(','), ...values.map((r) => r.map(cell).join(','))].join(nl) + nl;
    return { text, names, values };
  });

// ---- mutations --------------------------------------------------------------------------------

/** Values a parser may mishandle: boundaries of integer widths, huge lengths, deep nesting. */
const TEXT_TOKENS = [
  '"', ',', '\n', '\r', '""', '"a', 'x', '-', '.', 'e', 'E+', '1e999', '-1e-999', 'nan', '-inf', 'Infinity', '0x10',
  '9'.repeat(40_000) + 'x', '1'.repeat(5000) + '.', '.' + '5'.repeat(5000) + 'e', '[', '{', '[[[[[[[[[[[[[[[[[[[[', '['.repeat(20_000),
  '{"a":'.repeat(3000), ']', '}', '-1', '0', '4294967296', '9007199254740993', '1e308', '18446744073709551615', '-0',
  '"dtype":"F16"', '"dtype":"I64"', '"dtype":"X9"', '"shape":[0,4000000000]', '"shape":[65536,65536,65536]',
  '"shape":[[[[1]]]]', '"data_offsets":[0,18446744073709551615]', '"data_offsets":[5,1]', '"__metadata__":{"a":1}',
  '"__metadata__":{"kiln.tree":"' + '['.repeat(3000) + '"}', '\u0000', '\ufeff', '\ud800', '\\u0000', '\\',
];

/** Byte values at boundaries. */
const BYTES = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x22, 0x2c, 0x0a, 0x5b, 0x7b];

export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'token'; at: number; token: number }
  | { kind: 'delete'; at: number; len: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'dup'; at: number; len: number; to: number }
  | { kind: 'u32'; at: number; value: number };

const pos = fc.nat({ max: 1 << 30 });

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: pos, byte: fc.oneof(fc.constantFrom(...BYTES), fc.integer({ min: 0, max: 255 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('token' as const), at: pos, token: fc.nat({ max: TEXT_TOKENS.length - 1 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: pos, len: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: pos }),
  fc.record({ kind: fc.constant('dup' as const), at: pos, len: fc.integer({ min: 1, max: 64 }), to: pos }),
  // a big-endian or little-endian u32 written over 4 bytes: sizes, dims and lengths
  fc.record({ kind: fc.constant('u32' as const), at: pos, value: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 65536, 4000000000) }),
);

export const mutations = fc.array(mutation, { minLength: 1, maxLength: 6 });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const utf8 = new TextEncoder();

/** Applies the mutations in order; positions are taken modulo the current length. */
export function mutate(input: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = input;
  for (const m of ms) {
    const n = b.length;
    const at = n === 0 ? 0 : m.at % (n + 1);
    switch (m.kind) {
      case 'flip':
        if (n) { b = b.slice(); b[m.at % n] ^= 1 << m.bit; }
        break;
      case 'set':
        if (n) { b = b.slice(); b[m.at % n] = m.byte; }
        break;
      case 'insert':
        b = concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'token':
        b = concat([b.subarray(0, at), utf8.encode(TEXT_TOKENS[m.token]), b.subarray(at)]);
        break;
      case 'delete':
        b = concat([b.subarray(0, at), b.subarray(Math.min(n, at + m.len))]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'dup': {
        const piece = b.slice(at, Math.min(n, at + m.len));
        const to = n === 0 ? 0 : m.to % (n + 1);
        b = concat([b.subarray(0, to), piece, b.subarray(to)]);
        break;
      }
      case 'u32':
        if (n >= 4) {
          b = b.slice();
          const p = m.at % (n - 3);
          new DataView(b.buffer, b.byteOffset).setUint32(p, m.value, (m.at & 1) === 1);
        }
        break;
    }
  }
  return b;
}

/** A gzip of an IDX file whose uncompressed bytes were mutated (valid gzip, bad content). */
export const gzipOf = (b: Uint8Array): Uint8Array => gzipSync(b);
