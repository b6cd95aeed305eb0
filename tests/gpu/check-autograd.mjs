// Autograd across devices (plain node over the built package, run by tests/gpu/run.sh):
// t.to('cuda') is differentiable back to the CPU (also with createGraph), module.to('cuda')
// keeps its Parameter objects so an optimizer built before trains them, a Hessian-vector product
// and a checkpointed model on CUDA match the CPU, and fit() moves CPU batches to the model.
// Tolerance: relative 1e-3 of each tensor's largest value; TF32 is off ('highest').
//
//   node tests/gpu/check-autograd.mjs [outDir]     exit 0 all pass, 1 a mismatch, 2 no CUDA
//   KILN_CHECK_SELFTEST=1 runs it CPU against CPU, to check this script without a GPU
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { nn, optim, F } = kiln;
const outDir = process.argv[2] ?? process.env.OUT;
const selfTest = process.env.KILN_CHECK_SELFTEST === '1';
const target = selfTest ? 'cpu' : 'cuda';
if (!selfTest && !kiln.cuda.isAvailable()) {
  console.log(`CUDA not available: ${kiln.backendInfo().cuda.reason}`);
  process.exit(2);
}
kiln.setMatmulPrecision('highest');

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}
const values = (t) => Array.from(t.cpu().toTypedArray());
function close(a, b, rtol = 1e-3) {
  const scale = Math.max(1e-6, ...b.map(Math.abs));
  let worst = 0;
  a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[i]) / scale)));
  return { ok: a.length === b.length && worst <= rtol, worst };
}

// 1. to() is recorded: the gradient comes back to the CPU leaf, also as a differentiable gradient
{
  const x = kiln.tensor([0.5, -1, 2], { requiresGrad: true });
  const y = x.to(target);
  const z = y.mul(y).mul(y).sum();
  const [g] = kiln.autograd.grad(z, x, { createGraph: true });
  const [h] = kiln.autograd.grad(g.sum(), x);
  check('to(device): y on the target device', y.device === (target === 'cuda' ? 'cuda:0' : 'cpu'));
  check('to(device): first gradient on the CPU = 3x^2', g.device === 'cpu' && close(values(g), [0.75, 3, 12], 1e-6).ok);
  check('to(device): second gradient = 6x', close(values(h), [3, -6, 12], 1e-6).ok);
}

// 2. module.to(): the same Parameter objects; an optimizer built before trains them on the target
function mlp() {
  kiln.manualSeed(3);
  return new nn.Sequential(new nn.Linear(8, 16), new nn.Tanh(), new nn.Linear(16, 4));
}
{
  const model = mlp();
  const params = model.parameters();
  const opt = new optim.Adam(params, { lr: 1e-2 });
  model.to(target);
  check('module.to(): same Parameter objects', model.parameters().every((p, i) => p === params[i]));
  check('module.to(): parameters on the target', params.every((p) => p.device === (target === 'cuda' ? 'cuda:0' : 'cpu')));
  const ref = mlp();
  const refOpt = new optim.Adam(ref.parameters(), { lr: 1e-2 });
  kiln.manualSeed(9);
  const x = kiln.randn([32, 8]);
  const y = kiln.randint(0, 4, [32]);
  for (let s = 0; s < 3; s++) {
    for (const [m, o, dev] of [[model, opt, target], [ref, refOpt, 'cpu']]) {
      kiln.scope(() => {
        o.zeroGrad();
        F.crossEntropy(m.forward(x.to(dev)), y.to(dev)).backward();
        o.step();
      });
    }
  }
  const worst = Math.max(...params.map((p, i) => close(values(p), values(ref.parameters()[i])).worst));
  check('module.to(): 3 Adam steps by an optimizer built before to() match the CPU', worst <= 1e-3, `worst ${worst.toExponential(2)}`);
}

// 3. a Hessian-vector product and a checkpointed forward on the target match the CPU
function hvp(dev, useCheckpoint) {
  const model = mlp().to(dev);
  kiln.manualSeed(10);
  const x = kiln.randn([16, 8]).to(dev);
  return kiln.scope(() => {
    const out = useCheckpoint ? kiln.utils.checkpointSequential(model, 2, x) : model.forward(x);
    const loss = out.square().mean();
    const ps = model.parameters();
    const gs = kiln.autograd.grad(loss, ps, { createGraph: true });
    const gv = gs.reduce((s, g) => s.add(g.sum()), kiln.zeros([], { device: dev }));
    return kiln.autograd.grad(gv, ps).flatMap(values);
  });
}
{
  const cpu = hvp('cpu', false);
  const dev = hvp(target, false);
  const ck = hvp(target, true);
  const a = close(dev, cpu);
  const b = close(ck, cpu);
  check('Hessian-vector product on the target matches the CPU', a.ok, `worst ${a.worst.toExponential(2)}`);
  check('the same through checkpointSequential on the target', b.ok, `worst ${b.worst.toExponential(2)}`);
}

// 4. fit() with the model on the target and the data on the CPU
{
  const model = mlp().to(target);
  kiln.manualSeed(11);
  const x = kiln.randn([64, 8]);
  const y = x.narrow(1, 0, 4).argmax(1);
  const history = await kiln.fit(model, {
    trainData: new kiln.data.TensorDataset(x, y), batchSize: 16, epochs: 8,
    optimizer: new optim.Adam(model.parameters(), { lr: 0.02 }), verbose: false,
  });
  const first = history.epochs[0].loss;
  const last = history.epochs.at(-1).loss;
  check('fit() moves CPU batches to the model and trains', last < 0.7 * first, `loss ${first.toFixed(3)} -> ${last.toFixed(3)}`);
}

if (outDir) writeFileSync(join(outDir, 'check-autograd.json'), JSON.stringify({ target, results }, null, 1));
const failed = results.filter((r) => !r.ok).length;
console.log(`${results.length - failed}/${results.length} passed on ${target}`);
process.exit(failed === 0 ? 0 : 1);
