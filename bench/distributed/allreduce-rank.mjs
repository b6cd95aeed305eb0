// One rank of the all-reduce benchmark (Kiln, Gloo): for each size, the median time of an
// in-place sum all-reduce of a float32 tensor; rank 0 prints one JSON line. Started by run.mjs
// through `kiln launch` (torchrun's environment).
//   node allreduce-rank.mjs <MB,MB,...> <minSeconds>
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const dist = kiln.distributed;
const sizes = process.argv[2].split(',').map(Number);
const minSec = Number(process.argv[3] ?? 1);
await dist.initProcessGroup({ timeoutMs: 120_000 });

/** The same number of runs on every rank: the slowest rank's estimate decides. */
async function agreedRuns(estimateMs) {
  const t = kiln.tensor([Math.min(200, Math.max(5, Math.ceil((minSec * 1000) / estimateMs)))]);
  await dist.allReduce(t, { op: 'max' });
  const n = t.item();
  t.dispose();
  return n;
}

const out = [];
for (const mb of sizes) {
  const x = kiln.zeros([Math.round((mb * 1e6) / 4)]);
  let t0 = performance.now();
  for (let i = 0; i < 3; i++) await dist.allReduce(x);
  const runs = await agreedRuns((performance.now() - t0) / 3);
  const times = [];
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    await dist.allReduce(x);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1];
  out.push({ mb, ms, gbps: (x.numel * 4) / (ms * 1e6), runs });
  x.dispose();
}
if (dist.getRank() === 0) console.log('JSON ' + JSON.stringify(out));
dist.destroyProcessGroup();
