// Study, trial and optimize: results, failures, pruning, timeouts, ask/tell, the Pareto front,
// and the errors bad input gets.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { tune } = kiln;
tune.setLogLevel('silent');

describe('Study.optimize', () => {
  it('records every trial and reports the best one', async () => {
    const study = tune.createStudy({ direction: 'maximize', sampler: new tune.RandomSampler({ seed: 1 }) });
    await study.optimize((t) => -((t.suggestFloat('x', 0, 4) - 2) ** 2), { nTrials: 30 });
    expect(study.trials.length).toBe(30);
    const best = Math.max(...study.trials.map((t) => t.value!));
    expect(study.bestValue).toBe(best);
    expect(study.bestTrial.value).toBe(best);
    expect(study.bestParams.x).toBe(study.trials.find((t) => t.value === best)!.params.x);
    expect(study.trials.map((t) => t.number)).toEqual([...Array(30).keys()]);
  });

  it('records failures (throws, NaN, wrong type) with their reason and goes on', async () => {
    const study = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 0 }) });
    await study.optimize((t) => {
      const n = t.number;
      t.suggestFloat('x', 0, 1);
      if (n === 1) throw new Error('boom');
      if (n === 2) return NaN;
      if (n === 3) return 'abc' as unknown as number;
      return n;
    }, { nTrials: 5 });
    const s = study.trials;
    expect(s.map((t) => t.state)).toEqual(['COMPLETE', 'FAIL', 'FAIL', 'FAIL', 'COMPLETE']);
    expect(s[1].systemAttrs.failReason).toBe('Error: boom');
    expect(s[2].systemAttrs.failReason).toMatch(/NaN/);
    expect(s[3].systemAttrs.failReason).toMatch(/returned "abc"; expected a number/);
    expect(study.bestValue).toBe(0);
  });

  it('TrialPruned ends the trial as PRUNED with its last reported value', async () => {
    const study = tune.createStudy();
    await study.optimize((t) => {
      for (let step = 0; step < 5; step++) {
        t.report(10 - step, step);
        if (step === 2) throw new tune.TrialPruned();
      }
      return 0;
    }, { nTrials: 1 });
    const t = study.trials[0];
    expect(t.state).toBe('PRUNED');
    expect(t.value).toBe(8);
    expect([...t.intermediateValues]).toEqual([[0, 10], [1, 9], [2, 8]]);
  });

  it('stops at the timeout, on study.stop() from a callback, and repeats a suggested value', async () => {
    const study = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 0 }) });
    const t0 = Date.now();
    await study.optimize(async (t) => { await new Promise((r) => setTimeout(r, 30)); return t.suggestFloat('x', 0, 1); }, { timeout: 0.2 });
    // no trial starts after the timeout; the running one finishes (timings loose: shared machines)
    const starts = study.trials.map((t) => t.datetimeStart!.getTime() - t0);
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(starts.length).toBeLessThanOrEqual(8);
    expect(Math.max(...starts)).toBeLessThan(250);
    expect(study.trials.every((t) => t.state === 'COMPLETE')).toBe(true);
    const s2 = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 0 }) });
    await s2.optimize((t) => { const a = t.suggestFloat('x', 0, 1); expect(t.suggestFloat('x', 0, 1)).toBe(a); return a; },
      { nTrials: 50, callbacks: [(st, tr) => { if (tr.number === 3) st.stop(); }] });
    expect(s2.trials.length).toBe(4);
  });

  it('ask and tell drive a study by hand', () => {
    const study = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 2 }) });
    for (let i = 0; i < 4; i++) {
      const t = study.ask();
      study.tell(t, t.suggestFloat('x', -1, 1) ** 2);
    }
    const t = study.ask();
    t.suggestInt('k', 0, 3);
    study.tell(t.number, undefined, 'FAIL');
    expect(study.trials.map((x) => x.state)).toEqual(['COMPLETE', 'COMPLETE', 'COMPLETE', 'COMPLETE', 'FAIL']);
    expect(() => study.tell(t, 1)).toThrow(/already finished/);
    expect(() => study.tell(study.ask(), [1, 2])).toThrow(/needs a number/);
  });

  it('returns the Pareto front of a multi-objective study', async () => {
    const study = tune.createStudy({ directions: ['minimize', 'maximize'], sampler: new tune.RandomSampler({ seed: 3 }) });
    await study.optimize((t) => { const x = t.suggestFloat('x', 0, 1), y = t.suggestFloat('y', 0, 1); return [x + y, x - y]; }, { nTrials: 40 });
    const all = study.trials;
    const dominated = (a: number[], b: number[]) => b[0] <= a[0] && b[1] >= a[1] && (b[0] < a[0] || b[1] > a[1]);
    const expected = all.filter((a) => !all.some((b) => dominated(a.values!, b.values!))).map((t) => t.number);
    expect(study.bestTrials.map((t) => t.number)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(1);
    expect(() => study.bestTrial).toThrow(/use bestTrials/);
    expect(() => study.ask().report(1, 0)).toThrow(/multi-objective/);
  });

  it('nJobs > 1 with a function is a KilnError that says what to pass', async () => {
    const study = tune.createStudy();
    await expect(study.optimize(() => 1, { nJobs: 2 })).rejects.toThrow(/pass the path of a module/);
  });
});

describe('bad input', () => {
  it('createStudy, suggest, report and optimize name the argument', async () => {
    expect(() => tune.createStudy({ direction: 'up' as never })).toThrow(/direction must be 'minimize' or 'maximize', got "up"/);
    expect(() => tune.createStudy({ storage: 'sqlite:x.db' })).toThrow(/expected 'journal:FILE'/);
    expect(() => tune.createStudy({ sampler: {} as never })).toThrow(/sampler must be a sampler object/);
    const study = tune.createStudy({ studyName: 'dup' });
    expect(() => tune.createStudy({ studyName: 'dup', storage: study.storage })).toThrow(/already exists.*loadIfExists/);
    const t = study.ask();
    expect(() => t.suggestFloat('x', 1, 0)).toThrow(/suggestFloat\('x'\): expected low <= high, got low=1, high=0/);
    expect(() => t.suggestFloat('x', 0, 1, { log: true })).toThrow(/log-scaled range needs low > 0/);
    expect(() => t.suggestInt('n', 0.5, 3)).toThrow(/low must be an integer/);
    expect(() => t.suggestCategorical('c', [])).toThrow(/choices must be a non-empty array/);
    expect(() => t.suggestCategorical('c', [{}] as never)).toThrow(/choices must be strings/);
    t.suggestFloat('y', 0, 1);
    expect(() => t.suggestInt('y', 0, 1)).toThrow(/already suggested.*different distribution/);
    expect(() => t.report(1, -1)).toThrow(/step must be an integer >= 0/);
    await expect(study.optimize(() => 0, { nTrials: -2 })).rejects.toThrow(/nTrials must be an integer >= 0/);
    await expect(study.optimize(() => 0, { timeout: 0 })).rejects.toThrow(/timeout must be a number of seconds > 0/);
    await expect(study.optimize('./no-such-module.mjs')).rejects.toThrow(/does not exist/);
    expect(() => tune.loadStudy({ studyName: 'nope', storage: study.storage })).toThrow(/no study named 'nope'/);
  });
});

describe('addTrial', () => {
  it('adds finished trials the samplers and pruners then use', () => {
    const x = new tune.FloatDistribution(0, 1);
    const study = tune.createStudy();
    study.addTrial(tune.createTrial({ params: { x: 0.25 }, distributions: { x }, value: 3 }));
    const p = study.addTrial(tune.createTrial({ params: { x: 0.5 }, distributions: { x }, state: 'PRUNED', intermediateValues: new Map([[0, 9], [4, 7]]) }));
    expect(p.value).toBe(7);
    expect(study.bestParams).toEqual({ x: 0.25 });
    expect(() => tune.createTrial({ params: { x: 2 }, distributions: { x }, value: 1 })).toThrow(/params.x = 2 lies outside its distribution/);
    expect(() => tune.createTrial({ params: { x: 0.5 }, distributions: {}, value: 1 })).toThrow(/params.x has no entry in distributions/);
    expect(() => tune.createTrial({ params: {}, distributions: {} })).toThrow(/COMPLETE trial needs value/);
    expect(() => study.addTrial(tune.createTrial({ values: [1, 2] }))).toThrow(/needs 1 value\(s\), got 2/);
  });
});
