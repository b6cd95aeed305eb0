/**
 * study.writeReport: one self-contained HTML file (inline SVG, no scripts) with the optimisation
 * history (each complete trial's value and the best so far), one scatter plot per parameter
 * (value against objective; log axis for log-scaled parameters), the parameter importances
 * (importance.ts) and a table of all trials. Multi-objective studies get the first two
 * objectives against each other, the Pareto front in red.
 */
import { writeFile } from 'node:fs/promises';
import { check } from '../../errors.js';
import type { Study } from '../study.js';
import type { FrozenTrial } from '../types.js';
import { paramImportances } from './importance.js';
import { barsSvg, esc, scatterSvg } from './svg.js';

export interface StudyReportOptions {
  title?: string;
  /** Which objective to plot in a multi-objective study's per-parameter charts. Default 0. */
  objective?: number;
}

/** Blue (early) to orange (late) by trial number. */
function shade(i: number, n: number): string {
  const t = n <= 1 ? 0 : i / (n - 1);
  const c = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${c(31, 255)},${c(119, 127)},${c(180, 14)})`;
}

const fmtVal = (v: number | undefined) => (v === undefined ? '' : Number.isInteger(v) ? String(v) : v.toPrecision(6));

export function studyReportHtml(study: Study, opts: StudyReportOptions = {}): string {
  const k = opts.objective ?? 0;
  check(Number.isInteger(k) && k >= 0 && k < study.directions.length, () => `writeReport: objective must be an index below ${study.directions.length}, got ${String(opts.objective)}`);
  const trials = study.trials;
  const done = trials.filter((t) => t.state === 'COMPLETE' && t.values !== undefined && Number.isFinite(t.values[k]));
  const title = opts.title ?? `Kiln tune report: ${study.studyName}`;
  const counts = ['COMPLETE', 'PRUNED', 'FAIL', 'RUNNING'].map((s) => `${trials.filter((t) => t.state === s).length} ${s.toLowerCase()}`).join(', ');
  const ys = done.map((t) => t.values![k]);
  const logY = ys.length > 1 && ys.every((v) => v > 0) && Math.max(...ys) / Math.min(...ys) > 1e3;
  const yLabel = study.directions.length === 1 ? 'objective' : `objective ${k}`;
  const parts: string[] = [];

  if (study.directions.length === 1 && done.length > 0) {
    const best = study.bestTrial;
    parts.push(`<p>Best: trial ${best.number}, value ${fmtVal(best.value)}, parameters <code>${esc(JSON.stringify(best.params))}</code></p>`);
    const sign = study.directions[0] === 'minimize' ? 1 : -1;
    // best so far as a step line: it changes only at a trial that improves on it
    let run = Infinity;
    const line: [number, number][] = [];
    for (const t of done) {
      if (line.length > 0) line.push([t.number, sign * run]);
      run = Math.min(run, sign * t.value!);
      line.push([t.number, sign * run]);
    }
    parts.push(scatterSvg('Optimisation history', { label: 'trial', integer: true }, { label: yLabel, log: logY },
      done.map((t) => ({ x: t.number, y: t.value!, title: `trial ${t.number}: ${fmtVal(t.value)}` })), line));
  } else if (study.directions.length > 1 && done.length > 0) {
    const front = new Set(study.bestTrials.map((t) => t.number));
    parts.push(`<p>Pareto front: trials ${[...front].join(', ')}</p>`);
    parts.push(scatterSvg('Objectives 0 and 1 (Pareto front in red)', { label: 'objective 0' }, { label: 'objective 1' },
      done.map((t) => ({ x: t.values![0], y: t.values![1], color: front.has(t.number) ? '#d62728' : '#1f77b4', title: `trial ${t.number}` }))));
  } else {
    parts.push('<p>No complete trial yet.</p>');
  }

  const imp = paramImportances(trials, k);
  const names = Object.keys(imp);
  if (names.length > 0) {
    parts.push('<h2>Parameter importances</h2><p>Share of the objective\'s variance explained by each parameter on its own ' +
      '(one-way analysis of variance over binned values, corrected for chance; main effects only).</p>');
    parts.push(barsSvg('Importance', names.map((n) => [n, imp[n]])));
    parts.push('<h2>Parameters against the objective</h2>');
    for (const name of names) {
      const d = done[0].distributions[name];
      const cats = d.kind === 'categorical' ? d.choices.map((c) => String(c)) : undefined;
      const pts = done.map((t, i) => ({
        x: d.kind === 'categorical' ? d.toInternal(t.params[name]) : (t.params[name] as number),
        y: t.values![k], color: shade(i, done.length), title: `trial ${t.number}: ${name}=${String(t.params[name])}, ${fmtVal(t.values![k])}`,
      }));
      parts.push(scatterSvg(name, { label: name, log: d.kind !== 'categorical' && d.log, categories: cats }, { label: yLabel, log: logY }, pts));
    }
  }
  parts.push(trialTable(trials));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-top:16px;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}svg{margin:8px 16px 8px 0;border:1px solid #eee}code{font-size:12px}</style></head>
<body><h1>${esc(title)}</h1>
<p>Directions: ${study.directions.join(', ')}; ${trials.length} trials (${counts}); written ${new Date().toISOString()}</p>
${parts.join('\n')}
</body></html>
`;
}

function trialTable(trials: FrozenTrial[]): string {
  const names = [...new Set(trials.flatMap((t) => Object.keys(t.params)))].sort();
  const head = ['number', 'state', 'value(s)', 'steps', 'seconds', ...names].map((h) => `<th>${esc(h)}</th>`).join('');
  const rows = trials.map((t) => {
    const secs = t.datetimeStart && t.datetimeComplete ? ((t.datetimeComplete.getTime() - t.datetimeStart.getTime()) / 1000).toFixed(2) : '';
    const cells = [String(t.number), t.state, (t.values ?? []).map(fmtVal).join(', '), String(t.intermediateValues.size), secs,
      ...names.map((n) => (n in t.params ? (typeof t.params[n] === 'number' ? fmtVal(t.params[n] as number) : String(t.params[n])) : ''))];
    return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`;
  });
  return `<h2>Trials</h2><table><thead><tr>${head}</tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

export async function writeStudyReport(study: Study, path: string, opts: StudyReportOptions = {}): Promise<void> {
  check(typeof path === 'string' && path.length > 0, 'writeReport: path must be a non-empty string');
  await writeFile(path, studyReportHtml(study, opts));
}
