// Journal storage with real processes: a kill -9 in the middle of a study loses at most its
// running trial, two processes share one study without duplicating trial numbers or grid
// points, and the lock recovers from a dead holder.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { FileLock } from '../../src/tune/storage/lock.js';
import { valueOf } from './fixtures/values.mjs';

const { tune } = kiln;
tune.setLogLevel('silent');
const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'kiln-journal-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(args: string[]): { child: ChildProcess; ready: Promise<void>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', join(ROOT, 'tests/tune/fixtures/ts-loader.mjs'), join(ROOT, 'tests/tune/fixtures/run-study.mjs'), ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((res) => child.stdout!.on('data', (d) => { if (String(d).includes('ready')) res(); }));
  const exit = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, ready, exit };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('JournalStorage', () => {
  it('survives kill -9 in the middle of a study: only the running trial is lost', async () => {
    const file = join(dir, 'crash.jsonl');
    const p = start([file, 'random', '1000', '60', '1']);
    await p.ready;
    // wait for a few complete trials, then kill without warning
    const watch = new tune.JournalStorage(file);
    const complete = () => watch.getTrials('random').filter((t) => t.state === 'COMPLETE').length;
    const t0 = Date.now();
    while (complete() < 4 && Date.now() - t0 < 60_000) await sleep(25);
    watch.close();
    p.child.kill('SIGKILL');
    await p.exit;

    const study = tune.createStudy({ studyName: 'random', storage: `journal:${file}`, loadIfExists: true, sampler: new tune.RandomSampler({ seed: 2 }) });
    const before = study.trials;
    const done = before.filter((t) => t.state === 'COMPLETE');
    expect(done.length).toBeGreaterThanOrEqual(4);
    for (const t of done) {
      expect(t.value).toBe(valueOf(t.params.a as number, t.params.b as number));
      expect([...t.intermediateValues.keys()]).toEqual([0, 1, 2]);
    }
    const running = before.filter((t) => t.state === 'RUNNING');
    expect(running.length).toBeLessThanOrEqual(1);
    expect(before.length - done.length - running.length).toBe(0);

    // a writer killed mid-line leaves a line without its newline: the next writer ends it and readers skip it
    appendFileSync(file, '{"op":"iv","trial":0,"st');
    await study.optimize((t) => valueOf(t.suggestFloat('a', -1, 1), t.suggestFloat('b', 0, 2)), { nTrials: 3 });
    const after = study.trials;
    expect(after.length).toBe(before.length + 3);
    expect(after.map((t) => t.number)).toEqual([...Array(after.length).keys()]);
    // the trial the dead process was running is failed as stale by optimize
    for (const r of running) {
      expect(after[r.number].state).toBe('FAIL');
      expect(after[r.number].systemAttrs.failReason).toMatch(/stale: process \d+ ended/);
    }
    expect(after.filter((t) => t.state === 'COMPLETE').length).toBe(done.length + 3);
    // a fresh reader of the file sees exactly the same study
    const again = tune.loadStudy({ studyName: 'random', storage: `journal:${file}` }).trials;
    expect(JSON.stringify(again.map((t) => [t.number, t.state, t.values, t.params]))).toBe(JSON.stringify(after.map((t) => [t.number, t.state, t.values, t.params])));
  });

  it('two processes share one study: unique trial numbers, every grid point once', async () => {
    // each process runs a grid study (12 points, 15 trials asked) and then a random one (15 trials)
    const file = join(dir, 'two.jsonl'), go = join(dir, 'go');
    const a = start([file, 'grid,random', '15', '30', '1', go]);
    const b = start([file, 'grid,random', '15', '30', '2', go]);
    await Promise.all([a.ready, b.ready]);
    writeFileSync(go, '');
    expect(await a.exit).toBe(0);
    expect(await b.exit).toBe(0);
    for (const kind of ['grid', 'random']) {
      const trials = tune.loadStudy({ studyName: kind, storage: `journal:${file}` }).trials;
      expect(trials.length).toBe(kind === 'grid' ? 12 : 30);
      expect(trials.map((t) => t.number)).toEqual([...Array(trials.length).keys()]);
      expect(new Set(trials.map((t) => t.trialId)).size).toBe(trials.length);
      expect(trials.every((t) => t.state === 'COMPLETE' && t.value === valueOf(t.params.a as number, t.params.b as number))).toBe(true);
      if (kind === 'grid') expect(new Set(trials.map((t) => `${t.params.a},${t.params.b}`)).size).toBe(12);
      // each process ran its own 15 random trials (a starved process may get no grid point)
      else expect(new Set(trials.map((t) => t.userAttrs.pid)).size).toBe(2);
    }
    // the file is one JSON event per line
    for (const l of readFileSync(file, 'utf8').trimEnd().split('\n')) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('a study resumes from its file in a new storage object', async () => {
    const file = join(dir, 'resume.jsonl');
    const s1 = tune.createStudy({ studyName: 'r', storage: `journal:${file}`, direction: 'maximize', sampler: new tune.RandomSampler({ seed: 0 }) });
    await s1.optimize((t) => { t.report(1, 0); return t.suggestInt('k', 0, 9, { step: 3 }); }, { nTrials: 4 });
    const s2 = tune.createStudy({ studyName: 'r', storage: `journal:${file}`, direction: 'maximize', loadIfExists: true });
    expect(s2.trials.map((t) => [t.params.k, t.value, t.intermediateValues.get(0)])).toEqual(s1.trials.map((t) => [t.params.k, t.value, 1]));
    expect(s2.bestValue).toBe(s1.bestValue);
    expect(() => tune.createStudy({ studyName: 'r', storage: `journal:${file}`, direction: 'minimize', loadIfExists: true })).toThrow(/exists with directions \[maximize\]/);
  });
});

describe('FileLock', () => {
  it("breaks a dead holder's lock at once and times out on a live one", async () => {
    const path = join(dir, 'x.lock');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(path, JSON.stringify({ host: hostname(), pid: dead.pid, token: 'old' }));
    const lock = new FileLock(path, { timeoutMs: 2000 });
    const t0 = Date.now();
    lock.acquire();
    expect(Date.now() - t0).toBeLessThan(1900); // no waiting: its timeout is 2000
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    const other = new FileLock(path, { timeoutMs: 150 });
    expect(() => other.acquire()).toThrow(new RegExp(`still held by another process after 150 ms \\(holder pid ${process.pid}`));
    lock.release();
    other.acquire();
    other.release();
  });
});
