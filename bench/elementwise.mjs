// Elementwise and reduction bandwidth (GB/s) through the public API, with tinybench 4, beside a
// memory-copy baseline (Float32Array.set) measured in the same run. Bytes = what the op must
// read plus write (e.g. add of n floats: 12n bytes).
//
//   flock /tmp/kiln-build.lock node bench/elementwise.mjs [--n 4194304] [--json FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Bench } from 'tinybench';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const argv = process.argv.slice(2);
const n = argv.includes('--n') ? Number(argv[argv.indexOf('--n') + 1]) : 1 << 22;
const jsonPath = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : join(root, 'bench/out/elementwise.json');

kiln.manualSeed(0);
const a = kiln.randn([n]);
const b = kiln.randn([n]);
const row = kiln.randn([n / 1024 | 0, 1024]);
const bias = kiln.randn([1024]);
const src = new Float32Array(n).fill(1);
const dst = new Float32Array(n);

const cases = [
  { name: 'memcpy (Float32Array.set, baseline)', bytes: 8 * n, fn: () => dst.set(src) },
  { name: 'add a + b', bytes: 12 * n, fn: () => kiln.add(a, b).dispose() },
  { name: 'add row + bias (broadcast)', bytes: 8 * n, fn: () => row.add(bias).dispose() },
  { name: 'mul by scalar', bytes: 8 * n, fn: () => a.mul(1.5).dispose() },
  { name: 'relu', bytes: 8 * n, fn: () => a.relu().dispose() },
  { name: 'exp', bytes: 8 * n, fn: () => a.exp().dispose() },
  { name: 'sigmoid', bytes: 8 * n, fn: () => a.sigmoid().dispose() },
  { name: 'sum (all)', bytes: 4 * n, fn: () => a.sum().dispose() },
  { name: 'sum over rows (dim 0)', bytes: 4 * n, fn: () => row.sum(0).dispose() },
  { name: 'softmax over 1024', bytes: 8 * n, fn: () => row.softmax(1).dispose() },
];

const bench = new Bench({ time: 300, warmupTime: 50 });
for (const c of cases) bench.add(c.name, c.fn);
await bench.run();
const rows = cases.map((c, i) => {
  const median = bench.tasks[i].result.latency.p50; // ms
  return { name: c.name, ms: median, gbps: c.bytes / (median / 1e3) / 1e9 };
});
console.log(`${n} float32 elements, ${kiln.backendInfo().cpu.isa} kernels, ${kiln.backendInfo().cpu.threads} threads`);
console.log('| op | median ms | GB/s |');
console.log('|---|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${r.ms.toFixed(3)} | ${r.gbps.toFixed(1)} |`);
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), n, rows }, null, 2));
