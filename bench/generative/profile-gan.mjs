// Where a GAN training step's time goes (the DCGAN and WGAN-GP steps of examples/dcgan.mjs and
// examples/wgan-gp.mjs on random data): wraps every native call and prints the time per native
// function and per GEMM shape (median over the steps) against the step's wall time.
//
//   npm run build:ts && node bench/generative/profile-gan.mjs [dcgan|wgan-gp] [--steps N]
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { native } = await import(pathToFileURL(join(root, 'dist/native.js')).href);
const { profileSteps } = await import(pathToFileURL(join(root, 'bench/native-timer.mjs')).href);
const { generator, critic, wganStep } = await import(pathToFileURL(join(root, 'bench/generative/gan-models.mjs')).href);
const { optim, F } = kiln;
const argv = process.argv.slice(2);
const program = argv.find((a) => !a.startsWith('--') && Number.isNaN(Number(a))) ?? 'dcgan';
const steps = argv.includes('--steps') ? Number(argv[argv.indexOf('--steps') + 1]) : 20;
kiln.manualSeed(0);

const G = generator();
const D = critic(program === 'dcgan');
const betas = program === 'dcgan' ? [0.5, 0.999] : [0, 0.9];
const lr = program === 'dcgan' ? 2e-4 : 1e-4;
const optG = new optim.Adam(G.parameters(), { lr, betas });
const optD = new optim.Adam(D.parameters(), { lr, betas });
const real = kiln.rand([64, 1, 28, 28]).mul(2).sub(1);
const bce = (logits, label) => F.binaryCrossEntropyWithLogits(logits, kiln.fullLike(logits, label));

const dcganStep = () => kiln.scope(() => {
  const fake = G.forward(kiln.randn([64, 64]));
  const lossD = bce(D.forward(real), 1).add(bce(D.forward(fake.detach()), 0));
  optD.zeroGrad(); lossD.backward(); optD.step();
  const lossG = bce(D.forward(fake), 1);
  optG.zeroGrad(); lossG.backward(); optG.step();
});
// one critic step with the gradient penalty (the double backward), as wgan-gp.mjs does; the
// generator step every fifth call
let calls = 0;
const wganCall = () => kiln.scope(() => wganStep({ G, C: D, optG, optC: optD }, {
  real, zFake: kiln.randn([64, 64]), eps: kiln.rand([64, 1, 1, 1]), zGen: ++calls % 5 === 0 ? kiln.randn([64, 64]) : null,
}));
const step = program === 'dcgan' ? dcganStep : wganCall;

// per step: the wall ms, and key -> { ms, calls, flops } of its native calls
const { walls, perStep } = profileSteps(native, step, { warmup: 5, steps });
const total = (xs) => xs.reduce((s, x) => s + x, 0);
const keys = [...new Set(perStep.flatMap((m) => [...m.keys()]))];
// totals over all steps, per step (the WGAN-GP's generator step comes every fifth call)
const rows = keys.map((k) => {
  const ms = total(perStep.map((m) => m.get(k)?.ms ?? 0)) / steps;
  const calls = total(perStep.map((m) => m.get(k)?.calls ?? 0)) / steps;
  const e = perStep.find((m) => m.has(k)).get(k);
  return { k, ms, calls, gflops: e.flops ? (e.flops * calls) / ms / 1e6 : undefined };
}).sort((a, b) => b.ms - a.ms);
const wall = total(walls) / steps;
const nativeMs = total(rows.map((r) => r.ms));
console.log(`${program}: step ${wall.toFixed(2)} ms (mean of ${steps}; the wrappers add ~0.3 us a call)`);
console.log('| native call | calls/step | ms/step | share | GFLOP/s |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows.filter((r) => r.ms > wall * 0.003)) {
  console.log(`| ${r.k} | ${r.calls.toFixed(1)} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / wall).toFixed(1)}% | ${r.gflops?.toFixed(1) ?? '-'} |`);
}
console.log(`| all native | | ${nativeMs.toFixed(2)} | ${((100 * nativeMs) / wall).toFixed(1)}% | |`);
console.log(`| JavaScript and the rest | | ${(wall - nativeMs).toFixed(2)} | ${((100 * (wall - nativeMs)) / wall).toFixed(1)}% | |`);
