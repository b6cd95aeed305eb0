/** Options objects: every one of the public API refuses keys it does not know (a typo is an error, not a default). */
import { KilnError } from './errors.js';

/**
 * Throws a KilnError naming `where` and every key of opts outside `known`; undefined passes, and
 * anything but a plain object is refused.
 */
export function checkOptions(opts: unknown, known: readonly string[], where: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new KilnError(`${where}: expected an options object, got ${opts === null ? 'null' : Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  const unknown = Object.keys(opts).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const list = unknown.slice(0, 10).map((k) => `'${k.slice(0, 60)}'`).join(', ');
    throw new KilnError(`${where}: unknown option${unknown.length > 1 ? 's' : ''} ${list}${unknown.length > 10 ? ', ...' : ''} ` +
      `(known: ${known.join(', ') || 'none'})`);
  }
}
