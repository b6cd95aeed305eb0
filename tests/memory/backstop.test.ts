// Checks that need a forced GC, so they run in a child `node --expose-gc` (vitest's worker has no
// global gc) that imports the TypeScript sources through tests/io/ts-loader.mjs:
// the FinalizationRegistry backstop, and RSS staying flat over a training loop.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function runChild(script: string) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=1', '--import', './tests/io/ts-loader.mjs', script],
    { cwd: root, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('with a forced GC', () => {
  it('RSS grows < 20 MB and the JS heap < 2 MB over 9,000 MLP steps after 1,000 warm-up steps; memory() flat', () => {
    const { warm, end, warmMem, endMem } = runChild('./tests/memory/rss-child.mjs');
    expect(endMem.tensors).toBe(warmMem.tensors);
    expect(endMem.bytes).toBe(warmMem.bytes);
    expect((end.rss - warm.rss) / 2 ** 20).toBeLessThan(20);
    expect((end.heap - warm.heap) / 2 ** 20).toBeLessThan(2);
  });

  it('FinalizationRegistry backstop: undisposed, unreachable tensors are released after GC', () => {
    const { before, during, after } = runChild('./tests/memory/gc-child.mjs');
    expect(during.tensors - before.tensors).toBeGreaterThanOrEqual(700);
    expect(during.bytes - before.bytes).toBeGreaterThanOrEqual(200 * 4096 + 300 * 1024);
    expect(after.tensors).toBe(before.tensors);
    expect(after.bytes).toBe(before.bytes);
    // memory().collected counts exactly what the collector took
    expect(after.collected - before.collected).toBe(during.tensors - after.tensors);
  });
});
