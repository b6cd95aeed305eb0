// The side-by-side table of bench/generative/run.sh's outputs: per program and side, the median
// over seeds of the quality figure (AE test MSE per pixel, VAE test ELBO, GAN Frechet distance
// from fid-<program>.json) and of the training wall time, with Kiln / PyTorch ratios. Prints
// Markdown and writes bench/out/generative/table.json.
//
//   node bench/generative/table.mjs
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const OUT = 'bench/out/generative';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const quality = {
  autoencoder: ['test MSE/pixel', (m) => m.metrics.testMsePerPixel],
  vae: ['test ELBO (nats)', (m) => m.metrics.testElboNats],
  dcgan: ['Frechet distance', null],
  'wgan-gp': ['Frechet distance', null],
};
const rows = [];
for (const [program, [label, pick]] of Object.entries(quality)) {
  const fidFile = join(OUT, `fid-${program}.json`);
  const fid = existsSync(fidFile) ? JSON.parse(readFileSync(fidFile, 'utf8')).rows : [];
  const side = (name) => {
    const runs = readdirSync(OUT).filter((d) => d.startsWith(`${name}-${program}-`) && existsSync(join(OUT, d, 'metrics.json')))
      .map((d) => ({ dir: d, m: JSON.parse(readFileSync(join(OUT, d, 'metrics.json'), 'utf8')) }));
    if (runs.length === 0) return null;
    const q = runs.map(({ dir, m }) => (pick ? pick(m) : fid.find((r) => r.name.includes(`/${dir}/`))?.fd)).filter((v) => v !== undefined);
    return {
      seeds: runs.map((r) => r.m.seed), epochs: runs[0].m.epochs, trainImages: runs[0].m.config.trainImages ?? null,
      quality: q, qualityMedian: q.length ? median(q) : null, seconds: runs.map((r) => r.m.trainSeconds),
      secondsMedian: median(runs.map((r) => r.m.trainSeconds)), nonFinite: runs.reduce((a, r) => a + r.m.nonFinite, 0),
    };
  };
  const kiln = side('kiln'), torch = side('torch');
  if (!kiln && !torch) continue;
  rows.push({ program, label, kiln, torch, floor: fid.find((r) => r.name.startsWith('train set'))?.fd ?? null });
}
const f = (v, d = 4) => (v === null || v === undefined ? '-' : Number(v).toPrecision(d));
console.log('| program | figure | epochs | seeds | Kiln (median) | PyTorch (median) | Kiln / PyTorch | Kiln s | PyTorch s | time ratio |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const k = r.kiln ?? {}, t = r.torch ?? {};
  console.log(`| ${r.program} | ${r.label} | ${k.epochs ?? t.epochs} | ${(k.seeds ?? []).length}/${(t.seeds ?? []).length} | ${f(k.qualityMedian)} | ${f(t.qualityMedian)} | ` +
    `${k.qualityMedian != null && t.qualityMedian ? f(k.qualityMedian / t.qualityMedian, 3) : '-'} | ${f(k.secondsMedian, 3)} | ${f(t.secondsMedian, 3)} | ` +
    `${k.secondsMedian && t.secondsMedian ? f(k.secondsMedian / t.secondsMedian, 3) : '-'} |`);
}
writeFileSync(join(OUT, 'table.json'), JSON.stringify(rows, null, 1) + '\n');
