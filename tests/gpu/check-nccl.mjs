// The NCCL engine on one GPU (plain node over the built package, run by tests/gpu/run.sh): a
// world of one rank on 'cuda:0' — the loader finds libnccl.so.2, the rendezvous passes the
// unique id, every collective gives its definition (over one rank: the input itself, an average
// the input too), and DistributedDataParallel on CUDA trains exactly as the plain model.
// Several GPUs are not here to test: NCCL between ranks is unrun until a multi-GPU session.
//
//   node tests/gpu/check-nccl.mjs [outDir]      exit 0 all pass, 1 a mismatch, 2 no CUDA / NCCL
//   KILN_CHECK_SELFTEST=1 runs it on Gloo and the CPU, to check this script without a GPU
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const dist = kiln.distributed;
const outDir = process.argv[2] ?? process.env.OUT;
const selfTest = process.env.KILN_CHECK_SELFTEST === '1';
const device = selfTest ? 'cpu' : 'cuda:0';
const backend = selfTest ? 'gloo' : 'nccl';
const status = dist.backendStatus();
console.log(`engines: ${JSON.stringify(status)}`);
if (!selfTest && (!kiln.cuda.isAvailable() || !status.nccl.available)) {
  console.log(`not run: ${kiln.cuda.isAvailable() ? status.nccl.reason : kiln.backendInfo().cuda.reason}`);
  process.exit(2);
}

const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}
const values = (t) => Array.from(t.cpu().toTypedArray());
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

const port = await new Promise((res) => {
  const s = createServer().listen(0, () => {
    const p = s.address().port;
    s.close(() => res(p));
  });
});
try {
  await dist.initProcessGroup({ backend, rank: 0, worldSize: 1, masterPort: port, timeoutMs: 60_000, device: selfTest ? undefined : device });
  check(`initProcessGroup({ backend: '${backend}' })`, dist.getWorldSize() === 1 && dist.getBackend() === backend);
  const input = [1.5, -2, 3.25, 0, 7];
  for (const op of ['sum', 'avg', 'max', 'min']) {
    const t = kiln.tensor(input).to(device);
    await dist.allReduce(t, { op });
    check(`allReduce ${op}`, same(values(t), input), values(t).join(','));
  }
  {
    const t = kiln.tensor([4, 5, 6], { dtype: 'int32' }).to(device);
    await dist.allReduce(t, { op: 'sum' });
    check('allReduce int32', same(values(t), [4, 5, 6]));
  }
  {
    const t = kiln.tensor(input).to(device);
    await dist.broadcast(t, 0);
    check('broadcast', same(values(t), input));
    const out = kiln.zeros([5]).to(device);
    await dist.allGatherIntoTensor(out, t);
    check('allGatherIntoTensor', same(values(out), input));
    const rs = kiln.zeros([5]).to(device);
    await dist.reduceScatterTensor(rs, t);
    check('reduceScatterTensor', same(values(rs), input));
    await dist.barrier();
    check('barrier', true);
  }
  { // DDP on the device equals the plain model, step for step
    const train = (wrap) => {
      kiln.manualSeed(0);
      const model = new kiln.nn.Sequential(new kiln.nn.Linear(8, 16), new kiln.nn.ReLU(), new kiln.nn.Linear(16, 3)).to(device);
      const net = wrap ? new kiln.nn.parallel.DistributedDataParallel(model) : model;
      const opt = new kiln.optim.Adam(net.parameters(), { lr: 0.01 });
      const x = kiln.randn([32, 8]).to(device);
      const y = kiln.randint(0, 3, [32]).to(device);
      for (let i = 0; i < 5; i++) {
        kiln.scope(() => {
          opt.zeroGrad();
          kiln.F.crossEntropy(net.forward(x), y).backward();
          if (wrap && !net.overlapsBackward) net.syncGradients();
          opt.step();
        });
      }
      return model.parameters().flatMap(values);
    };
    const a = train(false);
    const b = train(true);
    const worst = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
    check('DistributedDataParallel on the device equals the plain model (5 Adam steps)', worst <= 1e-6, `max |diff| ${worst}`);
  }
  dist.destroyProcessGroup();
} catch (e) {
  check('no error', false, `${e.name}: ${e.message}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(`${failed === 0 ? 'passed' : `${failed} FAILED`}: ${results.length} checks`);
if (outDir) writeFileSync(join(outDir, 'check-nccl.json'), JSON.stringify({ backend, device, status, results }, null, 2));
process.exit(failed === 0 ? 0 : 1);
