/** Small inline-SVG charts for the study report: scatter (with an optional line) and bars. */
const W = 520, H = 280, L = 64, R = 16, T = 28, B = 40;

export function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

export interface Axis { label: string; log?: boolean; categories?: string[]; /** whole-number ticks (trial numbers) */ integer?: boolean }
export interface Point { x: number; y: number; color?: string; title?: string }

function range(v: number[], log: boolean): [number, number] {
  const f = v.filter((x) => Number.isFinite(x) && (!log || x > 0)).map((x) => (log ? Math.log10(x) : x));
  if (f.length === 0) return [0, 1];
  let lo = Math.min(...f), hi = Math.max(...f);
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : Number(v.toPrecision(4)).toString());

export function scatterSvg(title: string, xAxis: Axis, yAxis: Axis, points: Point[], line?: [number, number][]): string {
  const xs = points.map((p) => p.x).concat(line?.map((p) => p[0]) ?? []);
  const ys = points.map((p) => p.y).concat(line?.map((p) => p[1]) ?? []);
  const [x0, x1] = xAxis.categories ? [-0.5, xAxis.categories.length - 0.5] : range(xs, !!xAxis.log);
  const [y0, y1] = range(ys, !!yAxis.log);
  const tx = (v: number) => (xAxis.log && !xAxis.categories ? Math.log10(v) : v);
  const ty = (v: number) => (yAxis.log ? Math.log10(v) : v);
  const px = (v: number) => L + ((tx(v) - x0) / (x1 - x0)) * (W - L - R);
  const py = (v: number) => T + (1 - (ty(v) - y0) / (y1 - y0)) * (H - T - B);
  const inv = (t: number, log?: boolean) => (log ? 10 ** t : t);
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const yv = inv(y0 + ((y1 - y0) * i) / 4, yAxis.log);
    ticks.push(`<text x="${L - 6}" y="${(py(yv) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(yv)}</text>`);
  }
  if (xAxis.categories) {
    xAxis.categories.forEach((c, i) => ticks.push(`<text x="${px(i).toFixed(1)}" y="${H - B + 14}" text-anchor="middle" font-size="10">${esc(c)}</text>`));
  } else {
    const xTicks = new Set<number>();
    for (let i = 0; i <= 4; i++) {
      const t = inv(x0 + ((x1 - x0) * i) / 4, xAxis.log);
      xTicks.add(xAxis.integer ? Math.round(t) : t);
    }
    for (const xv of xTicks) {
      ticks.push(`<text x="${px(xv).toFixed(1)}" y="${H - B + 14}" text-anchor="middle" font-size="10">${fmt(xv)}</text>`);
    }
  }
  const ok = (p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!xAxis.log || p.x > 0) && (!yAxis.log || p.y > 0);
  const dots = points.filter(ok).map((p) =>
    `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${p.color ?? '#1f77b4'}" fill-opacity="0.75">${p.title ? `<title>${esc(p.title)}</title>` : ''}</circle>`);
  const poly = line && line.length > 0
    ? `<polyline fill="none" stroke="#d62728" stroke-width="1.5" points="${line.filter(([x, y]) => ok({ x, y })).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`
    : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>
<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#999"/>
${ticks.join('\n')}
<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xAxis.label)}${xAxis.log ? ' (log)' : ''}</text>
<text x="12" y="${(T + H - B) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 12 ${(T + H - B) / 2})">${esc(yAxis.label)}${yAxis.log ? ' (log)' : ''}</text>
${dots.join('\n')}
${poly}
</svg>`;
}

export function barsSvg(title: string, entries: [string, number][]): string {
  const rowH = 22, h = T + entries.length * rowH + 12, labelW = 150;
  const max = Math.max(...entries.map(([, v]) => v), 1e-12);
  const rows = entries.map(([k, v], i) => {
    const y = T + i * rowH;
    const w = (v / max) * (W - labelW - 70);
    return `<text x="${labelW - 6}" y="${y + 14}" text-anchor="end" font-size="11">${esc(k)}</text>
<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="#2ca02c" data-param="${esc(k)}"/>
<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 14}" font-size="11">${v.toFixed(3)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" role="img" aria-label="${esc(title)}">
<text x="${W / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>
${rows.join('\n')}
</svg>`;
}
