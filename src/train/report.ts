/** A self-contained HTML report of a training run: loss and accuracy curves as inline SVG. */
import { writeFile } from 'node:fs/promises';
import type { EpochRecord } from './callbacks.js';

const COLORS: Record<string, string> = { loss: '#d62728', valLoss: '#ff9896', accuracy: '#1f77b4', valAccuracy: '#aec7e8' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** One chart: a polyline per series over epochs, with axes labelled by the value range. */
export function chartSvg(title: string, epochs: EpochRecord[], keys: (keyof EpochRecord)[]): string {
  const W = 520, H = 260, L = 56, R = 16, T = 28, B = 36;
  const series = keys
    .map((k) => ({ k: String(k), pts: epochs.map((e) => [e.epoch, e[k] as number] as const).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)) }))
    .filter((s) => s.pts.length > 0);
  const ys = series.flatMap((s) => s.pts.map(([, v]) => v));
  if (ys.length === 0) return '';
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (hi === lo) { hi += 0.5; lo -= 0.5; }
  const x0 = epochs[0].epoch, x1 = Math.max(epochs[epochs.length - 1].epoch, x0 + 1);
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (y - lo) / (hi - lo)) * (H - T - B);
  const lines = series.map((s) =>
    `<polyline fill="none" stroke="${COLORS[s.k] ?? '#333'}" stroke-width="2" data-series="${s.k}" points="${s.pts.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
  const legend = series.map((s, i) => `<text x="${L + 8 + i * 110}" y="${T - 10}" fill="${COLORS[s.k] ?? '#333'}" font-size="12">${s.k}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(title)}">
<text x="${W / 2}" y="14" text-anchor="middle" font-size="13">${escapeHtml(title)}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#999"/>
<text x="${L - 6}" y="${py(hi) + 4}" text-anchor="end" font-size="11">${hi.toPrecision(4)}</text>
<text x="${L - 6}" y="${py(lo) + 4}" text-anchor="end" font-size="11">${lo.toPrecision(4)}</text>
<text x="${px(x0)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${x0}</text>
<text x="${px(x1)}" y="${H - B + 16}" text-anchor="middle" font-size="11">${x1}</text>
<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle" font-size="11">epoch</text>
${legend.join('\n')}
${lines.join('\n')}
</svg>`;
}

export function reportHtml(epochs: EpochRecord[], title = 'Kiln training report'): string {
  const cols: (keyof EpochRecord)[] = ['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'seconds', 'samplesPerSec', 'lr'];
  const present = cols.filter((c) => epochs.some((e) => e[c] !== undefined));
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : '');
  const rows = epochs.map((e) => `<tr>${present.map((c) => `<td>${fmt(e[c])}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-top:16px}
td,th{border:1px solid #ddd;padding:4px 10px;text-align:right}svg{margin:8px 16px 8px 0;border:1px solid #eee}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p>${epochs.length} epochs, written ${new Date().toISOString()}</p>
${chartSvg('loss', epochs, ['loss', 'valLoss'])}
${chartSvg('accuracy', epochs, ['accuracy', 'valAccuracy'])}
<table><thead><tr>${present.map((c) => `<th>${String(c)}</th>`).join('')}</tr></thead><tbody>
${rows}
</tbody></table></body></html>
`;
}

export async function writeReport(path: string, epochs: EpochRecord[], title?: string): Promise<void> {
  await writeFile(path, reportHtml(epochs, title));
}
