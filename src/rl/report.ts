/**
 * An HTML report of an agent's training: the learning curve (each episode's return and the mean of
 * the last 100, against environment steps), the losses per iteration, and the log table.
 * Self-contained: inline SVG, no scripts.
 */
import { writeFile } from 'node:fs/promises';
import type { LogRecord, TrainingLog } from './common/logger.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

interface Series {
  name: string;
  points: [number, number][];
  color: string;
  width?: number;
  opacity?: number;
}

/** A line chart of several series over environment steps. */
export function lineChartSvg(title: string, series: Series[]): string {
  const W = 640, H = 300, L = 64, R = 16, T = 30, B = 38;
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length === 0) return '';
  let [ylo, yhi] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (ylo === yhi) [ylo, yhi] = [ylo - 0.5, yhi + 0.5];
  const x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(Math.max(...pts.map((p) => p[0])), x0 + 1);
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - ylo) / (yhi - ylo)) * (H - T - B);
  const lines = series.filter((s) => s.points.length > 0).map((s) =>
    `<polyline fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.5}" stroke-opacity="${s.opacity ?? 1}" data-series="${esc(s.name)}" points="${
      s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
  const legend = series.map((s, i) => `<text x="${L + 8 + i * 130}" y="${T - 10}" fill="${s.color}" font-size="12">${esc(s.name)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<text x="${W / 2}" y="14" text-anchor="middle" font-size="13">${esc(title)}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#999"/>
<text x="${L - 6}" y="${py(yhi) + 4}" text-anchor="end" font-size="11">${yhi.toPrecision(4)}</text>
<text x="${L - 6}" y="${py(ylo) + 4}" text-anchor="end" font-size="11">${ylo.toPrecision(4)}</text>
<text x="${px(x0)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${x0}</text>
<text x="${px(x1)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${x1}</text>
<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle" font-size="11">environment steps</text>
${legend.join('\n')}
${lines.join('\n')}
</svg>`;
}

/** Mean of the last `window` values at each point. */
export function rollingMean(ys: number[], window = 100): number[] {
  const out: number[] = [];
  let sum = 0;
  ys.forEach((y, i) => {
    sum += y;
    if (i >= window) sum -= ys[i - window];
    out.push(sum / Math.min(i + 1, window));
  });
  return out;
}

export function learningCurveHtml(log: TrainingLog, title = 'Kiln RL training report'): string {
  const eps = log.episodes;
  const mean = rollingMean(eps.map((e) => e.return));
  const curve = lineChartSvg('episode return', [
    { name: 'episode return', points: eps.map((e) => [e.timesteps, e.return]), color: '#aec7e8', width: 1 },
    { name: 'mean of last 100', points: eps.map((e, i) => [e.timesteps, mean[i]]), color: '#1f77b4', width: 2.5 },
  ]);
  const lossNames = [...new Set(log.records.flatMap((r) => Object.keys(r.losses)))];
  const losses = lossNames.map((k, i) => lineChartSvg(k, [{ name: k, points: log.records.map((r) => [r.timesteps, r.losses[k]]), color: PALETTE[i % PALETTE.length], width: 2 }]));
  const cols: (keyof LogRecord)[] = ['timesteps', 'episodes', 'episodeReturnMean', 'episodeLengthMean', 'fps', 'seconds', 'learningRate', 'explorationRate'];
  const present = cols.filter((c) => log.records.some((r) => r[c] !== undefined));
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(5)) : '');
  const head = [...present, ...lossNames].map((c) => `<th>${esc(String(c))}</th>`).join('');
  const rows = log.records.map((r) => `<tr>${present.map((c) => `<td>${fmt(r[c])}</td>`).join('')}${lossNames.map((k) => `<td>${fmt(r.losses[k])}</td>`).join('')}</tr>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-top:16px;font-size:12px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}svg{margin:8px 16px 8px 0;border:1px solid #eee}</style></head>
<body><h1>${esc(title)}</h1>
<p>${eps.length} episodes, ${log.records.at(-1)?.timesteps ?? 0} steps, written ${new Date().toISOString()}</p>
${curve}
${losses.join('\n')}
<table><thead><tr>${head}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></body></html>
`;
}

export async function writeLearningCurve(path: string, log: TrainingLog, title?: string): Promise<void> {
  await writeFile(path, learningCurveHtml(log, title));
}
