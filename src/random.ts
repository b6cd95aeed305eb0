/**
 * The global random generator: Philox4x32-10 (native/include/backend.h), keyed by the seed and
 * advanced by a counter offset, so the same seed gives the same numbers on every machine,
 * thread count and backend.
 */
import { checkInt, check } from './errors.js';

const DEFAULT_SEED = 0;
let seed = DEFAULT_SEED;
let offset = 0;

export function manualSeed(s: number): void {
  checkInt(s, 'seed');
  check(s >= 0 && s <= Number.MAX_SAFE_INTEGER, () => `seed: expected an integer in [0, 2^53), got ${s}`);
  seed = s;
  offset = 0;
}

export function initialSeed(): number {
  return seed;
}

/** Reserves counters for n numbers; returns [seed, first counter]. */
export function takeCounters(n: number): [number, number] {
  const start = offset;
  offset += Math.ceil(n / 4);
  return [seed, start];
}

export interface RngState {
  seed: number;
  offset: number;
}

export function getRngState(): RngState {
  return { seed, offset };
}

export function setRngState(state: RngState): void {
  check(state !== null && typeof state === 'object', 'state: expected { seed, offset }');
  checkInt(state.seed, 'state.seed');
  checkInt(state.offset, 'state.offset');
  seed = state.seed;
  offset = state.offset;
}

/** A small seeded PRNG (mulberry32) for host-side choices such as shuffles. */
export function hostRandom(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
