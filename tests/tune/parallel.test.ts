// nJobs: trials in worker processes that load the objective module; a failing trial and a
// crashing worker are recorded as failed, the study goes on, threads are split between workers.
import { availableParallelism } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { valueOf } from './fixtures/values.mjs';

const { tune } = kiln;
tune.setLogLevel('silent');
const FIX = join(import.meta.dirname, 'fixtures');
// workers run src/tune/worker.ts here (the package runs dist/tune/worker.js), so they need the loader
const execArgv = ['--import', join(FIX, 'ts-loader.mjs')];
const dir = mkdtempSync(join(tmpdir(), 'kiln-parallel-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('optimize with nJobs', () => {
  it('runs an in-memory study in two worker processes; failures and a crash are recorded', async () => {
    const study = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 0 }) });
    const seen: number[] = [];
    await study.optimize(join(FIX, 'objective.mjs'), { nJobs: 2, nTrials: 10, execArgv, callbacks: [(_s, t) => { seen.push(t.number); }] });
    const trials = study.trials;
    expect(trials.length).toBe(10);
    expect(trials.map((t) => t.number)).toEqual([...Array(10).keys()]);
    expect(trials[3].state).toBe('FAIL');
    expect(trials[3].systemAttrs.failReason).toBe('Error: planned failure');
    expect(trials[5].state).toBe('FAIL');
    expect(trials[5].systemAttrs.failReason).toMatch(/worker process \d+ exited \(code 3\) while running the trial/);
    for (const t of trials.filter((x) => x.number !== 3 && x.number !== 5)) {
      expect(t.state).toBe('COMPLETE');
      expect(t.value).toBe(valueOf(t.params.a as number, t.params.b as number));
    }
    const pids = new Set(trials.map((t) => t.userAttrs.pid));
    expect(pids.has(process.pid)).toBe(false);
    expect(pids.size).toBeGreaterThanOrEqual(2); // a replacement starts after the crash, but may find no trial left
    const threads = String(Math.max(1, Math.floor(availableParallelism() / 2)));
    expect(trials.every((t) => t.userAttrs.threads === threads)).toBe(true);
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9]); // the crashed trial has no callback
    expect(study.bestValue).toBe(Math.min(...trials.filter((t) => t.state === 'COMPLETE').map((t) => t.value!)));
  });

  it('shares a journal study and its grid between workers, each point once', async () => {
    const file = join(dir, 'grid.jsonl');
    const study = tune.createStudy({ storage: `journal:${file}`, sampler: new tune.GridSampler({ a: [0, 1, 2, 3], b: [0, 1, 2] }) });
    await study.optimize(join(FIX, 'grid-objective.mjs'), { nJobs: 2, execArgv, threadsPerJob: 1 });
    const trials = study.trials;
    expect(trials.length).toBe(12);
    expect(new Set(trials.map((t) => `${t.params.a},${t.params.b}`)).size).toBe(12);
    // run by workers (under load one worker may take every point before the other starts; the
    // journal test runs two processes from a common start)
    expect(trials.every((t) => typeof t.userAttrs.pid === 'number' && t.userAttrs.pid !== process.pid)).toBe(true);
    expect(study.bestParams).toEqual({ a: 0, b: 1 });
  });

  it('reports a module without an objective as a KilnError', async () => {
    const study = tune.createStudy();
    await expect(study.optimize(join(FIX, 'values.mjs'), { nJobs: 2, nTrials: 2, execArgv })).rejects.toThrow(/exports no function named 'objective'/);
    await expect(study.optimize(join(FIX, 'objective.mjs'), { nJobs: 0 })).rejects.toThrow(/nJobs must be an integer >= 1/);
  });
});
