// The study report: importances by one-way analysis of variance (checked on hand data and on a
// function where one parameter matters 100x more), and the HTML with its SVG charts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { etaSquared, groupsOf } from '../../src/tune/report/importance.js';

const { tune } = kiln;
tune.setLogLevel('silent');

describe('parameter importances', () => {
  it('eta^2 is the between-group share of the variance', () => {
    // groups {1, 3} and {5, 7}: mean 4, total SS 20, between 2 * (2 - 4)^2 + 2 * (6 - 4)^2 = 16
    expect(etaSquared([0, 0, 1, 1], [1, 3, 5, 7])).toBeCloseTo(0.8, 14);
    expect(etaSquared([0, 1, 0, 1], [1, 3, 5, 7])).toBeCloseTo(0.2, 14);
    expect(etaSquared([0, 1], [2, 2])).toBe(0);
    // chance-corrected: (16 - 1 * (4 / 2)) / 20 = 0.7; a split explaining less than chance gives 0
    expect(etaSquared([0, 0, 1, 1], [1, 3, 5, 7], true)).toBeCloseTo(0.7, 14);
    expect(etaSquared([0, 1, 0, 1], [1, 3, 5, 7], true)).toBe(0);
    // equal-count bins; equal values share one
    expect(groupsOf([5, 1, 4, 2, 3, 6, 7, 8, 9], new tune.FloatDistribution(0, 10))).toEqual([1, 0, 1, 0, 0, 1, 2, 2, 2]);
    expect(groupsOf([1, 1, 1, 2], new tune.FloatDistribution(0, 10))).toEqual([0, 0, 0, 1]);
  });

  it('ranks the parameter that drives the objective first', async () => {
    const study = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 0 }) });
    await study.optimize((t) => 100 * t.suggestFloat('big', 0, 1) + t.suggestFloat('small', 0, 1) + (t.suggestCategorical('c', ['a', 'b']) === 'a' ? 0 : 0.01), { nTrials: 80 });
    const imp = tune.paramImportances(study.trials);
    expect(Object.keys(imp)[0]).toBe('big');
    expect(imp.big).toBeGreaterThan(0.95); // without the chance correction: 0.88
    expect(imp.big + imp.small + imp.c).toBeCloseTo(1, 12);
  });
});

describe('study.writeReport', () => {
  it('writes a self-contained HTML page with the history, scatter plots and importances', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
    try {
      const study = tune.createStudy({ studyName: 'rep <1>', sampler: new tune.RandomSampler({ seed: 1 }) });
      await study.optimize((t) => {
        const lr = t.suggestFloat('lr', 1e-4, 1, { log: true });
        const act = t.suggestCategorical('act', ['relu', 'gelu']);
        if (t.number === 2) throw new tune.TrialPruned();
        return (Math.log10(lr) + 2) ** 2 + (act === 'relu' ? 0 : 1);
      }, { nTrials: 12 });
      const path = join(dir, 'tune.html');
      await study.writeReport(path);
      const html = readFileSync(path, 'utf8');
      expect(html).toContain('Kiln tune report: rep &lt;1&gt;');
      expect(html).toContain('11 complete, 1 pruned, 0 fail');
      expect(html).toContain(`value ${study.bestValue.toPrecision(6)}`);
      expect((html.match(/<svg /g) ?? []).length).toBe(4); // history, importances, lr, act
      expect(html).toContain('aria-label="lr"');
      expect(html).toContain('lr (log)');
      expect(html).toMatch(/data-param="lr"/);
      expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
      const rows = html.split('<tbody>')[1].split('</tbody>')[0].trim().split('\n');
      expect(rows.length).toBe(12);
      await expect(study.writeReport(path, { objective: 1 })).rejects.toThrow(/objective must be an index below 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('plots the Pareto front of a two-objective study', async () => {
    const study = tune.createStudy({ directions: ['minimize', 'minimize'], sampler: new tune.RandomSampler({ seed: 0 }) });
    await study.optimize((t) => { const x = t.suggestFloat('x', 0, 1); return [x, (1 - x) ** 2 + t.suggestFloat('y', 0, 1)]; }, { nTrials: 15 });
    const html = tune.studyReportHtml(study);
    expect(html).toContain(`Pareto front: trials ${study.bestTrials.map((t) => t.number).join(', ')}`);
    expect((html.match(/fill="#d62728"/g) ?? []).length).toBe(study.bestTrials.length);
  });
});
