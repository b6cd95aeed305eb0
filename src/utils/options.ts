/** Checks of options objects shared by the ecosystem modules (onnx, tensorboard, summary). */
import { check } from '../errors.js';

/** Throws a KilnError naming the first key of opts that is not in known. */
export function checkOptionKeys(opts: unknown, known: readonly string[], name: string): void {
  if (opts === undefined) return;
  check(opts !== null && typeof opts === 'object' && !Array.isArray(opts), () => `${name}: expected an options object`);
  for (const k of Object.keys(opts)) {
    check(known.includes(k), () => `${name}: unknown option '${k.slice(0, 60)}' (known: ${known.join(', ')})`);
  }
}
