import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

describe('peak memory', () => {
  it('peakBytes records the high-water mark and resetPeak restarts it at the live bytes', () => {
    kiln.resetPeak();
    const base = kiln.memory().bytes;
    const big = kiln.zeros([4096]);
    const small = kiln.zeros([16]);
    big.dispose();
    expect(kiln.memory().peakBytes).toBe(base + 4096 * 4 + 16 * 4);
    kiln.resetPeak();
    expect(kiln.memory().peakBytes).toBe(base + 16 * 4);
    small.dispose();
    expect(kiln.memory().peakBytes).toBe(base + 16 * 4);
  });
});
