// CPU time (user+sys, this process) per training step of a bench workload, after warm-up:
// immune to being descheduled on a loaded machine. Run with KILN_NUM_THREADS=1.
//   node bench/cpu-step.mjs <checkout> <W2|W4|W5|W6> [steps]
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
const [repo, id, stepsArg] = process.argv.slice(2);
const kiln = await import(pathToFileURL(join(repo, 'dist/index.js')).href);
const models = await import(pathToFileURL(join(repo, 'bench/models.mjs')).href);
const { optim, F } = kiln;
const make = {
  W2: () => models.mlp(kiln, [784, 512, 256, 10], 128),
  W4: () => models.mlp(kiln, [4, 32, 32, 2], 32),
  W5: () => models.cnn(kiln, 64),
  W6: () => models.lstmLastStep(kiln),
}[id];
const [model, x, y] = make();
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const step = () => kiln.scope(() => { const loss = F.crossEntropy(model.forward(x), y); opt.zeroGrad(); loss.backward(); opt.step(); });
const steps = Number(stepsArg ?? 50);
for (let i = 0; i < steps; i++) step();
const c0 = process.cpuUsage();
for (let i = 0; i < steps; i++) step();
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ id, cpuMsPerStep: (c.user + c.system) / 1000 / steps }));
