// The table of bench/gpu/run.sh: for each figure, Kiln's and PyTorch's median over the rounds, and
// the ratio of Kiln's time to PyTorch's (below 1: Kiln is faster). Writes summary.json beside.
//
//   node bench/gpu/summarize.mjs <dir with kiln-N.json and torch-N.json>
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const runs = { kiln: [], torch: [] };
for (const f of readdirSync(dir).filter((n) => /^(kiln|torch)-\d+\.json$/.test(n))) {
  const j = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  runs[j.side].push(j.results);
}
const keys = [...new Set([...runs.kiln, ...runs.torch].flatMap((r) => Object.keys(r)))];
const rows = keys.map((key) => {
  const k = runs.kiln.map((r) => r[key]?.ms).filter((x) => x !== undefined);
  const t = runs.torch.map((r) => r[key]?.ms).filter((x) => x !== undefined);
  const km = k.length ? median(k) : null;
  const tm = t.length ? median(t) : null;
  return { key, kilnMs: km, torchMs: tm, ratio: km !== null && tm !== null ? km / tm : null, kilnRounds: k, torchRounds: t };
});
const fmt = (x, d = 3) => (x === null ? '-' : x.toFixed(d));
console.log(`rounds: Kiln ${runs.kiln.length}, PyTorch ${runs.torch.length}`);
console.log('| figure | Kiln ms | PyTorch ms | Kiln / PyTorch time |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.key} | ${fmt(r.kilnMs)} | ${fmt(r.torchMs)} | ${fmt(r.ratio, 2)} |`);
writeFileSync(join(dir, 'summary.json'), JSON.stringify(rows, null, 2));
