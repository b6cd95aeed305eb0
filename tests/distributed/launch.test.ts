// `kiln launch`: the environment each rank gets, prefixed output, a failed rank ending the job,
// signals reaching every rank, and the same script under mpirun.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { checkBuilt, freePort, killAll, root, runCommand, workers } from './ranks';

const kilnBin = join(root, 'bin', 'kiln.mjs');
const probe = join(workers, 'launch-probe.mjs');
const launch = (args: string[], opts: Parameters<typeof runCommand>[2] = {}) =>
  runCommand(process.execPath, [kilnBin, 'launch', ...args], { ...opts, env: { KILN_NUM_THREADS: '', OMP_NUM_THREADS: '', ...opts.env } });
// (an empty KILN_NUM_THREADS counts as unset: the launcher picks the share of the cores)

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pids = (out: string) => [...out.matchAll(/PID (\d+)/g)].map((m) => Number(m[1]));

beforeAll(checkBuilt);
afterEach(killAll);

describe('kiln launch', () => {
  it("gives each rank torchrun's environment, a share of the cores, and prefixes its output", async () => {
    const r = await launch(['--nproc', '2', probe, 'env', 'a', '--b']);
    expect(r.code).toBe(0);
    const envs = [...r.stdout.matchAll(/^\[rank(\d)\]: ENV (.*)$/gm)].map((m) => [Number(m[1]), JSON.parse(m[2])] as const);
    expect(envs.map(([rank]) => rank).sort()).toEqual([0, 1]);
    const threads = String(Math.max(1, Math.floor(availableParallelism() / 2)));
    for (const [rank, env] of envs) {
      expect(env).toMatchObject({
        RANK: String(rank), WORLD_SIZE: '2', LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: '2', GROUP_RANK: '0',
        MASTER_ADDR: '127.0.0.1', KILN_NUM_THREADS: threads, OMP_NUM_THREADS: threads, args: ['a', '--b'],
      });
      expect(Number(env.MASTER_PORT)).toBeGreaterThan(0);
    }
    expect(envs[0][1].MASTER_PORT).toBe(envs[1][1].MASTER_PORT);
    expect(r.stdout).toMatch(/^\[rank0\]: no newline at the end$/m);
    expect(r.stderr).toMatch(/^\[rank1\]: to stderr from 1$/m);
  });

  it('several machines: ranks from --node-rank, the given master address and port', async () => {
    const r = await launch(['--nnodes', '2', '--node-rank', '1', '--nproc', '2', '--master-addr', '10.1.2.3', '--master-port', '1234',
      '--threads', '3', probe, 'env']);
    expect(r.code).toBe(0);
    const envs = [...r.stdout.matchAll(/^\[rank(\d)\]: ENV (.*)$/gm)].map((m) => JSON.parse(m[2]));
    expect(envs.map((e) => e.RANK).sort()).toEqual(['2', '3']);
    for (const e of envs) expect(e).toMatchObject({ WORLD_SIZE: '4', GROUP_RANK: '1', MASTER_ADDR: '10.1.2.3', MASTER_PORT: '1234', KILN_NUM_THREADS: '3' });
  });

  it('a failing rank ends the job: the others are stopped and the status is the failed rank\'s', async () => {
    const t0 = performance.now();
    const r = await launch(['--nproc', '3', '--grace-ms', '1000', probe, 'fail', '1', '7'], { timeoutMs: 30_000 });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/kiln launch: rank 1 exited with code 7; stopping the other ranks/);
    expect(performance.now() - t0).toBeLessThan(15_000);
    const started = pids(r.stdout);
    expect(started).toHaveLength(3);
    for (const pid of started) expect(alive(pid)).toBe(false);
  });

  it('SIGINT reaches every rank and the launcher exits 130', async () => {
    let launcher: any;
    const done = launch(['--nproc', '2', '--grace-ms', '2000', probe, 'wait'], { onSpawn: (c) => (launcher = c), timeoutMs: 30_000 });
    // wait until both ranks have their SIGINT handler in place
    let out = '';
    launcher.stdout.on('data', (d: Buffer) => (out += d));
    const ready = () => (out.match(/READY/g) ?? []).length;
    for (let i = 0; i < 400 && ready() < 2; i++) await new Promise((res) => setTimeout(res, 50));
    expect(ready()).toBe(2);
    launcher.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stdout.match(/got SIGINT/g)).toHaveLength(2);
    for (const pid of pids(r.stdout)) expect(alive(pid)).toBe(false);
  });

  it('bad arguments: usage and status 2', async () => {
    const r = await launch(['--nproc', '0', probe]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--nproc: expected an integer in \[1, /);
    expect((await launch(['--nproc', '2'])).stderr).toMatch(/expected a script to run/);
    expect((await launch(['--bogus', '1', probe])).stderr).toMatch(/unknown option --bogus/);
    expect((await launch(['--nproc', '1', 'no-such-script.mjs'])).stderr).toMatch(/script not found/);
  });

  it('runs a Kiln job: the ranks meet and all-reduce', async () => {
    const r = await launch(['--nproc', '2', join(workers, 'hello.mjs')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[rank0\]: rank 0 of 2: sum 3,3,3$/m);
    expect(r.stdout).toMatch(/^\[rank1\]: rank 1 of 2: sum 3,3,3$/m);
  });
});

const hasMpirun = (() => {
  try {
    execFileSync('mpirun', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(hasMpirun)('under mpirun', () => {
  it('the same script works unchanged (ranks from OpenMPI, Gloo rendezvous at MASTER_PORT)', async () => {
    const port = await freePort();
    const r = await runCommand('mpirun', ['-np', '2', '-x', 'MASTER_PORT', '-x', 'KILN_NUM_THREADS', process.execPath, join(workers, 'hello.mjs')], {
      env: { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', MASTER_PORT: String(port), KILN_NUM_THREADS: '1' },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/rank 0 of 2: sum 3,3,3/);
    expect(r.stdout).toMatch(/rank 1 of 2: sum 3,3,3/);
  });
});
