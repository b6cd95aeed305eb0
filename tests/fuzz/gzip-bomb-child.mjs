// Run by reader-bounds.test.ts: node --import ./tests/io/ts-loader.mjs tests/fuzz/gzip-bomb-child.mjs
// A gzip IDX file whose header declares 1000 bytes and whose stream inflates to 256 MB. The
// stream is built chunk by chunk so that building it does not raise the peak RSS. Prints
// {error, compressedBytes, rssGrowthMB}.
import { crc32, createDeflateRaw } from 'node:zlib';
import { parseIdx } from '../../src/data/idx.ts';

const header = new Uint8Array(8);
header[2] = 0x08;
header[3] = 1;
new DataView(header.buffer).setUint32(4, 1000, false);

// A raw deflate stream of header + 256 MB of zeros, produced in 1 MB pieces with a sync flush.
const z = createDeflateRaw({ level: 9 });
const parts = [];
z.on('data', (c) => parts.push(c));
const zero = new Uint8Array(1 << 20);
let crc = crc32(header);
z.write(header);
for (let i = 0; i < 256; i++) {
  z.write(zero);
  crc = crc32(zero, crc);
}
await new Promise((r) => z.end(r));
const body = Buffer.concat(parts);
const gz = Buffer.concat([
  Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]),
  body,
  Buffer.from(new Uint32Array([crc >>> 0, (8 + 256 * (1 << 20)) >>> 0]).buffer),
]);

const before = process.resourceUsage().maxRSS;
let error = null;
try {
  parseIdx(gz, 'bomb-idx1-ubyte.gz');
} catch (e) {
  error = `${e.name}: ${e.message}`;
}
const after = process.resourceUsage().maxRSS;
console.log(JSON.stringify({ error, compressedBytes: gz.length, rssGrowthMB: (after - before) / 1024 }));
