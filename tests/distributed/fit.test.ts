// kiln.fit under DistributedDataParallel, launched with `kiln launch`: rank 0 alone prints,
// checkpoints and reports; the ranks agree on the averaged metrics and the parameters; a job
// whose rank dies mid-epoch exits non-zero, and restarted from rank 0's last checkpoint it ends
// exactly where the uninterrupted job did.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { checkBuilt, killAll, root, runCommand, workers } from './ranks';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kiln-fit-'));
  dirs.push(d);
  return d;
};
const launchFit = (dir: string, ...args: string[]) =>
  runCommand(process.execPath, [join(root, 'bin', 'kiln.mjs'), 'launch', '--nproc', '2', '--grace-ms', '2000', join(workers, 'fit.mjs'), dir, ...args], {
    env: { RESULT_DIR: dir, KILN_NUM_THREADS: '1' }, timeoutMs: 90_000,
  });
const results = (dir: string) => [0, 1].map((r) => JSON.parse(readFileSync(join(dir, `rank-${r}.json`), 'utf8')));
const checkpoints = (dir: string) => readdirSync(dir).filter((f) => /^epoch-\d+\.safetensors$/.test(f)).sort();

beforeAll(checkBuilt);
afterEach(killAll);
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('fit under DistributedDataParallel', () => {
  it('rank 0 prints, checkpoints and reports; a job restarted after a crash resumes exactly', async () => {
    const full = tmp();
    const a = await launchFit(full);
    expect(a.code, a.stderr).toBe(0);
    const [r0, r1] = results(full);
    expect(r0.epochs).toHaveLength(4);
    expect(r1.epochs).toEqual(r0.epochs); // metrics averaged over both ranks' shares
    expect(r1.params).toEqual(r0.params); // replicas stay identical
    expect(r0.epochs[3].loss).toBeLessThan(r0.epochs[0].loss);
    // only rank 0 prints its progress; it alone wrote the checkpoints and the report
    expect(a.stdout).toMatch(/^\[rank0\]: .*epoch 1\/4/im);
    expect(a.stdout).not.toMatch(/^\[rank1\]: .*epoch/im);
    expect(checkpoints(full)).toEqual(['epoch-0001.safetensors', 'epoch-0002.safetensors', 'epoch-0003.safetensors', 'epoch-0004.safetensors']);
    expect(existsSync(join(full, 'report.html'))).toBe(true);

    const crashed = tmp();
    const b = await launchFit(crashed, 'crash');
    // rank 0 learns of the lost peer at once and may exit (1) before the launcher sees rank 1's 3
    expect([1, 3]).toContain(b.code);
    expect(b.stderr).toMatch(/kiln launch: rank (1 exited with code 3|0 exited with code 1); stopping the other ranks/);
    expect(checkpoints(crashed)).toEqual(['epoch-0001.safetensors', 'epoch-0002.safetensors']);

    const c = await launchFit(crashed, 'resume', join(crashed, 'epoch-0002.safetensors'));
    expect(c.code, c.stderr).toBe(0);
    const [c0, c1] = results(crashed);
    expect(c0.params).toEqual(r0.params); // bit for bit
    expect(c1.params).toEqual(r0.params);
    expect(c0.epochs).toEqual(r0.epochs);
  });
});
