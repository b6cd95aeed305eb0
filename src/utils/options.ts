/** Options objects of kiln.utils refuse keys they do not know (a typo is an error, not a default). */
import { check } from '../errors.js';

export function checkOptions(opts: unknown, known: readonly string[], owner: string): Record<string, unknown> {
  if (opts === undefined) return {};
  check(opts !== null && typeof opts === 'object' && !Array.isArray(opts), () => `${owner}: options must be an object`);
  for (const k of Object.keys(opts)) {
    check(known.includes(k), () => `${owner}: unknown option '${k.slice(0, 40)}' (expected one of ${known.join(', ')})`);
  }
  return opts as Record<string, unknown>;
}
