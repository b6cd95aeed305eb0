/**
 * TFRecord framing, the container of TensorBoard event files: each record is
 *   uint64 length (little-endian), uint32 masked CRC-32C of those 8 bytes,
 *   the data, uint32 masked CRC-32C of the data.
 */
import { KilnError } from '../errors.js';
import { maskedCrc32c } from './crc32c.js';

export function encodeRecord(data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length + 4);
  out.writeBigUInt64LE(BigInt(data.length), 0);
  out.writeUInt32LE(maskedCrc32c(out.subarray(0, 8)), 8);
  out.set(data, 12);
  out.writeUInt32LE(maskedCrc32c(data), 12 + data.length);
  return out;
}

/** The records of a TFRecord file, every CRC checked; a damaged or cut record is a KilnError. */
export function decodeRecords(file: Uint8Array, name = 'file'): Uint8Array[] {
  const buf = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 12 > buf.length) throw new KilnError(`${name}: record ${out.length} is cut short (header at byte ${pos})`);
    const len = buf.readBigUInt64LE(pos);
    if (buf.readUInt32LE(pos + 8) !== maskedCrc32c(buf.subarray(pos, pos + 8))) {
      throw new KilnError(`${name}: record ${out.length} has a bad length CRC (byte ${pos})`);
    }
    if (len > BigInt(buf.length - pos - 16)) throw new KilnError(`${name}: record ${out.length} is cut short (length ${len})`);
    const n = Number(len);
    const data = buf.subarray(pos + 12, pos + 12 + n);
    if (buf.readUInt32LE(pos + 12 + n) !== maskedCrc32c(data)) {
      throw new KilnError(`${name}: record ${out.length} has a bad data CRC (byte ${pos})`);
    }
    out.push(new Uint8Array(data));
    pos += 16 + n;
  }
  return out;
}
