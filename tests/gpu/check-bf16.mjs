#!/usr/bin/env node
// bfloat16 tensors are CPU-only for now: on the GPU machine every way of putting one on CUDA
// must be a KilnError saying so (never a CUDA kernel reading 2-byte storage as float32), and the
// float32 autocast path (float32 tensors, bf16-rounded operands) keeps matching the CPU.
//
//   node tests/gpu/check-bf16.mjs [outDir]      (JSON: check-bf16.json)
// Exit status: 0 all passed, 1 a check failed, 2 CUDA not available.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const outDir = process.argv[2] ?? process.env.OUT;
if (!kiln.cuda.isAvailable()) {
  console.log(`CUDA not available: ${kiln.backendInfo().cuda.reason}`);
  process.exit(2);
}
const results = [];
function check(name, ok, detail = '') {
  results.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
}
function refuses(name, f) {
  try {
    f();
    check(name, false, 'no error');
  } catch (e) {
    check(name, e instanceof kiln.KilnError && /bfloat16 tensors are CPU-only/.test(e.message), e.message);
  }
}
const b = kiln.tensor([1, 2, 3], { dtype: 'bfloat16' });
refuses('zeros bfloat16 on cuda', () => kiln.zeros([4], { dtype: 'bfloat16', device: 'cuda' }));
refuses('bfloat16 tensor .to(cuda)', () => b.to('cuda'));
refuses('float32 cuda tensor .to(bfloat16)', () => kiln.ones([2], { device: 'cuda' }).to('bfloat16'));
refuses("bfloat16 module .to('cuda')", () => new kiln.nn.Linear(3, 2).to('bfloat16').to('cuda'));
// autocast on CUDA: float32 tensors, bf16-rounded operands, against the CPU
kiln.manualSeed(1);
const x = kiln.randn([16, 32]), w = kiln.randn([8, 32]);
const cpu = kiln.autocast({ dtype: 'bfloat16' }, () => kiln.F.linear(x, w)).toTypedArray();
const gpu = kiln.autocast({ dtype: 'bfloat16' }, () => kiln.F.linear(x.cuda(), w.cuda())).cpu().toTypedArray();
let err = 0;
for (let i = 0; i < cpu.length; i++) err = Math.max(err, Math.abs(cpu[i] - gpu[i]) / Math.max(1, Math.abs(cpu[i])));
check('autocast linear on cuda matches the CPU', err <= 1e-4, `max rel err ${err.toExponential(2)}`);
const failed = results.filter((r) => !r.ok).length;
if (outDir) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'check-bf16.json'), JSON.stringify({ results, failed }, null, 2));
}
console.log(`${results.length - failed}/${results.length} passed`);
process.exit(failed ? 1 : 0);
