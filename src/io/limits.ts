/**
 * Bounds the readers (safetensors, IDX, CSV) share, so a file can only make Kiln do work and
 * allocate memory in proportion to what it holds. No tensor dependency (DataLoader workers use
 * the readers' helpers too).
 */
import { KilnError } from '../errors.js';

/**
 * An empty tensor (a 0 dim) holds no bytes, yet a reduction over its empty dim allocates the
 * product of the others (sum of [0, 4e9] is 16 GB). A file may describe such a shape only when
 * the other dims multiply to at most this many elements, or to at most the file's size.
 */
export const EMPTY_DIMS_LIMIT = 1 << 24;

/** Throws unless an empty shape's non-zero dims are justified (see EMPTY_DIMS_LIMIT). */
export function checkEmptyDims(shape: readonly number[], fileBytes: number, what: () => string): void {
  if (!shape.includes(0)) return;
  let p = 1;
  for (const d of shape) if (d !== 0) p *= d;
  const limit = Math.max(EMPTY_DIMS_LIMIT, fileBytes);
  if (p > limit) {
    throw new KilnError(
      `${what()}: shape [${briefList(shape)}] has no elements, but its other dims describe ${p} elements ` +
        `(more than ${limit}, the most a file of ${fileBytes} bytes may describe); a reduction over the empty dim would allocate them`,
    );
  }
}

/**
 * Deepest nesting of [ and { in JSON text, stopping as soon as it passes `limit` (then it
 * returns limit + 1). One pass: strings and escapes are skipped, nothing is parsed.
 */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/** A value for an error message: at most `max` characters of it. */
export function brief(s: string, max = 60): string {
  const q = JSON.stringify(s.length > max ? s.slice(0, max) : s);
  return s.length > max ? `${q}... (${s.length} characters)` : q;
}

/** A list for an error message (comma-separated, no brackets): at most `max` items. */
export function briefList(xs: readonly unknown[], max = 10): string {
  const shown = xs.slice(0, max).map((x) => {
    const s = typeof x === 'string' ? x : JSON.stringify(x) ?? String(x);
    return s.length > 24 ? `${s.slice(0, 24)}...` : s;
  });
  return `${shown.join(', ')}${xs.length > max ? `, ... (${xs.length} items)` : ''}`;
}
