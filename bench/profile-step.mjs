// Where a training step's time goes: wraps every native call, runs the step, and prints the
// time per native function and per GEMM shape (median over the steps), against the step's
// wall time. The rest of the step is JavaScript (op dispatch, autograd, allocation).
//
//   node bench/profile-step.mjs [W2|W3|W4|W5|W6] [--steps N]
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { native } = await import(pathToFileURL(join(root, 'dist/native.js')).href);
const { profileSteps } = await import(pathToFileURL(join(root, 'bench/native-timer.mjs')).href);
const { optim, F } = kiln;
const { mlp, cnn, lstmLastStep, gpt } = await import(pathToFileURL(join(root, 'bench/models.mjs')).href);

const argv = process.argv.slice(2);
const id = argv.find((a) => /^W\d$/.test(a)) ?? 'W3';
const gptStep = (m) => [m, kiln.randint(0, 65, [16, 128]), kiln.randint(0, 65, [16, 128])];
const steps = argv.includes('--steps') ? Number(argv[argv.indexOf('--steps') + 1]) : 30;

const models = {
  W2: () => mlp(kiln, [784, 512, 256, 10], 128),
  W3: () => mlp(kiln, [784, 2048, 2048, 10], 256),
  W4: () => mlp(kiln, [4, 32, 32, 2], 32),
  W5: () => cnn(kiln),
  W6: () => lstmLastStep(kiln),
  W8: () => gptStep(gpt(kiln, { vocabSize: 65, blockSize: 128, nLayer: 4, nHead: 4, nEmbd: 256 })),
};
if (!models[id]) throw new Error(`workload: expected one of ${Object.keys(models).join(', ')}, got ${id}`);
kiln.manualSeed(0);
const [model, x, y] = models[id]();
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const step = () => kiln.scope(() => {
  const loss = id === 'W8' ? model.loss(x, y) : F.crossEntropy(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
});

// per step: the wall ms, and key -> { ms, calls, flops } of its native calls
const { walls, perStep } = profileSteps(native, step, { warmup: 10, steps });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const keys = [...new Set(perStep.flatMap((m) => [...m.keys()]))];
const rows = keys.map((k) => {
  const ms = median(perStep.map((m) => m.get(k)?.ms ?? 0));
  const e = perStep[0].get(k) ?? { calls: 0, flops: 0 };
  return { k, ms, calls: e.calls, gflops: e.flops ? (e.flops * e.calls) / ms / 1e6 : undefined };
}).sort((a, b) => b.ms - a.ms);
const wall = median(walls);
const nativeMs = rows.reduce((s, r) => s + r.ms, 0);
console.log(`${id}: step ${wall.toFixed(3)} ms (median of ${steps}; the wrappers add ~0.3 us a call)`);
console.log('| native call | calls/step | ms/step | share | GFLOP/s |');
console.log('|---|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.k} | ${r.calls} | ${r.ms.toFixed(3)} | ${((100 * r.ms) / wall).toFixed(1)}% | ${r.gflops?.toFixed(1) ?? '-'} |`);
}
console.log(`| all native | | ${nativeMs.toFixed(3)} | ${((100 * nativeMs) / wall).toFixed(1)}% | |`);
console.log(`| JavaScript and the rest | | ${(wall - nativeMs).toFixed(3)} | ${((100 * (wall - nativeMs)) / wall).toFixed(1)}% | |`);
