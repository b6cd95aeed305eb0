// WGAN-GP from one shared start: Kiln's step of examples/wgan-gp.mjs run on the initial weights,
// batches, noise and penalty draws of bench/generative/wgan_trajectory.py, its per-step figures
// printed beside PyTorch's float32 and float64 runs of the same loop. If Kiln's distance from the
// float64 run stays near float32 PyTorch's, the two implementations train the same way and only
// rounding separates them; a wrong gradient or update shows as a jump in the first steps.
//
//   /usr/bin/python3 bench/generative/wgan_trajectory.py --steps 200 --seed 0
//   npm run build:ts && node bench/generative/wgan-trajectory.mjs [FILE] [--json OUT]
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { generator, critic, wganStep } = await import(pathToFileURL(join(root, 'bench/generative/gan-models.mjs')).href);
const { optim } = kiln;
const argv = process.argv.slice(2);
const jsonOut = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : null;
const file = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--json') ?? join(root, 'bench/out/generative/wgan-trajectory.safetensors');
const CRITIC_STEPS = 5;

const t = await kiln.load(file);
const G = generator();
const C = critic(false);
for (const [prefix, m] of [['G', G], ['C', C]]) {
  const dict = Object.fromEntries(Object.entries(t).filter(([k]) => k.startsWith(`${prefix}.`)).map(([k, v]) => [k.slice(2), v]));
  const { missingKeys } = m.loadStateDict(dict, { strict: false });
  if (missingKeys.some((k) => !k.endsWith('num_batches_tracked'))) throw new Error(`${prefix}: missing ${missingKeys.join(', ')}`);
}
const optG = new optim.Adam(G.parameters(), { lr: 1e-4, betas: [0, 0.9] });
const optC = new optim.Adam(C.parameters(), { lr: 1e-4, betas: [0, 0.9] });
const steps = t.real.shape[0];
const at = (x, i) => x.narrow(0, i, 1).squeeze(0);
G.train();
const rows = [];
for (let i = 0; i < steps; i++) {
  rows.push(kiln.scope(() => wganStep({ G, C, optG, optC }, {
    real: at(t.real, i), zFake: at(t.zFake, i), eps: at(t.eps, i),
    zGen: (i + 1) % CRITIC_STEPS === 0 ? at(t.zGen, Math.floor(i / CRITIC_STEPS)) : null,
  })));
}

const ref64 = t.torch64.toArray(), ref32 = t.torch32.toArray();
const names = ['wasserstein', 'penalty', 'lossC', 'lossG'];
const rel = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);
console.log(`| step | figure | PyTorch float64 | PyTorch float32 | Kiln float32 | float32 PyTorch rel. error | Kiln rel. error |`);
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
const report = [];
for (const s of [1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 400, 500].filter((s) => s <= steps)) {
  for (const [j, name] of names.entries()) {
    const i = name === 'lossG' ? Math.floor(s / CRITIC_STEPS) * CRITIC_STEPS - 1 : s - 1;
    if (i < 0) continue;
    const [a, b, c] = [ref64[i][j], ref32[i][j], rows[i][j]];
    report.push({ step: i + 1, figure: name, torch64: a, torch32: b, kiln: c, torchErr: rel(b, a), kilnErr: rel(c, a) });
    console.log(`| ${i + 1} | ${name} | ${a.toFixed(6)} | ${b.toFixed(6)} | ${c.toFixed(6)} | ${rel(b, a).toExponential(1)} | ${rel(c, a).toExponential(1)} |`);
  }
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ file, steps, rows, report }, null, 1));
