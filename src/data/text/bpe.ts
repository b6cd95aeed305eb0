/**
 * A byte-level BPE tokenizer (GPT-2's scheme): text is split into chunks by GPT-2's pattern
 * (words with their leading space, numbers, punctuation runs, whitespace), each chunk is UTF-8
 * bytes (ids 0-255, so any text encodes), and learned merges join the most frequent adjacent
 * pairs into new ids 256, 257, ... Training counts pairs over the distinct chunks weighted by
 * frequency and merges the most frequent pair (ties: the smallest pair of ids), until vocabSize.
 * Encoding applies merges by rank inside each chunk. Decoding joins the bytes and reads UTF-8.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { KilnError } from '../../errors.js';
import { checkOptions } from '../../options.js';

// GPT-2's pre-tokenizer pattern
const PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8');

function chunks(text: string): string[] {
  return text.match(PATTERN) ?? [];
}

export interface BpeTrainOptions {
  /** Final vocabulary size, at least 256 (the bytes). */
  vocabSize: number;
  /** Stop when the best pair occurs fewer times (default 2). */
  minFrequency?: number;
}

export class ByteBPETokenizer {
  /** merges[k] = [a, b]: ids a, b join into id 256 + k. */
  readonly merges: [number, number][];
  private readonly rank = new Map<number, number>();
  private readonly bytesOf: Uint8Array[];
  private readonly cache = new Map<string, number[]>();

  constructor(merges: readonly (readonly [number, number])[]) {
    if (!Array.isArray(merges)) throw new KilnError('merges: expected an array of [a, b] id pairs');
    this.merges = [];
    this.bytesOf = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));
    merges.forEach((m, k) => {
      const id = 256 + k;
      if (!Array.isArray(m) || m.length !== 2 || !m.every((x) => Number.isInteger(x) && x >= 0 && x < id)) {
        throw new KilnError(`merges[${k}]: expected two ids below ${id}, got ${JSON.stringify(m)}`);
      }
      const [a, b] = m as [number, number];
      const key = a * 1048576 + b;
      if (this.rank.has(key)) throw new KilnError(`merges[${k}]: the pair [${a}, ${b}] is merged twice`);
      this.rank.set(key, k);
      this.merges.push([a, b]);
      const joined = new Uint8Array(this.bytesOf[a].length + this.bytesOf[b].length);
      joined.set(this.bytesOf[a]);
      joined.set(this.bytesOf[b], this.bytesOf[a].length);
      this.bytesOf.push(joined);
    });
  }

  get vocabSize(): number {
    return 256 + this.merges.length;
  }

  /** Learns merges from text until vocabSize ids (or no pair occurs minFrequency times). */
  static train(text: string, opts: BpeTrainOptions): ByteBPETokenizer {
    checkOptions(opts, ['vocabSize', 'minFrequency'], 'ByteBPETokenizer.train');
    if (typeof text !== 'string') throw new KilnError('text: expected a string');
    const { vocabSize, minFrequency = 2 } = opts ?? ({} as BpeTrainOptions);
    if (!Number.isInteger(vocabSize) || vocabSize < 256) throw new KilnError(`vocabSize: expected an integer >= 256, got ${String(vocabSize)}`);
    if (!Number.isInteger(minFrequency) || minFrequency < 1) throw new KilnError(`minFrequency: expected a positive integer, got ${String(minFrequency)}`);
    const freq = new Map<string, number>();
    for (const c of chunks(text)) freq.set(c, (freq.get(c) ?? 0) + 1);
    const words = [...freq.entries()].map(([w, f]) => ({ ids: Array.from(utf8.encode(w)), f }));
    const merges: [number, number][] = [];
    for (let id = 256; id < vocabSize; id++) {
      const counts = new Map<number, number>();
      for (const { ids, f } of words) {
        for (let i = 0; i + 1 < ids.length; i++) {
          const key = ids[i] * 1048576 + ids[i + 1];
          counts.set(key, (counts.get(key) ?? 0) + f);
        }
      }
      let best = -1;
      let bestCount = 0;
      for (const [key, c] of counts) if (c > bestCount || (c === bestCount && key < best)) [best, bestCount] = [key, c];
      if (best < 0 || bestCount < minFrequency) break;
      const a = Math.floor(best / 1048576);
      const b = best % 1048576;
      merges.push([a, b]);
      for (const w of words) w.ids = mergePair(w.ids, a, b, id);
    }
    return new ByteBPETokenizer(merges);
  }

  private encodeChunk(chunk: string): number[] {
    const hit = this.cache.get(chunk);
    if (hit) return hit;
    let ids = Array.from(utf8.encode(chunk));
    for (;;) {
      // the pair of lowest rank present
      let bestRank = Infinity;
      let pair = -1;
      for (let i = 0; i + 1 < ids.length; i++) {
        const r = this.rank.get(ids[i] * 1048576 + ids[i + 1]);
        if (r !== undefined && r < bestRank) [bestRank, pair] = [r, i];
      }
      if (pair < 0) break;
      const [a, b] = this.merges[bestRank];
      ids = mergePair(ids, a, b, 256 + bestRank);
    }
    if (this.cache.size < 100_000) this.cache.set(chunk, ids);
    return ids;
  }

  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new KilnError('text: expected a string');
    const out: number[] = [];
    for (const c of chunks(text)) for (const id of this.encodeChunk(c)) out.push(id);
    return Int32Array.from(out);
  }

  /** The text of ids; bytes that are not valid UTF-8 (a cut multi-byte character) read as U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    let n = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytesOf[ids[i]];
      if (b === undefined) throw new KilnError(`decode: id ${ids[i]} is outside the vocabulary [0, ${this.vocabSize})`);
      parts.push(b);
      n += b.length;
    }
    const all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return fromUtf8.decode(all);
  }

  toJSON(): { type: 'byte-bpe'; merges: [number, number][] } {
    return { type: 'byte-bpe', merges: this.merges };
  }
  static fromJSON(j: unknown): ByteBPETokenizer {
    const o = j as { type?: unknown; merges?: unknown };
    if (!o || o.type !== 'byte-bpe' || !Array.isArray(o.merges)) throw new KilnError("ByteBPETokenizer.fromJSON: expected { type: 'byte-bpe', merges: [...] }");
    return new ByteBPETokenizer(o.merges as [number, number][]);
  }
  save(path: string): void {
    writeFileSync(path, JSON.stringify(this.toJSON()));
  }
  static load(path: string): ByteBPETokenizer {
    return ByteBPETokenizer.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
  }
}

function mergePair(ids: number[], a: number, b: number, id: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (i + 1 < ids.length && ids[i] === a && ids[i + 1] === b) {
      out.push(id);
      i++;
    } else {
      out.push(ids[i]);
    }
  }
  return out;
}
