/** Options objects of kiln.utils and the ecosystem modules refuse keys they do not know (a typo is an error, not a default). */
import { check } from '../errors.js';

/** Returns opts (or {}) after checking it is an object whose keys are all in known. */
export function checkOptions(opts: unknown, known: readonly string[], owner: string): Record<string, unknown> {
  if (opts === undefined) return {};
  check(opts !== null && typeof opts === 'object' && !Array.isArray(opts), () => `${owner}: expected an options object`);
  for (const k of Object.keys(opts)) {
    check(known.includes(k), () => `${owner}: unknown option '${k.slice(0, 60)}' (known: ${known.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}
