// kiln.data.text: tokenizers (character, byte-level BPE), windows for language modelling, the corpus.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { text } = kiln.data;

describe('data.text', () => {
  const corpus = text.loadTinyShakespeare();
  it('the bundled corpus is Tiny Shakespeare, whole', () => {
    expect(corpus.length).toBe(1115394);
    expect(corpus.startsWith('First Citizen:\nBefore we proceed any further, hear me speak.')).toBe(true);
  });

  it('CharTokenizer: 65 symbols, sorted by code point, round trip, save/load, unknown characters refused', () => {
    const tok = text.CharTokenizer.fromText(corpus);
    expect(tok.vocabSize).toBe(65);
    expect(tok.chars.slice(0, 3)).toEqual(['\n', ' ', '!']);
    const ids = tok.encode('Hello, world!');
    expect(Array.from(ids)).toEqual([20, 43, 50, 50, 53, 6, 1, 61, 53, 56, 50, 42, 2]);
    expect(tok.decode(ids)).toBe('Hello, world!');
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-text-')), 'char.json');
    tok.save(path);
    expect(text.CharTokenizer.load(path).chars).toEqual(tok.chars);
    expect(() => tok.encode('café')).toThrow(/character "é" \(U\+00E9\) is not in the vocabulary/);
    expect(() => tok.decode([65])).toThrow(/id 65 is outside the vocabulary/);
  });

  it('ByteBPETokenizer: the textbook merges on "aaabdaaabac", ties to the smallest pair', () => {
    const tok = text.ByteBPETokenizer.train('aaabdaaabac', { vocabSize: 300 });
    expect(tok.merges).toEqual([[97, 97], [97, 98], [256, 257]]);
    expect(Array.from(tok.encode('aaabdaaabac'))).toEqual([258, 100, 258, 97, 99]);
    expect(tok.decode(tok.encode('aaabdaaabac'))).toBe('aaabdaaabac');
  });

  it('ByteBPETokenizer on Shakespeare: compresses, round-trips any text (bytes for the unseen), saves and loads', () => {
    const sample = corpus.slice(0, 20000);
    const tok = text.ByteBPETokenizer.train(sample, { vocabSize: 356 });
    expect(tok.vocabSize).toBe(356);
    const ids = tok.encode(sample);
    expect(ids.length).toBeLessThan(0.65 * sample.length); // 100 merges: 12 081 tokens for 20 000 characters
    expect(tok.decode(ids)).toBe(sample);
    const odd = 'héllo wörld ✓ 123 — naïve\n\n  tabs\t';
    expect(tok.decode(tok.encode(odd))).toBe(odd);
    const path = join(mkdtempSync(join(tmpdir(), 'kiln-text-')), 'bpe.json');
    tok.save(path);
    const back = text.ByteBPETokenizer.load(path);
    expect(Array.from(back.encode(sample.slice(0, 500)))).toEqual(Array.from(tok.encode(sample.slice(0, 500))));
    expect(() => text.ByteBPETokenizer.train(sample, { vocabSize: 100 })).toThrow(/vocabSize: expected an integer >= 256/);
    expect(() => text.ByteBPETokenizer.train(sample, { vocab_size: 300 } as any)).toThrow(/unknown option 'vocab_size'/);
    expect(() => new text.ByteBPETokenizer([[300, 1]])).toThrow(/merges\[0\]: expected two ids below 256/);
  });

  it('TokenWindowDataset: next-token targets, strides, batches through a DataLoader', async () => {
    const tokens = Int32Array.from({ length: 20 }, (_, i) => i);
    const ds = new text.TokenWindowDataset(tokens, 4, { stride: 3 });
    expect(ds.length).toBe(6); // starts 0, 3, ..., 15 (15 + 4 < 20)
    const [x, y] = ds.get(5);
    expect(x.toArray()).toEqual([15, 16, 17, 18]);
    expect(y.toArray()).toEqual([16, 17, 18, 19]);
    const loader = new kiln.data.DataLoader(ds, { batchSize: 4 });
    const shapes: number[][] = [];
    for await (const [bx, by] of loader) {
      shapes.push([...bx.shape]);
      expect(by.dtype).toBe('int32');
      expect(Array.from(by.toTypedArray()).every((v, i) => v === bx.toTypedArray()[i] + 1)).toBe(true);
    }
    expect(shapes).toEqual([[4, 4], [2, 4]]);
    const [bx] = ds.batchAt([0, 7]);
    expect(bx.toArray()).toEqual([[0, 1, 2, 3], [7, 8, 9, 10]]);
    expect(() => ds.windowAt(16)).toThrow(/offset: 16 is out of range \[0, 15\]/);
    expect(() => new text.TokenWindowDataset(tokens, 20)).toThrow(/cannot fill one window/);
    expect(() => new text.TokenWindowDataset(tokens, 4, { step: 2 } as any)).toThrow(/unknown option 'step'/);
  });
});
