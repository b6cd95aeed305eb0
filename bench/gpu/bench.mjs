// Kiln's side of the GPU benchmark (bench/gpu/run.sh runs it beside bench/gpu/torch_bench.py, the
// same work in PyTorch, in alternating rounds). Every figure is host wall time around a run of
// repetitions that ends in a device synchronize, after a warm-up: the same method on both sides.
//
//   node bench/gpu/bench.mjs out.json [--quick]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { native } = await import(pathToFileURL(join(root, 'dist/native.js')).href);
const { deviceId } = await import(pathToFileURL(join(root, 'dist/device.js')).href);
const { nn, optim, F } = kiln;
const outPath = process.argv[2];
const quick = process.argv.includes('--quick');
// KILN_CHECK_SELFTEST=1 runs it on the CPU, to check this script without a GPU
const selfTest = process.env.KILN_CHECK_SELFTEST === '1';
if (!selfTest && !kiln.cuda.isAvailable()) {
  console.log(`CUDA not available: ${kiln.backendInfo().cuda.reason}`);
  process.exit(2);
}
const dev = selfTest ? 'cpu' : 'cuda';
const sync = () => native.synchronize(deviceId(dev));

/**
 * Median seconds per repetition over `rounds` timed runs of `reps` calls each. fn's result is
 * dropped inside the scope: a tensor returned from kiln.scope stays alive (until disposed or
 * collected), so each call would take fresh device memory instead of the cached block.
 */
function time(fn, reps, rounds = 5) {
  const call = () => kiln.scope(() => { fn(); });
  for (let i = 0; i < 2; i++) call();
  sync();
  const runs = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) call();
    sync();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9 / reps);
  }
  runs.sort((a, b) => a - b);
  return runs[runs.length >> 1];
}

const results = {};
const put = (key, seconds, extra = {}) => {
  results[key] = { ms: seconds * 1e3, ...extra };
  console.log(`${key.padEnd(28)} ${(seconds * 1e3).toFixed(3).padStart(9)} ms ${Object.entries(extra).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(' ')}`);
};

// matmul: float32 ('highest'), TF32 ('high'), bfloat16 operands (autocast)
for (const n of quick ? [1024] : [4096, 8192]) {
  kiln.manualSeed(0);
  const a = kiln.randn([n, n], { device: dev });
  const b = kiln.randn([n, n], { device: dev });
  const flops = 2 * n ** 3;
  const reps = n >= 8192 ? 5 : 20;
  // bf16: autocast over float32 tensors (Kiln's bf16 tensors are CPU-only), so each call rounds
  // both operands to bfloat16 first; PyTorch reports both bf16 tensors and autocast
  for (const [name, precision, bf16] of [['f32', 'highest', false], ['tf32', 'high', false], ['autocast_bf16', 'highest', true]]) {
    kiln.setMatmulPrecision(precision);
    const s = time(() => (bf16 ? kiln.autocast({ dtype: 'bfloat16' }, () => kiln.matmul(a, b)) : kiln.matmul(a, b)), reps);
    put(`matmul_${name}_${n}`, s, { TFLOPs: flops / s / 1e12 });
  }
  kiln.setMatmulPrecision('highest');
  if (n === (quick ? 1024 : 4096)) {
    // the pieces of a Linear layer's backward at the MLP's size: the other GEMM layouts (dX = dY W,
    // dW = dY^T X) and the bias gradient's column sum
    put(`matmul_f32_nt_${n}`, time(() => kiln.matmul(a, b.t()), reps));
    put(`matmul_f32_tn_${n}`, time(() => kiln.matmul(a.t(), b), reps));
    put(`sum_dim0_${n}`, time(() => a.sum(0), reps));
    put(`relu_${n}`, time(() => kiln.relu(a), reps));
  }
  a.dispose(); b.dispose();
}

// Adam on one parameter of N elements (28 bytes a parameter) beside a device-to-device copy
{
  const N = quick ? 1e6 : 1e8;
  const p = kiln.randn([N], { device: dev, requiresGrad: true });
  p.grad = kiln.randn([N], { device: dev });
  const opt = new optim.Adam([p], { lr: 1e-3 });
  const s = time(() => opt.step(), 10);
  put('adam_100M', s, { GBs: (28 * N) / s / 1e9 });
  const c = time(() => p.detach().clone(), 10);
  put('copy_100M', c, { GBs: (8 * N) / c / 1e9 });
}

// one training step (forward, cross entropy, backward, Adam) of two MLPs
for (const [name, sizes, batch] of [['mlp_4096', [4096, 4096, 4096, 10], 4096], ['mlp_784', [784, 512, 256, 10], 128]]) {
  kiln.manualSeed(0);
  const layers = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nn.Linear(sizes[i], sizes[i + 1]));
    if (i + 2 < sizes.length) layers.push(new nn.ReLU());
  }
  const model = new nn.Sequential(...layers).to(dev);
  const x = kiln.randn([quick ? 64 : batch, sizes[0]], { device: dev });
  const y = kiln.randint(0, 10, [quick ? 64 : batch]).to(dev);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const reps = name === 'mlp_784' ? 200 : 10;
  // the parts, to place a difference: forward and loss; with backward; the whole step
  put(`step_${name}_forward`, time(() => F.crossEntropy(model.forward(x), y), reps));
  put(`step_${name}_backward`, time(() => {
    opt.zeroGrad();
    F.crossEntropy(model.forward(x), y).backward();
  }, reps));
  put(`step_${name}`, time(() => {
    const loss = F.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }, reps));
}

if (outPath) writeFileSync(outPath, JSON.stringify({ side: 'kiln', results }, null, 2));
