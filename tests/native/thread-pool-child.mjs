// Child of thread-pool.test.ts: many threaded jobs back to back with more pool threads than
// cores (KILN_NUM_THREADS set by the parent), so workers are often descheduled when a job
// starts and the caller claims their tids. Prints the count of wrong results as JSON.
//   KILN_NUM_THREADS=7 node --import ./tests/io/ts-loader.mjs tests/native/thread-pool-child.mjs ROUNDS
const kiln = await import('../../src/index.js');
const rounds = Number(process.argv[2]);
const n = 100_003; // odd: the chunks differ in length
const host = new Float32Array(n);
for (let i = 0; i < n; i++) host[i] = ((i * 7919) % 1000) / 1000 - 0.5;
let sum64 = 0;
for (const v of host) sum64 += v;
let wrongMap = 0, wrongSum = 0;
const x = kiln.tensor(host, { shape: [n] });
for (let r = 0; r < rounds; r++) {
  kiln.scope(() => {
    const y = x.mul(2).add(r).toTypedArray(); // elementwise: every chunk must be written
    for (let i = 0; i < n; i += 1) if (y[i] !== Math.fround(Math.fround(host[i] * 2) + r)) { wrongMap++; break; }
    const s = x.sum().item(); // reduction: every chunk's partial must be counted once
    if (Math.abs(s - sum64) > 1e-2) wrongSum++;
  });
}
process.stdout.write(JSON.stringify({ threads: kiln.backendInfo().cpu.threads, rounds, wrongMap, wrongSum, tensors: kiln.memory().tensors }) + '\n');
