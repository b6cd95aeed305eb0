// The CPU thread pool under oversubscription: with 7 pool threads on this machine's few cores,
// tids are claimed by whichever thread runs (native/cpu/thread_pool.cc); every job must still
// run each tid exactly once (elementwise results and reduction sums exact) and never hang.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

describe('thread pool', () => {
  it('runs every tid of 400 back-to-back jobs once with more threads than cores', () => {
    const r = spawnSync(process.execPath, ['--import', join(ROOT, 'tests/io/ts-loader.mjs'), join(ROOT, 'tests/native/thread-pool-child.mjs'), '200'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, KILN_NUM_THREADS: '7' }, timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.threads).toBe(7);
    expect(out).toMatchObject({ rounds: 200, wrongMap: 0, wrongSum: 0 });
  }, 120_000);
});
