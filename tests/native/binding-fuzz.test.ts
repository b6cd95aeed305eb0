// Random argument lists to every native export (binding-fuzz-child.mjs, in its own process so a
// crash is seen as one): every call returns or throws a KilnError, and the plausible ones reach
// the kernels of every op. A bounded run here; the long run's counts are in docs/design-notes.md.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const child = join(__dirname, 'binding-fuzz-child.mjs');

describe('binding fuzz', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: 20000 calls, no crash, no error other than KilnError, every op reached`, () => {
      const out = execFileSync(process.execPath, [child, String(seed), '20000'], { encoding: 'utf8', timeout: 120_000 });
      const r = JSON.parse(out.trim().split('\n').pop()!);
      expect(r.calls).toBe(20000);
      expect(r.others).toEqual([]);
      expect(r.slow).toEqual([]);
      expect(r.otherErrors).toBe(0);
      expect(r.returned + r.kilnErrors).toBe(r.calls);
      for (const [op, c] of Object.entries(r.byOp) as [string, { calls: number; returned: number }][]) {
        if (op === 'registerCudaBackend') continue; // needs the CUDA addon's handle: always refused here
        expect(c.returned, `${op}: no call got past the checks`).toBeGreaterThan(0);
      }
    });
  }
});
