// One rank of the DDP benchmark (Kiln): W3's MLP (784-2048-2048-10, Adam, 256 rows a step).
//   ddp:    2 ranks x 1 thread under `kiln launch`, 128 rows each, DistributedDataParallel
//           (default buckets: 25 MB, the first 1 MB). Also times the same step under noSync
//           (compute alone) and the step's bucket all-reduces alone (communication alone), so
//           the share of the all-reduce time hidden behind backward is measured on the
//           communication thread (DDP's stats: all-reduce time before backward was done / all
//           of it), and also estimated as 1 - (step - noSync step) / all-reduces alone, the
//           estimate the PyTorch peer gets.
//   single: 1 process, all 256 rows (KILN_NUM_THREADS from the caller: 2).
// Prints one JSON line (rank 0). Median step of an agreed number of runs (at least minSeconds).
//   node ddp-rank.mjs ddp|single <minSeconds> [auto|afterBackward] [deep]
//   deep: an MLP of 8 hidden layers of 1024 instead (784-1024x8-10), where backward has
//         compute left to hide each bucket behind
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { mlp } = await import(pathToFileURL(join(root, 'bench/models.mjs')).href);
const [mode, minSecArg, gradSync, shape] = process.argv.slice(2);
const minSec = Number(minSecArg ?? 1);
const dist = kiln.distributed;
const ddpMode = mode === 'ddp';
if (ddpMode) await dist.initProcessGroup({ timeoutMs: 120_000 });
const size = ddpMode ? dist.getWorldSize() : 1;
kiln.manualSeed(0);
const sizes = shape === 'deep' ? [784, ...Array(8).fill(1024), 10] : [784, 2048, 2048, 10];
const [model, x, y] = mlp(kiln, sizes, 256 / size);
const bucketCapMb = Number(process.env.BUCKET_CAP_MB ?? 25);
const ddp = ddpMode ? new kiln.nn.parallel.DistributedDataParallel(model, { gradSync: gradSync ?? 'auto', bucketCapMb }) : null;
const net = ddp ?? model;
const opt = new kiln.optim.Adam(net.parameters(), { lr: 1e-3 });

function step() {
  kiln.scope(() => {
    opt.zeroGrad();
    kiln.F.crossEntropy(net.forward(x), y).backward();
    if (ddp && !ddp.overlapsBackward) ddp.syncGradients();
    opt.step();
  });
}
const localStep = () => (ddp ? ddp.noSync(step) : step());

async function agreed(n) {
  if (!ddpMode) return n;
  const t = kiln.tensor([n]);
  await dist.allReduce(t, { op: 'max' });
  const v = t.item();
  t.dispose();
  return v;
}

/**
 * Median ms of fn over an agreed number of runs after a warm-up of 5 runs. The counts are the
 * same on every rank (fn runs collectives: a rank doing one more would pair them wrongly).
 */
async function median(fn) {
  let t0 = performance.now();
  const warm = 5;
  for (let i = 0; i < warm; i++) await fn();
  const est = (performance.now() - t0) / warm;
  const runs = await agreed(Math.max(10, Math.ceil((minSec * 1000) / est)));
  const times = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const out = { mode, model: shape === 'deep' ? 'deep' : 'W3', size, threads: kiln.backendInfo().cpu.threads, bucketCapMb };
out.stepMs = await median(step);
out.samplesPerSec = (256 / out.stepMs) * 1000;
if (ddp) {
  out.overlapsBackward = ddp.overlapsBackward;
  out.buckets = ddp.bucketParameters.map((ps) => ps.reduce((n, p) => n + p.numel, 0));
  const waits = [];
  const copies = [];
  let comm = 0;
  let hidden = 0;
  out.stepMs = await median(() => {
    step();
    const s = ddp.stats;
    waits.push(s.waitMs);
    copies.push(s.copyMs);
    comm += s.commMs;
    hidden += s.hiddenMs;
  });
  out.samplesPerSec = (256 / out.stepMs) * 1000;
  const mid = (a) => a.sort((p, q) => p - q)[a.length >> 1];
  out.waitMs = mid(waits);
  out.copyMs = mid(copies);
  // measured on the communication thread: the share of the buckets' all-reduce time that ran
  // before backward was done
  out.hiddenShare = hidden / comm;
  out.commMsPerStep = comm / waits.length;
  out.noSyncMs = await median(localStep);
  const bufs = out.buckets.map((n) => kiln.zeros([n]));
  out.allReduceMs = await median(() => Promise.all(bufs.map((b) => dist.allReduce(b, { op: 'avg' }))));
  bufs.forEach((b) => b.dispose());
  // the same share estimated from step times, as for the PyTorch peer: 1 - exposed / alone
  out.hiddenFromSteps = 1 - Math.max(0, out.stepMs - out.noSyncMs) / out.allReduceMs;
}
if (!ddpMode || dist.getRank() === 0) console.log('JSON ' + JSON.stringify(out));
if (ddpMode) dist.destroyProcessGroup();
