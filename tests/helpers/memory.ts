import { memory } from '../../src/memory.js';

/**
 * Live tensors plus those the garbage collector has collected: a count that a collection during
 * a test cannot lower (the tests' own earlier garbage may be collected at any moment), so a
 * flat-count check fails for a leak and for nothing else.
 */
export function trackedTensors(): number {
  const m = memory();
  return m.tensors + m.collected;
}
