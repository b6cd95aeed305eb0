// TensorBoard event files, read back without Kiln's reader: TFRecord frames parsed by hand with
// a bitwise CRC-32C (checked on the standard test vector), protobuf fields decoded by a small
// wire-format decoder keyed by TensorBoard's field numbers (event.proto, summary.proto, ...), and
// the PNG inflated and compared pixel by pixel. Then the same file through readTensorBoardEvents.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { maskedCrc32c } from '../../src/io/crc32c.js';
import { setup } from './helpers.js';
import { trackedTensors } from '../helpers/memory.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `kiln-${name}-`));

/** CRC-32C bit by bit (no table), the reference for the framing. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
const masked = (data: Uint8Array) => {
  const c = crc32cBitwise(data);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
};

function frames(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < file.length) {
    const header = file.subarray(pos, pos + 8);
    expect(file.readUInt32LE(pos + 8)).toBe(masked(header));
    const n = Number(file.readBigUInt64LE(pos));
    const data = file.subarray(pos + 12, pos + 12 + n);
    expect(file.readUInt32LE(pos + 12 + n)).toBe(masked(data));
    out.push(data);
    pos += 16 + n;
  }
  expect(pos).toBe(file.length);
  return out;
}

/** Protobuf wire format: field number -> list of raw values (varint as bigint, fixed as Buffer, bytes as Buffer). */
type Fields = Map<number, (bigint | Buffer)[]>;
function decode(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++];
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    const wire = key & 7;
    let value: bigint | Buffer;
    if (wire === 0) value = varint();
    else if (wire === 1) { value = buf.subarray(pos, pos + 8); pos += 8; }
    else if (wire === 5) { value = buf.subarray(pos, pos + 4); pos += 4; }
    else if (wire === 2) { const n = Number(varint()); value = buf.subarray(pos, pos + n); pos += n; }
    else throw new Error(`wire type ${wire}`);
    if (!fields.has(field)) fields.set(field, []);
    fields.get(field)!.push(value);
  }
  return fields;
}
const one = (f: Fields, n: number) => f.get(n)?.[0];
const msg = (f: Fields, n: number) => decode(one(f, n) as Buffer);
const str = (f: Fields, n: number) => (one(f, n) as Buffer | undefined)?.toString('utf8');
const dbl = (f: Fields, n: number) => (one(f, n) as Buffer).readDoubleLE(0);
const flt = (f: Fields, n: number) => (one(f, n) as Buffer).readFloatLE(0);
const packedDoubles = (f: Fields, n: number) => {
  const b = one(f, n) as Buffer;
  return Array.from({ length: b.length / 8 }, (_, i) => b.readDoubleLE(8 * i));
};

// TensorBoard's field numbers
const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 };
const VALUE = { tag: 1, simpleValue: 2, image: 4, histo: 5, tensor: 8, metadata: 9 };

/** Each summary event as { step, tag, value fields }. */
function summaries(file: string) {
  const events = frames(readFileSync(file)).map(decode);
  const first = events.shift()!;
  expect(str(first, EVENT.fileVersion)).toBe('brain.Event:2');
  return events.map((e) => {
    expect(dbl(e, EVENT.wallTime)).toBeGreaterThan(1.6e9);
    const values = msg(e, EVENT.summary).get(1)!;
    expect(values.length).toBe(1);
    const v = decode(values[0] as Buffer);
    return { step: Number(one(e, EVENT.step) ?? 0n), tag: str(v, VALUE.tag)!, v };
  });
}

describe('crc32c', () => {
  it('matches the CRC-32C check value, and the table-driven CRC of Kiln matches the bitwise one', () => {
    expect(crc32cBitwise(Buffer.from('123456789'))).toBe(0xe3069283);
    for (const n of [0, 1, 7, 1000]) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + n) & 255));
      expect(maskedCrc32c(bytes)).toBe(masked(bytes));
    }
  });
});

describe('TensorBoardLogger', () => {
  it('writes scalars, histograms, images, text and hyperparameters that decode to what was logged', () => {
    const dir = tmp('tb');
    const tb = new kiln.train.TensorBoardLogger(dir, { filenameSuffix: '.test' });
    expect(readdirSync(dir)).toEqual([tb.path.split('/').pop()]);
    expect(tb.path).toMatch(/events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+\.test$/);
    tb.addScalar('train/loss', 0.25, 3);
    tb.addScalar('train/loss', kiln.tensor([0.125]), 4);
    const values = [-1.5, -0.25, 0, 0, 0.5, 2, 2, 3.75];
    tb.addHistogram('w', kiln.tensor(values), 7, { bins: 4 });
    // a 2x3 RGB image, CHW, values in [0, 1]
    const img = kiln.tensor([[[0, 0.5, 1], [0.25, 0.75, 0.999]], [[1, 1, 1], [0, 0, 0]], [[0.1, 0.2, 0.3], [0.4, 0.6, 0.8]]]);
    tb.addImage('img', img, 9);
    tb.addText('note', 'héllo **world**', 2);
    tb.addHparams({ lr: 0.01, optimizer: 'adam', nesterov: true }, { 'hparam/accuracy': 0.875 });
    tb.close();
    expect(() => tb.addScalar('late', 1)).toThrow(/closed/);

    const s = summaries(tb.path);
    expect(s.map((e) => e.tag)).toEqual(['train/loss', 'train/loss', 'w', 'img', 'note/text_summary', '_hparams_/experiment',
      '_hparams_/session_start_info', 'hparam/accuracy', '_hparams_/session_end_info']);
    expect(s.map((e) => e.step)).toEqual([3, 4, 7, 9, 2, 0, 0, 0, 0]);
    expect(flt(s[0].v, VALUE.simpleValue)).toBe(0.25);
    expect(flt(s[1].v, VALUE.simpleValue)).toBe(0.125);

    // histogram: min 1, max 2, num 3, sum 4, sum_squares 5, bucket_limit 6, bucket 7
    const h = msg(s[2].v, VALUE.histo);
    expect(dbl(h, 1)).toBe(-1.5);
    expect(dbl(h, 2)).toBe(3.75);
    expect(dbl(h, 3)).toBe(8);
    expect(dbl(h, 4)).toBeCloseTo(values.reduce((a, b) => a + b), 12);
    expect(dbl(h, 5)).toBeCloseTo(values.reduce((a, b) => a + b * b, 0), 12);
    // 4 equal buckets over [-1.5, 3.75]: limits -0.1875, 1.125, 2.4375, 3.75
    expect(packedDoubles(h, 6)).toEqual([-0.1875, 1.125, 2.4375, 3.75]);
    expect(packedDoubles(h, 7)).toEqual([2, 3, 2, 1]);

    // image: height 1, width 2, colorspace 3, encoded 4
    const im = msg(s[3].v, VALUE.image);
    expect([Number(one(im, 1)), Number(one(im, 2)), Number(one(im, 3))]).toEqual([2, 3, 3]);
    const png = one(im, 4) as Buffer;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    let pos = 8;
    const chunks: Record<string, Buffer> = {};
    while (pos < png.length) {
      const n = png.readUInt32BE(pos);
      const type = png.toString('latin1', pos + 4, pos + 8);
      expect(png.readUInt32BE(pos + 8 + n)).toBe(crc32(png.subarray(pos + 4, pos + 8 + n)));
      chunks[type] = png.subarray(pos + 8, pos + 8 + n);
      pos += 12 + n;
    }
    expect([chunks.IHDR.readUInt32BE(0), chunks.IHDR.readUInt32BE(4), chunks.IHDR[8], chunks.IHDR[9]]).toEqual([3, 2, 8, 2]);
    const raw = inflateSync(chunks.IDAT);
    const chw = img.toTypedArray();
    const expected: number[] = [];
    for (let y = 0; y < 2; y++) {
      expected.push(0); // filter byte
      for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) expected.push(Math.trunc(Math.min(255, chw[(c * 2 + y) * 3 + x] * 255)));
    }
    expect(Array.from(raw)).toEqual(expected);

    // text: metadata.plugin_data.plugin_name 'text'; tensor dtype DT_STRING (7), shape [1], string_val
    const meta = msg(s[4].v, VALUE.metadata);
    expect(str(msg(meta, 1), 1)).toBe('text');
    const t = msg(s[4].v, VALUE.tensor);
    expect(Number(one(t, 1))).toBe(7);
    expect(Number(one(decode(one(msg(t, 2), 2) as Buffer), 1))).toBe(1);
    expect(str(t, 8)).toBe('héllo **world**');

    // hparams: plugin 'hparams', content HParamsPluginData { experiment 2 | session_start_info 3 | session_end_info 4 }
    const content = (i: number) => {
      const pd = msg(msg(s[i].v, VALUE.metadata), 1);
      expect(str(pd, 1)).toBe('hparams');
      return decode(one(pd, 2) as Buffer);
    };
    const exp = msg(content(5), 2);
    const infos = exp.get(4)!.map((b) => decode(b as Buffer));
    expect(infos.map((i) => [str(i, 1), Number(one(i, 4))])).toEqual([['lr', 3], ['optimizer', 1], ['nesterov', 2]]);
    expect(str(msg(decode(exp.get(5)![0] as Buffer), 1), 2)).toBe('hparam/accuracy');
    const start = msg(content(6), 3);
    const hp = new Map(start.get(1)!.map((e) => {
      const entry = decode(e as Buffer); // map entry: key 1, value 2 (google.protobuf.Value)
      return [str(entry, 1)!, msg(entry, 2)];
    }));
    expect(dbl(hp.get('lr')!, 2)).toBe(0.01); // number_value
    expect(str(hp.get('optimizer')!, 3)).toBe('adam'); // string_value
    expect(Number(one(hp.get('nesterov')!, 4))).toBe(1); // bool_value
    expect(flt(s[7].v, VALUE.simpleValue)).toBe(0.875);
    expect(Number(one(msg(content(8), 4), 1))).toBe(1); // STATUS_SUCCESS

    // the same file through Kiln's reader
    const events = kiln.train.readTensorBoardEvents(tb.path);
    expect(events[0].fileVersion).toBe('brain.Event:2');
    expect(events[3].summary.value[0].histo.bucket).toEqual([2, 3, 2, 1]);
    img.dispose();
  });

  it('rejects bad arguments with the argument named', () => {
    const tb = new kiln.train.TensorBoardLogger(tmp('tb-bad'));
    expect(() => tb.addScalar('', 1)).toThrow(/tag/);
    expect(() => tb.addScalar('a', 1, -1)).toThrow(/step/);
    expect(() => tb.addHistogram('h', [1, NaN])).toThrow(/finite/);
    expect(() => tb.addHistogram('h', [1], 0, { buckets: 3 } as any)).toThrow(/unknown option 'buckets'/);
    const bad = kiln.zeros([2, 4, 4]);
    expect(() => tb.addImage('i', bad)).toThrow(/channels/);
    bad.dispose();
    expect(() => new kiln.train.TensorBoardLogger(tmp('tb-bad2'), { flushSecs: 1 } as any)).toThrow(/unknown option 'flushSecs'/);
    expect(() => tb.callback({ histograms: true })).toThrow(/model/);
    tb.close();
    const file = readFileSync(tb.path);
    const cut = join(tmp('tb-cut'), 'events.out.tfevents.cut');
    writeFileSync(cut, file.subarray(0, file.length - 3));
    expect(() => kiln.train.readTensorBoardEvents(cut)).toThrow(/cut short|CRC/);
    const flipped = Buffer.from(file);
    flipped[20] ^= 1;
    writeFileSync(cut, flipped);
    expect(() => kiln.train.readTensorBoardEvents(cut)).toThrow(/CRC/);
  });

  it('logs a fit run: batch losses, epoch records and weight/gradient histograms, with flat memory', async () => {
    const s = setup(1);
    const dir = tmp('tb-fit');
    const tb = new kiln.train.TensorBoardLogger(dir);
    // one epoch without the logger first: gradients and Adam's state exist, so the count is flat from here
    await kiln.fit(s.model, { trainData: s.trainData, epochs: 1, optimizer: s.optimizer, verbose: false });
    const before = trackedTensors();
    const history = await kiln.fit(s.model, { trainData: s.trainData, valData: s.valData, epochs: 2, optimizer: s.optimizer,
      verbose: false, callbacks: [tb.callback({ model: s.model, everyNBatches: 2 })] });
    tb.close();
    expect(trackedTensors()).toBe(before);
    const events = summaries(tb.path);
    const batch = events.filter((e) => e.tag === 'batch/loss');
    expect(batch.map((e) => e.step)).toEqual([2, 4, 6, 8, 10, 12, 14, 16]); // 240 / 32 = 8 batches per epoch
    for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const) {
      const logged = events.filter((e) => e.tag === `epoch/${key}`);
      expect(logged.map((e) => e.step)).toEqual([1, 2]);
      logged.forEach((e, i) => expect(flt(e.v, VALUE.simpleValue)).toBe(Math.fround(history.epochs[i][key]!)));
    }
    const names = s.model.namedParameters().map(([n]) => n);
    for (const n of names) {
      const w = events.filter((e) => e.tag === `weights/${n}`);
      expect(w.map((e) => e.step)).toEqual([1, 2]);
      expect(events.filter((e) => e.tag === `gradients/${n}`).length).toBe(2);
    }
    // the last weight histogram holds the final weights
    const p = s.model.namedParameters()[0][1].toTypedArray();
    const h = msg(events.filter((e) => e.tag === `weights/${names[0]}`)[1].v, VALUE.histo);
    expect(dbl(h, 3)).toBe(p.length);
    expect(dbl(h, 1)).toBe(Math.min(...p));
    expect(dbl(h, 2)).toBe(Math.max(...p));
    expect(packedDoubles(h, 7).reduce((a, b) => a + b)).toBe(p.length);
  });
});

describe('makeGrid', () => {
  it('lays out images as torchvision.utils.make_grid, grey repeated to RGB', () => {
    // 5 grey 2x3 images with distinct values, nrow 2, padding 1, padValue -1
    const B = 5, H = 2, W = 3;
    const data = Float32Array.from({ length: B * H * W }, (_, i) => i);
    const x = kiln.tensor(data, { shape: [B, 1, H, W] });
    const g = kiln.utils.makeGrid(x, { nrow: 2, padding: 1, padValue: -1 });
    const cols = 2, rows = 3;
    const GH = rows * (H + 1) + 1, GW = cols * (W + 1) + 1;
    expect(g.shape).toEqual([3, GH, GW]);
    const expected = new Float32Array(3 * GH * GW).fill(-1);
    for (let b = 0; b < B; b++) {
      const y0 = Math.floor(b / cols) * (H + 1) + 1, x0 = (b % cols) * (W + 1) + 1;
      for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let xx = 0; xx < W; xx++) {
        expected[(c * GH + y0 + y) * GW + x0 + xx] = data[(b * H + y) * W + xx];
      }
    }
    expect(Array.from(g.toTypedArray())).toEqual(Array.from(expected));
    // normalize: (v - min) / (max - min) over the batch
    const n = kiln.utils.makeGrid(x, { nrow: 5, padding: 0, normalize: true });
    const nv = n.toTypedArray();
    expect(nv[0]).toBe(0);
    expect(Math.max(...nv)).toBeCloseTo(1, 5);
    // one image: no padding
    const single = kiln.utils.makeGrid(x.narrow(0, 0, 1));
    expect(single.shape).toEqual([3, H, W]);
    expect(() => kiln.utils.makeGrid(x, { rows: 2 } as any)).toThrow(/unknown option 'rows'/);
    for (const t of [x, g, n, single]) t.dispose();
  });
});
