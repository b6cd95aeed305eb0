// Faults: a rank that dies or hangs mid-step makes the others fail with a KilnError within the
// timeout (never a hang); Ctrl-C stops every rank of a launched job, even ranks waiting in a
// transfer.
import { type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { checkBuilt, killAll, root, runCommand, runJob, workers } from './ranks';

beforeAll(checkBuilt);
afterEach(killAll);

/** Resolves when `child` has printed a line matching `re`. */
function waitFor(child: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (re.test(out)) resolve();
    });
  });
}

describe('faults', () => {
  it('a rank killed mid-step: the other fails at once with a KilnError naming the lost peer', async () => {
    let killedAt = 0;
    const results = await runJob('steps.mjs', {
      nproc: 2,
      args: ['20000'],
      onSpawn: (rank, child) => {
        if (rank === 1) void waitFor(child, /STEP 3/).then(() => {
          killedAt = performance.now();
          child.kill('SIGKILL');
        });
      },
      timeoutMs: 60_000,
    });
    const exitedAfter = performance.now() - killedAt;
    expect(results[1].signal).toBe('SIGKILL');
    expect(results[0].code).toBe(1);
    expect(results[0].stdout).toMatch(/ERROR KilnError: gloo group 0 \(rank 0 of 2\): allReduce failed: a peer rank closed its connection/);
    expect(exitedAfter).toBeLessThan(10_000); // well inside the 20 s timeout: the closed socket is seen at once
  });

  it('a rank that hangs (SIGSTOP): the other fails after the timeout, not later', async () => {
    let stoppedAt = 0;
    let stopped: ChildProcess | null = null;
    const results = await runJob('steps.mjs', {
      nproc: 2,
      args: ['3000'],
      onSpawn: (rank, child) => {
        if (rank === 1) void waitFor(child, /STEP 3/).then(() => {
          stoppedAt = performance.now();
          stopped = child;
          child.kill('SIGSTOP');
        });
        // rank 0 exits: the stopped rank is killed by the test (afterEach), as a launcher would
        if (rank === 0) child.on('close', () => stopped?.kill('SIGKILL'));
      },
      timeoutMs: 60_000,
    });
    const failedAfter = performance.now() - stoppedAt;
    expect(results[0].code).toBe(1);
    expect(results[0].stdout).toMatch(/ERROR KilnError: .*allReduce failed: timed out after 3000 ms \(a peer rank may have hung or died\)/);
    expect(failedAfter).toBeGreaterThan(2500);
    expect(failedAfter).toBeLessThan(15_000);
  });

  it('Ctrl-C on kiln launch stops every rank, also one waiting in a recv', async () => {
    let launcher!: ChildProcess;
    const done = runCommand(process.execPath, [join(root, 'bin', 'kiln.mjs'), 'launch', '--nproc', '2', '--grace-ms', '3000',
      join(workers, 'steps.mjs'), '60000', 'recv'], { onSpawn: (c) => (launcher = c), timeoutMs: 60_000 });
    let out = '';
    launcher.stdout!.on('data', (d) => (out += d));
    for (let i = 0; i < 400 && (out.match(/WAITING/g) ?? []).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect((out.match(/WAITING/g) ?? []).length).toBe(2);
    await new Promise((r) => setTimeout(r, 300)); // rank 0 is inside its recv
    const t0 = performance.now();
    launcher.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
