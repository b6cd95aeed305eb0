/** The public API's option check (src/options.ts), returning the object for destructuring. */
import { checkOptions as checkKeys } from '../options.js';

/** Returns opts (or {}) after checking it is an object whose keys are all in known. */
export function checkOptions(opts: unknown, known: readonly string[], owner: string): Record<string, unknown> {
  checkKeys(opts, known, owner);
  return (opts ?? {}) as Record<string, unknown>;
}
