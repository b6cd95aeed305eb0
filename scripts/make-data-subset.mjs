#!/usr/bin/env node
// Builds data/fashion-mnist-subset/ from the full Fashion-MNIST set: a class-balanced subset
// (the first N/10 images of each class, in file order) of the train and test splits, written
// as gzipped IDX files with the standard names, so the same loader reads either.
//
//   node scripts/make-data-subset.mjs [--src DIR] [--out DIR] [--train N] [--test N]
//
// Defaults: --src /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist),
// --out data/fashion-mnist-subset, --train 5000, --test 1000. The output is deterministic.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const src = opt('--src', '/usr/share/datasets/fashion-mnist');
const out = opt('--out', 'data/fashion-mnist-subset');
const counts = { train: Number(opt('--train', 5000)), t10k: Number(opt('--test', 1000)) };
const CLASSES = 10;

function readIdx(path, wantMagic) {
  let buf = readFileSync(path);
  if (buf[0] === 0x1f && buf[1] === 0x8b) buf = gunzipSync(buf);
  const magic = buf.readUInt32BE(0);
  if (magic !== wantMagic) throw new Error(`${path}: magic 0x${magic.toString(16)}, expected 0x${wantMagic.toString(16)}`);
  const nd = buf[3];
  const dims = [];
  for (let i = 0; i < nd; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  const data = buf.subarray(4 + 4 * nd);
  if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`${path}: size does not match dims`);
  return { dims, data };
}

function writeIdx(path, magic, dims, data) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  // mtime 0 and no name in the gzip header: zlib writes neither, so output is reproducible.
  const gz = gzipSync(Buffer.concat([head, data]), { level: 9 });
  writeFileSync(path, gz);
  return gz.length;
}

mkdirSync(out, { recursive: true });
let total = 0;
for (const split of ['train', 't10k']) {
  const images = readIdx(join(src, `${split}-images-idx3-ubyte.gz`), 0x803);
  const labels = readIdx(join(src, `${split}-labels-idx1-ubyte.gz`), 0x801);
  const [n, h, w] = images.dims;
  const want = counts[split];
  if (want % CLASSES !== 0) throw new Error(`--${split === 't10k' ? 'test' : 'train'} must be a multiple of ${CLASSES}`);
  const perClass = want / CLASSES;
  const taken = new Array(CLASSES).fill(0);
  const pick = [];
  for (let i = 0; i < n && pick.length < want; i++) {
    const c = labels.data[i];
    if (taken[c] < perClass) {
      taken[c]++;
      pick.push(i);
    }
  }
  if (pick.length !== want) throw new Error(`${split}: only ${pick.length} images found for ${want}`);
  const img = Buffer.alloc(want * h * w);
  const lbl = Buffer.alloc(want);
  pick.forEach((i, k) => {
    images.data.copy(img, k * h * w, i * h * w, (i + 1) * h * w);
    lbl[k] = labels.data[i];
  });
  total += writeIdx(join(out, `${split}-images-idx3-ubyte.gz`), 0x803, [want, h, w], img);
  total += writeIdx(join(out, `${split}-labels-idx1-ubyte.gz`), 0x801, [want], lbl);
  console.log(`${split}: ${want} images (${perClass} per class) from ${n}`);
}
console.log(`wrote ${out} (${(total / 1e6).toFixed(2)} MB)`);
