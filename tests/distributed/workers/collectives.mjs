// One rank of the collectives test: runs every collective on inputs from data.mjs and prints
// what it got (`RESULT <json>`); the test computes the expected values from their definitions.
//   node collectives.mjs <backend>      (RANK, WORLD_SIZE, MASTER_* in the environment, or mpirun)
import * as kiln from '../../../dist/index.js';
import { ints, report, summary, values } from './data.mjs';

const dist = kiln.distributed;
const backend = process.argv[2] ?? 'gloo';
await dist.initProcessGroup({ backend, timeoutMs: 20000 });
const rank = dist.getRank();
const size = dist.getWorldSize();
const baseline = kiln.memory().allocations;
const out = { rank, size };
const arr = (t) => Array.from(t.toTypedArray());

for (const op of ['sum', 'avg', 'max', 'min']) {
  const t = kiln.tensor(values(rank, 1001, 1));
  await dist.allReduce(t, { op });
  out[`allReduce.${op}`] = arr(t);
  t.dispose();
}
for (const op of ['sum', 'max', 'min']) {
  const t = kiln.tensor(ints(rank, 257, 2), { dtype: 'int32' });
  await dist.allReduce(t, { op });
  out[`allReduce.int32.${op}`] = arr(t);
  t.dispose();
}
{ // long enough for Gloo's segmented ring (segments of 1 MiB)
  const t = kiln.tensor(values(rank, 1_500_001, 3));
  await dist.allReduce(t);
  out['allReduce.long'] = summary(t.toTypedArray());
  t.dispose();
}
{ // several in flight at once: they run in call order
  const ts = [0, 1, 2, 3].map((k) => kiln.tensor(values(rank, 500, 10 + k)));
  await Promise.all(ts.map((t) => dist.allReduce(t)));
  out['allReduce.queued'] = ts.map(arr);
  ts.forEach((t) => t.dispose());
}
{
  const t = kiln.tensor(values(rank, 300, 4), { shape: [3, 100] });
  await dist.broadcast(t, size - 1);
  out.broadcast = arr(t);
  t.dispose();
}
{
  const input = kiln.tensor(values(rank, 64, 5), { shape: [8, 8] });
  const list = Array.from({ length: size }, () => kiln.zeros([8, 8]));
  await dist.allGather(list, input);
  out.allGather = list.map(arr);
  const flat = kiln.zeros([size * 64]);
  await dist.allGatherIntoTensor(flat, input);
  out.allGatherIntoTensor = arr(flat);
  [input, flat, ...list].forEach((t) => t.dispose());
}
for (const op of ['sum', 'avg', 'max']) {
  const input = kiln.tensor(values(rank, size * 37, 6));
  const output = kiln.zeros([37]);
  await dist.reduceScatterTensor(output, input, { op });
  out[`reduceScatterTensor.${op}`] = arr(output);
  const list = Array.from({ length: size }, (_, i) => input.narrow(0, i * 37, 37).contiguous());
  const o2 = kiln.zeros([37]);
  await dist.reduceScatter(o2, list, { op });
  out[`reduceScatter.${op}`] = arr(o2);
  [input, output, o2, ...list].forEach((t) => t.dispose());
}
{ // a ring: every rank receives before it sends (blocking transfers would deadlock)
  const next = (rank + 1) % size;
  const prev = (rank + size - 1) % size;
  const got = kiln.zeros([50]);
  const mine = kiln.tensor(values(rank, 50, 7));
  const r = dist.recv(got, prev, { tag: 3 });
  await dist.send(mine, next, { tag: 3 });
  await r;
  out.ring = arr(got);
  // tags pick the message: two sends to the same rank, received in the opposite order
  const a = kiln.zeros([5]);
  const b = kiln.zeros([5]);
  const ra = dist.recv(a, prev, { tag: 11 });
  const rb = dist.recv(b, prev, { tag: 12 });
  const s12 = kiln.full([5], rank * 10 + 2);
  const s11 = kiln.full([5], rank * 10 + 1);
  await Promise.all([dist.send(s12, next, { tag: 12 }), dist.send(s11, next, { tag: 11 })]);
  await Promise.all([ra, rb]);
  out.tags = [arr(a), arr(b)];
  [got, mine, a, b, s11, s12].forEach((t) => t.dispose());
}
{ // a barrier holds every rank until the last arrives
  if (rank === 0) await new Promise((r) => setTimeout(r, 400));
  const t0 = performance.now();
  await dist.barrier();
  out.barrierMs = performance.now() - t0;
}
if (size >= 3) { // a sub-group of the first and last ranks; the others are not members
  const g = await dist.newGroup([0, size - 1]);
  out.subRank = dist.getRank(g);
  if (g.isMember) {
    const t = kiln.tensor(values(rank, 40, 8));
    await dist.allReduce(t, { group: g });
    out.subgroup = arr(t);
    t.dispose();
  }
  await dist.barrier();
}
{ // a tensor disposed while its collective runs: its memory stays until the collective is done
  const t = kiln.tensor(values(rank, 100_000, 9));
  const p = dist.allReduce(t);
  t.dispose();
  await p;
}
out.leaked = kiln.memory().allocations - baseline;
dist.destroyProcessGroup();
await report(rank, out);
