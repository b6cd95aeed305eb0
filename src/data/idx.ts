/**
 * IDX files: the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/).
 *
 * Layout: two zero bytes, a type code, the number of dims D; then D big-endian u32 sizes;
 * then the data, row-major, big-endian. Type codes: 0x08 ubyte, 0x09 byte, 0x0B short,
 * 0x0C int, 0x0D float, 0x0E double. A gzipped file (.gz, or any file starting with the gzip
 * magic 1f 8b) is inflated first.
 *
 * This module has no tensor dependency: it returns plain typed arrays (already in host byte
 * order). `loadFashionMnist` in mnist.ts builds tensors from them.
 */
import { readFile } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { KilnError } from '../errors.js';
import { briefList, checkEmptyDims } from '../io/limits.js';

export type IdxTypedArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
export type IdxType = 'ubyte' | 'byte' | 'short' | 'int' | 'float' | 'double';

export interface IdxData {
  /** Dimension sizes, outermost first. */
  shape: number[];
  /** The values, row-major, in host byte order. */
  data: IdxTypedArray;
  /** The element type named by the file's type code. */
  type: IdxType;
}

const TYPES: Record<number, { type: IdxType; size: number }> = {
  0x08: { type: 'ubyte', size: 1 },
  0x09: { type: 'byte', size: 1 },
  0x0b: { type: 'short', size: 2 },
  0x0c: { type: 'int', size: 4 },
  0x0d: { type: 'float', size: 4 },
  0x0e: { type: 'double', size: 8 },
};
const CODES: Record<IdxType, number> = { ubyte: 0x08, byte: 0x09, short: 0x0b, int: 0x0c, float: 0x0d, double: 0x0e };

function hex(n: number, width = 2): string {
  return '0x' + n.toString(16).padStart(width, '0');
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/**
 * Parse an IDX file held in memory (gzipped or not). `name` (a file name) is used in errors.
 * Throws KilnError on a bad magic number, an unknown type code, or a byte length that does not
 * match the dims.
 */
export function parseIdx(buf: Uint8Array, name = '<buffer>'): IdxData {
  const fileBytes = buf.length;
  if (isGzip(buf)) {
    // Inflate only what the header declares: read the header from a bounded prefix first.
    const head = inflatePrefix(buf, name);
    const h = readHeader(head, name, fileBytes);
    const want = h.headerBytes + h.dataBytes;
    if (want > MAX_DEFLATE_RATIO * fileBytes + 1024) {
      throw new KilnError(
        `${name}: IDX dims [${briefList(h.shape)}] need ${want} bytes, more than a gzip file of ${fileBytes} bytes can inflate to (truncated or corrupt file?)`,
      );
    }
    buf = gunzip(buf, name, want);
  }
  const h = readHeader(buf, name, fileBytes);
  const { shape, info, numel, headerBytes } = h;
  const want = h.dataBytes;
  const have = buf.length - headerBytes;
  if (have !== want) {
    throw new KilnError(
      `${name}: IDX dims [${briefList(shape)}] of ${info.type} need ${want} data bytes, file has ${have}` +
        (have < want ? ' (truncated file?)' : ' (trailing bytes)'),
    );
  }
  const off = headerBytes;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let data: IdxTypedArray;
  switch (info.type) {
    case 'ubyte':
      data = new Uint8Array(buf.subarray(off, off + numel)); // a plain copy, never a Buffer view
      break;
    case 'byte':
      data = new Int8Array(new Uint8Array(buf.subarray(off, off + numel)).buffer);
      break;
    case 'short': {
      const a = new Int16Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getInt16(off + 2 * i, false);
      data = a;
      break;
    }
    case 'int': {
      const a = new Int32Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getInt32(off + 4 * i, false);
      data = a;
      break;
    }
    case 'float': {
      const a = new Float32Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getFloat32(off + 4 * i, false);
      data = a;
      break;
    }
    case 'double': {
      const a = new Float64Array(numel);
      for (let i = 0; i < numel; i++) a[i] = dv.getFloat64(off + 8 * i, false);
      data = a;
      break;
    }
  }
  return { shape, data, type: info.type };
}

interface IdxHeader {
  shape: number[];
  info: { type: IdxType; size: number };
  numel: number;
  headerBytes: number;
  dataBytes: number;
}

/** The magic number and dims, checked; `buf` needs to hold only the header. */
function readHeader(buf: Uint8Array, name: string, fileBytes: number): IdxHeader {
  if (buf.length < 4) {
    throw new KilnError(`${name}: not an IDX file: ${buf.length} bytes, shorter than the 4-byte magic number`);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new KilnError(`${name}: bad IDX magic number ${hex(magic, 8)} (expected 0x0000TTDD: two zero bytes, type code, dim count)`);
  }
  const info = TYPES[buf[2]];
  if (!info) {
    throw new KilnError(`${name}: bad IDX magic number ${hex(magic, 8)}: unknown type code ${hex(buf[2])} (expected 0x08, 0x09, 0x0b, 0x0c, 0x0d or 0x0e)`);
  }
  const ndim = buf[3];
  const headerBytes = 4 + 4 * ndim;
  if (buf.length < headerBytes) {
    throw new KilnError(`${name}: truncated IDX header: ${ndim} dims need ${headerBytes} header bytes, file has ${buf.length}`);
  }
  const shape: number[] = [];
  let numel = 1;
  for (let i = 0; i < ndim; i++) {
    const d = dv.getUint32(4 + 4 * i, false);
    shape.push(d);
    numel *= d;
  }
  checkEmptyDims(shape, fileBytes, () => name);
  return { shape, info, numel, headerBytes, dataBytes: numel * info.size };
}

/** Deflate cannot expand data more than about 1032 to 1 (258-byte matches in 2 bits). */
const MAX_DEFLATE_RATIO = 1032;
/** Enough inflated bytes for the largest IDX header (4 + 255 * 4). */
const HEADER_MAX = 1024;

function gzipError(e: unknown, name: string): KilnError {
  const msg = (e as Error).message;
  const what = /unexpected end/i.test(msg) ? 'truncated gzip data' : 'corrupt gzip data';
  return new KilnError(`${name}: ${what} (${msg})`);
}

function tooLarge(e: unknown): boolean {
  return (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * The first HEADER_MAX inflated bytes (fewer when the data is shorter), inflating growing
 * prefixes of the compressed bytes with a cap on their output, so a bomb right after the
 * header costs at most the cap. The prefix doubles until it yields enough; when a prefix
 * yields more than the cap, a bisection finds one that yields between the two (one input byte
 * adds at most MAX_DEFLATE_RATIO output bytes, far below the cap).
 */
function inflatePrefix(buf: Uint8Array, name: string): Uint8Array {
  const cap = 1 << 16;
  const opts = { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: cap };
  const tryPrefix = (k: number): Uint8Array | 'big' => {
    try {
      return gunzipSync(buf.subarray(0, k), opts);
    } catch (e) {
      if (tooLarge(e)) return 'big';
      throw gzipError(e, name);
    }
  };
  let lo = 0;
  let k = Math.min(buf.length, 64);
  for (;;) {
    const out = tryPrefix(k);
    if (out === 'big') break;
    if (out.length >= HEADER_MAX) return out;
    // All of it is short: inflate it properly (this notices a truncated stream).
    if (k === buf.length) return gunzip(buf, name, HEADER_MAX);
    lo = k;
    k = Math.min(buf.length, 2 * k);
  }
  let hi = k;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const out = tryPrefix(mid);
    if (out === 'big') hi = mid;
    else if (out.length >= HEADER_MAX) return out;
    else lo = mid;
  }
  throw new KilnError(`${name}: corrupt gzip data (the IDX header does not inflate from a bounded prefix)`);
}

/** Inflate all of `buf`, failing as soon as the output passes `limit` bytes. */
function gunzip(buf: Uint8Array, name: string, limit: number): Uint8Array {
  if (limit + 1 > bufferConstants.MAX_LENGTH) {
    throw new KilnError(`${name}: the IDX header declares ${limit} bytes, more than one buffer can hold (${bufferConstants.MAX_LENGTH})`);
  }
  try {
    return gunzipSync(buf, { maxOutputLength: limit + 1 });
  } catch (e) {
    if (tooLarge(e)) throw new KilnError(`${name}: gzip data inflates to more than the ${limit} bytes its IDX header declares (trailing bytes)`);
    throw gzipError(e, name);
  }
}

/** Read and parse an IDX file (`.gz` or plain). Errors name the file. */
export async function readIdx(path: string): Promise<IdxData> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new KilnError(`${path}: cannot read IDX file (${(e as Error).message})`);
  }
  return parseIdx(buf, path);
}

/**
 * Encode values as an IDX file (the inverse of parseIdx). `type` defaults from the array:
 * Uint8Array ubyte, Int8Array byte, Int16Array short, Int32Array int, Float32Array float,
 * Float64Array double. With `gzip: true` the result is gzipped.
 */
export function encodeIdx(shape: readonly number[], data: IdxTypedArray, opts: { gzip?: boolean; type?: IdxType } = {}): Uint8Array {
  const type: IdxType =
    opts.type ??
    (data instanceof Uint8Array ? 'ubyte'
      : data instanceof Int8Array ? 'byte'
      : data instanceof Int16Array ? 'short'
      : data instanceof Int32Array ? 'int'
      : data instanceof Float32Array ? 'float'
      : 'double');
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel !== data.length) {
    throw new KilnError(`encodeIdx: shape [${shape.join(', ')}] has ${numel} elements, data has ${data.length}`);
  }
  if (shape.length > 255) throw new KilnError(`encodeIdx: at most 255 dims, got ${shape.length}`);
  const size = TYPES[CODES[type]].size;
  const header = 4 + 4 * shape.length;
  const out = new Uint8Array(header + numel * size);
  const dv = new DataView(out.buffer);
  out[2] = CODES[type];
  out[3] = shape.length;
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < numel; i++) {
    const v = data[i];
    const p = header + i * size;
    switch (type) {
      case 'ubyte': dv.setUint8(p, v); break;
      case 'byte': dv.setInt8(p, v); break;
      case 'short': dv.setInt16(p, v, false); break;
      case 'int': dv.setInt32(p, v, false); break;
      case 'float': dv.setFloat32(p, v, false); break;
      case 'double': dv.setFloat64(p, v, false); break;
    }
  }
  return opts.gzip ? gzipSync(out, { level: 9 }) : out;
}
