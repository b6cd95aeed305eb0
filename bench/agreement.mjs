// How far two runs of the suite (bench/run.mjs --json) agree: for each workload and each side,
// the two runs' figures and their difference relative to the faster one, and for each workload
// the two Kiln/PyTorch ratios. The check behind "two back-to-back runs agree within 10%".
//
//   node bench/agreement.mjs A.json B.json [--limit 0.1]
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const files = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--limit');
if (files.length !== 2) throw new Error('usage: node bench/agreement.mjs A.json B.json [--limit 0.1]');
const limit = argv.includes('--limit') ? Number(argv[argv.indexOf('--limit') + 1]) : 0.1;
if (!(limit > 0)) throw new Error(`--limit: expected a number > 0, got ${argv[argv.indexOf('--limit') + 1]}`);

const [a, b] = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const diff = (x, y) => (x === undefined || y === undefined ? undefined : Math.abs(x - y) / Math.min(x, y));
const pct = (v) => (v === undefined ? '-' : `${(100 * v).toFixed(1)}%`);
const fmt = (v) => (v === undefined ? '-' : v.toFixed(3));
const flag = (v) => (v !== undefined && v > limit ? ' **' : '');

console.log(`A: ${files[0]} (${a.date}, commit ${a.commit}, ${a.backend.isa} path, ${a.rounds} rounds)`);
console.log(`B: ${files[1]} (${b.date}, commit ${b.commit}, ${b.backend.isa} path, ${b.rounds} rounds)`);
console.log(`difference = |A - B| / min(A, B); ** marks one over ${pct(limit)}`);
console.log('| id | Kiln ms A / B | diff | PyTorch ms A / B | diff | Kiln/PyTorch A / B | diff |');
console.log('| --- | --- | ---: | --- | ---: | --- | ---: |');
const worst = { kiln: 0, peer: 0, ratio: 0 };
for (const ra of a.results) {
  const rb = b.results.find((r) => r.id === ra.id);
  if (!rb) continue;
  const k = diff(ra.ms, rb.ms);
  const p = diff(ra.peerMs?.PyTorch, rb.peerMs?.PyTorch);
  const q = diff(ra.ratio, rb.ratio);
  worst.kiln = Math.max(worst.kiln, k ?? 0);
  worst.peer = Math.max(worst.peer, p ?? 0);
  worst.ratio = Math.max(worst.ratio, q ?? 0);
  console.log(`| ${ra.id} | ${fmt(ra.ms)} / ${fmt(rb.ms)} | ${pct(k)}${flag(k)} | ${fmt(ra.peerMs?.PyTorch)} / ${fmt(rb.peerMs?.PyTorch)} | ${pct(p)}${flag(p)} | ` +
    `${ra.ratio?.toFixed(2) ?? '-'} / ${rb.ratio?.toFixed(2) ?? '-'} | ${pct(q)}${flag(q)} |`);
}
console.log(`largest difference: Kiln ${pct(worst.kiln)}, PyTorch ${pct(worst.peer)}, ratio ${pct(worst.ratio)}`);
