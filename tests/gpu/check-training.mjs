// Full training steps on CUDA against the CPU backend (plain node over the built package, run by
// tests/gpu/run.sh): an MLP, a CNN, an RNN, an LSTM, a GRU, a small causal transformer and an MLP with
// BatchNorm1d and LayerNorm start from the same weights and take 3 Adam steps
// on the same batch on each device; losses and every parameter must agree.
// Tolerance: relative 1e-3 of each tensor's largest value (float32, different summation orders
// over three steps); TF32 is off ('highest').
//
//   node tests/gpu/check-training.mjs [outDir]     exit 0 all pass, 1 a mismatch, 2 no CUDA
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { nn, optim, F } = kiln;
const outDir = process.argv[2] ?? process.env.OUT;

// KILN_CHECK_SELFTEST=1 runs the comparison CPU against CPU, to check this script without a GPU
const selfTest = process.env.KILN_CHECK_SELFTEST === '1';
const target = selfTest ? 'cpu' : 'cuda';
if (!selfTest && !kiln.cuda.isAvailable()) {
  console.log(`CUDA not available: ${kiln.backendInfo().cuda.reason}`);
  process.exit(2);
}
kiln.setMatmulPrecision('highest');

// A 2-layer recurrent net (the native RNN/LSTM/GRU recurrences) whose last step feeds a linear head.
class LastStep extends nn.Module {
  constructor(Rnn) {
    super();
    this.rnn = new Rnn(16, 32, { batchFirst: true, numLayers: 2 });
    this.head = new nn.Linear(32, 5);
  }
  forward(x) {
    const [out] = this.rnn.forward(x);
    return this.head.forward(out.select(1, out.shape[1] - 1));
  }
}

// Token embedding, a pre-norm causal encoder layer (attention, GELU feed-forward, LayerNorm) and
// a head on the last position.
class TinyTransformer extends nn.Module {
  constructor() {
    super();
    this.embed = new nn.Embedding(50, 32);
    this.layer = new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64, dropout: 0, batchFirst: true, activation: 'gelu', normFirst: true });
    this.head = new nn.Linear(32, 5);
  }
  forward(tokens) {
    const h = this.layer.forward(this.embed.forward(tokens), { isCausal: true });
    return this.head.forward(h.select(1, h.shape[1] - 1));
  }
}

const models = {
  mlp: { make: () => new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10)), x: [32, 64], classes: 10 },
  cnn: {
    make: () => new nn.Sequential(new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.AvgPool2d(2), new nn.Flatten(), new nn.Linear(16 * 7 * 7, 10)),
    x: [16, 1, 28, 28], classes: 10,
  },
  rnn: { make: () => new LastStep(nn.RNN), x: [8, 12, 16], classes: 5 },
  lstm: { make: () => new LastStep(nn.LSTM), x: [8, 12, 16], classes: 5 },
  gru: { make: () => new LastStep(nn.GRU), x: [8, 12, 16], classes: 5 },
  transformer: { make: () => new TinyTransformer(), x: [8, 12], classes: 5, tokens: 50 },
  // BatchNorm1d in training mode (batch statistics, running averages) and LayerNorm
  norms: {
    make: () => new nn.Sequential(new nn.Linear(64, 128), new nn.BatchNorm1d(128), new nn.ReLU(), new nn.Linear(128, 64),
      new nn.LayerNorm(64), new nn.Tanh(), new nn.Linear(64, 10)),
    x: [32, 64], classes: 10,
  },
};

function run(name, spec, device) {
  kiln.manualSeed(42);
  const model = spec.make();
  const x = spec.tokens ? kiln.randint(0, spec.tokens, spec.x) : kiln.randn(spec.x);
  const y = kiln.randint(0, spec.classes, [spec.x[0]]);
  model.to(device);
  const xd = x.to(device);
  const yd = y.to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const losses = [];
  for (let i = 0; i < 3; i++) {
    kiln.scope(() => {
      const loss = F.crossEntropy(model.forward(xd), yd);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  }
  const params = Object.fromEntries(model.namedParameters().map(([k, p]) => [k, p.to('cpu').toTypedArray()]));
  return { losses, params };
}

const results = [];
let failed = 0;
for (const [name, spec] of Object.entries(models)) {
  const cpu = run(name, spec, 'cpu');
  const gpu = run(name, spec, target);
  let worst = 0;
  let where = '';
  for (const [k, a] of Object.entries(cpu.params)) {
    const b = gpu.params[k];
    const scale = Math.max(1e-6, ...Array.from(a, Math.abs));
    for (let i = 0; i < a.length; i++) {
      const e = Math.abs(a[i] - b[i]) / scale;
      if (!(e <= worst)) { worst = e; where = k; }
    }
  }
  const lossErr = Math.max(...cpu.losses.map((l, i) => Math.abs(l - gpu.losses[i]) / Math.max(Math.abs(l), 1e-6)));
  const ok = worst <= 1e-3 && lossErr <= 1e-3;
  if (!ok) failed++;
  results.push({ name, ok, paramRelErr: worst, worstParam: where, lossRelErr: lossErr, cpuLosses: cpu.losses, gpuLosses: gpu.losses });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(5)} param rel err ${worst.toExponential(2)} (${where})  loss rel err ${lossErr.toExponential(2)}`);
}
if (outDir) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'check-training.json'), JSON.stringify(results, null, 2));
}
process.exit(failed ? 1 : 0);
