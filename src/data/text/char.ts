/** A character-level tokenizer: one id per distinct character (Unicode code point) of a corpus. */
import { readFileSync, writeFileSync } from 'node:fs';
import { KilnError } from '../../errors.js';

export class CharTokenizer {
  readonly chars: string[];
  private readonly ids: Map<string, number>;

  /** The vocabulary in id order: each entry one code point. */
  constructor(chars: readonly string[]) {
    if (!Array.isArray(chars) || chars.length === 0) throw new KilnError('chars: expected a non-empty array of characters');
    this.chars = [...chars];
    this.ids = new Map();
    this.chars.forEach((c, i) => {
      if (typeof c !== 'string' || [...c].length !== 1) throw new KilnError(`chars[${i}]: expected one character, got ${JSON.stringify(String(c).slice(0, 20))}`);
      if (this.ids.has(c)) throw new KilnError(`chars[${i}]: ${JSON.stringify(c)} appears twice`);
      this.ids.set(c, i);
    });
  }

  /** The sorted distinct characters of text (by code point, as sorted(set(text)) in Python). */
  static fromText(text: string): CharTokenizer {
    if (typeof text !== 'string' || text.length === 0) throw new KilnError('text: expected a non-empty string');
    const set = [...new Set(text)];
    set.sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(set);
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  encode(text: string): Int32Array {
    if (typeof text !== 'string') throw new KilnError('text: expected a string');
    const out: number[] = [];
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined) throw new KilnError(`encode: character ${JSON.stringify(c)} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) is not in the vocabulary`);
      out.push(id);
    }
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) throw new KilnError(`decode: id ${ids[i]} is outside the vocabulary [0, ${this.chars.length})`);
      s += c;
    }
    return s;
  }

  toJSON(): { type: 'char'; chars: string[] } {
    return { type: 'char', chars: this.chars };
  }
  static fromJSON(j: unknown): CharTokenizer {
    const o = j as { type?: unknown; chars?: unknown };
    if (!o || o.type !== 'char' || !Array.isArray(o.chars)) throw new KilnError("CharTokenizer.fromJSON: expected { type: 'char', chars: [...] }");
    return new CharTokenizer(o.chars as string[]);
  }
  save(path: string): void {
    writeFileSync(path, JSON.stringify(this.toJSON()));
  }
  static load(path: string): CharTokenizer {
    return CharTokenizer.fromJSON(JSON.parse(readFileSync(path, 'utf8')));
  }
}
