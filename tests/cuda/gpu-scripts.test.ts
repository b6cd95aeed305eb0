// The GPU check scripts run on the GPU machine only, where there is no vitest: their CPU-against-
// CPU self-test mode runs here so they cannot rot between GPU sessions.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('GPU benchmark scripts (bench/gpu)', () => {
  it('bench.mjs runs every figure in its CPU self-test', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-gpu-bench-'));
    try {
      execFileSync(process.execPath, [join(root, 'bench/gpu/bench.mjs'), join(dir, 'kiln-1.json'), '--quick'], {
        encoding: 'utf8', env: { ...process.env, KILN_CHECK_SELFTEST: '1' }, timeout: 120_000,
      });
      const { side, results } = JSON.parse(readFileSync(join(dir, 'kiln-1.json'), 'utf8'));
      expect(side).toBe('kiln');
      for (const key of ['matmul_f32_1024', 'matmul_tf32_1024', 'matmul_autocast_bf16_1024', 'matmul_f32_nt_1024',
        'matmul_f32_tn_1024', 'sum_dim0_1024', 'relu_1024', 'adam_100M', 'copy_100M', 'step_mlp_4096_forward',
        'step_mlp_4096_backward', 'step_mlp_4096', 'step_mlp_784']) {
        expect(results[key]?.ms, key).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summarize.mjs takes the median of the rounds and the ratio of Kiln to PyTorch', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-gpu-sum-'));
    try {
      const put = (name: string, side: string, ms: Record<string, number>) => writeFileSync(join(dir, name),
        JSON.stringify({ side, results: Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, { ms: v }])) }));
      put('kiln-1.json', 'kiln', { a: 1, b: 4 });
      put('kiln-2.json', 'kiln', { a: 3, b: 2 });
      put('kiln-3.json', 'kiln', { a: 2, b: 6 });
      put('torch-1.json', 'torch', { a: 4, c: 1 });
      put('torch-2.json', 'torch', { a: 8, c: 1 });
      const out = execFileSync(process.execPath, [join(root, 'bench/gpu/summarize.mjs'), dir], { encoding: 'utf8' });
      expect(out).toContain('rounds: Kiln 3, PyTorch 2');
      const rows = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
      const a = rows.find((r: any) => r.key === 'a');
      expect([a.kilnMs, a.torchMs, a.ratio]).toEqual([2, 6, 2 / 6]);
      expect(rows.find((r: any) => r.key === 'b').ratio).toBeNull();
      expect(rows.find((r: any) => r.key === 'c').kilnMs).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
