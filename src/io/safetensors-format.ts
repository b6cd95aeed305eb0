/**
 * The safetensors file format (https://github.com/huggingface/safetensors), without tensors:
 * plain typed arrays in, plain typed arrays out. safetensors.ts wraps this with Tensors.
 *
 * File layout:
 *   8 bytes   N, little-endian u64: length of the JSON header
 *   N bytes   UTF-8 JSON: { name: { dtype, shape, data_offsets: [begin, end] }, ...,
 *             "__metadata__"?: { string: string } }, may be padded with trailing spaces
 *   rest      the data buffer; data_offsets are byte offsets into it; values little-endian
 *
 * Reading converts every dtype to one of Kiln's dtypes, by one rule:
 *   BF16                                   -> bfloat16 (the raw bits, as a Uint16Array)
 *   floating types F32, F64, F16           -> float32 (F64 rounded to nearest float32)
 *   integer types I32, I16, I8, U16, U8, BOOL -> int32 (exact)
 *   integer types I64, U32, U64            -> int32 when every value fits in int32, else a
 *                                             KilnError naming the tensor
 * Other dtypes (F8_*, complex, ...) are rejected with a KilnError naming the tensor.
 * Writing produces F32, BF16 and I32 only, with the header padded to 8-byte alignment and tensors
 * stored back to back, which is what the Python safetensors library writes and accepts.
 */
import { KilnError } from '../errors.js';
import { briefList, checkEmptyDims, jsonDepth } from './limits.js';

export type KilnDType = 'float32' | 'int32' | 'bfloat16';
/** Values of a float32 or int32 tensor; a bfloat16 tensor's raw bits. */
export type HostArray = Float32Array | Int32Array | Uint16Array;

/** Bytes per element of each safetensors dtype this reader knows. */
export const ST_DTYPE_SIZE: Record<string, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export interface HeaderEntry {
  dtype: string;
  shape: number[];
  dataOffsets: [number, number];
}

export interface ParsedHeader {
  /** Entries in header order. */
  entries: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data buffer in the file (8 + header length). */
  dataStart: number;
}

export interface DecodedTensor {
  dtype: KilnDType;
  /** The dtype stored in the file, before conversion. */
  sourceDtype: string;
  shape: number[];
  data: HostArray;
}

/** Largest header we accept (the reference implementation's limit is 100 MB). */
const MAX_HEADER = 100_000_000;
/**
 * Deepest nesting of [ and { a header may have. A valid header nests 3 levels (the header,
 * an entry, its shape); the slack admits extra fields. Checked before JSON.parse so that
 * nothing later (messages quoting a value, say) can recurse through a deep structure.
 */
export const MAX_HEADER_DEPTH = 16;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(file: string, msg: string): never {
  throw new KilnError(`${file}: invalid safetensors file: ${msg}`);
}

/** A name for an error message. */
function short(name: string): string {
  return name.length > 80 ? `${name.slice(0, 80)}...` : name;
}

function isNonNegInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Read and validate the header. `fileSize` is the full file size when `buf` holds only a
 * prefix of the file (e.g. when reading the header first); defaults to buf.length.
 */
export function parseHeader(buf: Uint8Array, file = '<buffer>', fileSize = buf.length): ParsedHeader {
  if (fileSize < 8) fail(file, `${fileSize} bytes, shorter than the 8-byte header length field`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(fileSize - 8)) {
    fail(file, `header length ${n64} is beyond the end of the file (${fileSize - 8} bytes after the length field; truncated file?)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) fail(file, `header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  if (buf.length < 8 + n) fail(file, `buffer holds ${buf.length} bytes, header needs ${8 + n}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n));
  } catch (e) {
    fail(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  const depth = jsonDepth(text, MAX_HEADER_DEPTH);
  if (depth > MAX_HEADER_DEPTH) fail(file, `header nests deeper than ${MAX_HEADER_DEPTH} levels (a safetensors header nests 3)`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(file, `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(file, 'header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;
  const entries = new Map<string, HeaderEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(file, '__metadata__ is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(file, `__metadata__ value for '${short(k)}' is not a string`);
      }
      metadata = { ...(v as Record<string, string>) };
      continue;
    }
    const bad = (msg: string): never => fail(file, `tensor '${short(name)}': ${msg}`);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) bad('entry is not an object');
    const e = v as Record<string, unknown>;
    if (typeof e.dtype !== 'string') bad('missing dtype');
    const dtype = e.dtype as string;
    const size = ST_DTYPE_SIZE[dtype];
    if (size === undefined) bad(`unsupported dtype ${dtype.length > 20 ? `${dtype.slice(0, 20)}...` : dtype} (supported: ${Object.keys(ST_DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every(isNonNegInt)) bad(`shape ${Array.isArray(e.shape) ? `[${briefList(e.shape)}]` : typeof e.shape} is not a list of non-negative integers`);
    const shape = e.shape as number[];
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isNonNegInt)) {
      bad(`data_offsets ${Array.isArray(offs) ? `[${briefList(offs)}]` : typeof offs} is not a pair of non-negative integers`);
    }
    const [b, end] = offs as [number, number];
    if (b > end) bad(`data_offsets [${b}, ${end}]: begin is after end`);
    if (end > dataLen) bad(`data_offsets [${b}, ${end}] run past the end of the data (${dataLen} bytes; truncated file?)`);
    const numel = shape.reduce((a, d) => a * d, 1);
    checkEmptyDims(shape, fileSize, () => `${file}: invalid safetensors file: tensor '${short(name)}'`);
    if (numel * size !== end - b) {
      bad(`shape [${briefList(shape)}] of ${dtype} needs ${numel * size} bytes, data_offsets [${b}, ${end}] cover ${end - b}`);
    }
    entries.set(name, { dtype, shape: [...shape], dataOffsets: [b, end] });
  }
  // No two tensors may share bytes.
  const spans = [...entries].filter(([, e]) => e.dataOffsets[1] > e.dataOffsets[0]).sort((x, y) => x[1].dataOffsets[0] - y[1].dataOffsets[0]);
  for (let i = 1; i < spans.length; i++) {
    const [pn, p] = spans[i - 1];
    const [cn, c] = spans[i];
    if (c.dataOffsets[0] < p.dataOffsets[1]) {
      fail(file, `tensor '${short(cn)}' data_offsets [${c.dataOffsets.join(', ')}] overlap tensor '${short(pn)}' [${p.dataOffsets.join(', ')}]`);
    }
  }
  return { entries, metadata, dataStart };
}

/** Convert one tensor's raw little-endian bytes to a Kiln host array (see the rule above). */
export function decodeTensorBytes(name: string, e: HeaderEntry, bytes: Uint8Array, file = '<buffer>'): DecodedTensor {
  const numel = e.shape.reduce((a, d) => a * d, 1);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const copy = () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const out = (dtype: KilnDType, data: HostArray): DecodedTensor => ({ dtype, sourceDtype: e.dtype, shape: [...e.shape], data });
  switch (e.dtype) {
    case 'F32': {
      if (LITTLE_ENDIAN) return out('float32', new Float32Array(copy() as ArrayBuffer));
      const a = new Float32Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getFloat32(4 * i, true);
      return out('float32', a);
    }
    case 'I32': {
      if (LITTLE_ENDIAN) return out('int32', new Int32Array(copy() as ArrayBuffer));
      const a = new Int32Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getInt32(4 * i, true);
      return out('int32', a);
    }
    case 'F64': {
      const a = new Float32Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getFloat64(8 * i, true);
      return out('float32', a);
    }
    case 'F16': {
      const a = new Float32Array(numel);
      for (let i = 0; i < numel; i++) a[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out('float32', a);
    }
    case 'BF16': {
      if (LITTLE_ENDIAN) return out('bfloat16', new Uint16Array(copy() as ArrayBuffer));
      const a = new Uint16Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getUint16(2 * i, true);
      return out('bfloat16', a);
    }
    case 'I16': case 'U16': case 'I8': case 'U8': case 'BOOL': {
      const a = new Int32Array(numel);
      const s = ST_DTYPE_SIZE[e.dtype];
      for (let i = 0; i < numel; i++) {
        a[i] = e.dtype === 'I16' ? dv.getInt16(2 * i, true)
          : e.dtype === 'U16' ? dv.getUint16(2 * i, true)
          : e.dtype === 'I8' ? dv.getInt8(i)
          : e.dtype === 'BOOL' ? (dv.getUint8(i) !== 0 ? 1 : 0)
          : dv.getUint8(i * s);
      }
      return out('int32', a);
    }
    case 'I64': case 'U64': case 'U32': {
      const a = new Int32Array(numel);
      for (let i = 0; i < numel; i++) {
        const v = e.dtype === 'I64' ? dv.getBigInt64(8 * i, true)
          : e.dtype === 'U64' ? dv.getBigUint64(8 * i, true)
          : BigInt(dv.getUint32(4 * i, true));
        if (v < -2147483648n || v > 2147483647n) {
          throw new KilnError(`${file}: tensor '${short(name)}' (${e.dtype}): value ${v} at flat index ${i} does not fit in int32`);
        }
        a[i] = Number(v);
      }
      return out('int32', a);
    }
    default:
      throw new KilnError(`${file}: tensor '${name}': unsupported dtype ${e.dtype}`);
  }
}

/** IEEE 754 binary16 bits -> number. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return s * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : s * Infinity;
  return s * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Parse a whole safetensors file held in memory into host arrays. */
export function decodeSafetensors(buf: Uint8Array, file = '<buffer>'): { tensors: Record<string, DecodedTensor>; metadata: Record<string, string> } {
  const h = parseHeader(buf, file);
  const tensors: Record<string, DecodedTensor> = {};
  for (const [name, e] of h.entries) {
    const bytes = buf.subarray(h.dataStart + e.dataOffsets[0], h.dataStart + e.dataOffsets[1]);
    tensors[name] = decodeTensorBytes(name, e, bytes, file);
  }
  return { tensors, metadata: h.metadata };
}

export interface EncodeEntry {
  dtype: KilnDType;
  shape: readonly number[];
}

export interface Layout {
  /** The 8-byte length plus the padded JSON header. */
  header: Uint8Array;
  /** Byte length of each tensor's data, in the order given. */
  sizes: number[];
  /** Total file size. */
  totalBytes: number;
}

/**
 * Lay out a file: tensors back to back in the order given, header padded with spaces so the
 * data starts at a multiple of 8. Names must be unique, and not '__metadata__'.
 */
export function layoutSafetensors(entries: ReadonlyArray<[string, EncodeEntry]>, metadata?: Record<string, string>): Layout {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new KilnError(`safetensors metadata: value for '${k}' must be a string, got ${typeof v}`);
    }
    header.__metadata__ = metadata;
  }
  const sizes: number[] = [];
  let off = 0;
  for (const [name, e] of entries) {
    if (name === '__metadata__') throw new KilnError(`safetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (Object.prototype.hasOwnProperty.call(header, name)) throw new KilnError(`safetensors: duplicate tensor name '${name}'`);
    const numel = e.shape.reduce((a, d) => a * d, 1);
    const size = numel * (e.dtype === 'bfloat16' ? 2 : 4);
    header[name] = { dtype: e.dtype === 'int32' ? 'I32' : e.dtype === 'bfloat16' ? 'BF16' : 'F32', shape: [...e.shape], data_offsets: [off, off + size] };
    sizes.push(size);
    off += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return { header: out, sizes, totalBytes: out.length + off };
}

/** Bytes of a host array in little-endian order (a view when the host is little-endian). */
export function littleEndianBytes(a: HostArray): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(4 * i, a[i], true);
    else if (a instanceof Uint16Array) dv.setUint16(2 * i, a[i], true);
    else dv.setInt32(4 * i, a[i], true);
  }
  return out;
}

/** Encode host arrays as one safetensors file in memory. */
export function encodeSafetensors(
  tensors: Record<string, { dtype: KilnDType; shape: readonly number[]; data: HostArray }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const list = Object.entries(tensors);
  for (const [name, t] of list) {
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (numel !== t.data.length) {
      throw new KilnError(`safetensors: tensor '${name}': shape [${t.shape.join(', ')}] has ${numel} elements, data has ${t.data.length}`);
    }
  }
  const layout = layoutSafetensors(list, metadata);
  const out = new Uint8Array(layout.totalBytes);
  out.set(layout.header, 0);
  let off = layout.header.length;
  for (const [, t] of list) {
    out.set(littleEndianBytes(t.data), off);
    off += t.data.byteLength;
  }
  return out;
}
