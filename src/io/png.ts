/** A minimal PNG encoder (8-bit, no filtering, zlib-deflated): for TensorBoard image summaries. */
import { crc32, deflateSync } from 'node:zlib';
import { check } from '../errors.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** PNG colour type by channel count: grey, grey + alpha, RGB, RGBA. */
const COLOR_TYPE: Record<number, number> = { 1: 0, 2: 4, 3: 2, 4: 6 };

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** pixels: height x width x channels bytes, row-major, channels interleaved (HWC). */
export function encodePng(width: number, height: number, channels: number, pixels: Uint8Array): Buffer {
  check(COLOR_TYPE[channels] !== undefined, () => `channels: expected 1, 2, 3 or 4, got ${channels}`);
  check(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0,
    () => `image: expected a positive width and height, got ${width}x${height}`);
  check(pixels.length === width * height * channels, () => `pixels: expected ${width * height * channels} bytes, got ${pixels.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = COLOR_TYPE[channels];
  // compression, filter method, interlace: 0
  const stride = width * channels;
  const raw = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter byte 0
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}
