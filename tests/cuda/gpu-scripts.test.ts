// The GPU check scripts run on the GPU machine only, where there is no vitest: their CPU-against-
// CPU self-test mode runs here so they cannot rot between GPU sessions.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

describe('GPU check scripts (self-test: CPU against CPU)', () => {
  for (const script of ['check-ops.mjs', 'check-training.mjs']) {
    it(`${script} runs every check and passes`, () => {
      const out = execFileSync(process.execPath, [join(root, 'tests/gpu', script)], {
        encoding: 'utf8',
        env: { ...process.env, KILN_CHECK_SELFTEST: '1', OUT: '' },
        timeout: 120_000,
      });
      expect(out).not.toMatch(/\bFAIL\b/);
      expect(out).toMatch(/ok|passed/);
    });
  }
});
