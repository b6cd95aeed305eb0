// Per-op overhead micro benchmark: 32x32 add/relu + dispose, and a W4-like MLP step built from
// F.linear (no nn needed). node bench/micro.mjs
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const { F, optim } = kiln;

function perCall(fn, n = 200000) {
  for (let i = 0; i < n / 10; i++) fn();
  const best = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    best.push(Number(process.hrtime.bigint() - t0) / n / 1e3);
  }
  return Math.min(...best);
}
const a = kiln.randn([32, 32]), b = kiln.randn([32, 32]), bias = kiln.randn([32]);
console.log('add+dispose   us', perCall(() => a.add(b).dispose()).toFixed(3));
console.log('add bias+disp us', perCall(() => a.add(bias).dispose()).toFixed(3));
console.log('relu+dispose  us', perCall(() => a.relu().dispose()).toFixed(3));
console.log('matmul+disp   us', perCall(() => a.matmul(b).dispose(), 50000).toFixed(3));
console.log('scope(add)    us', perCall(() => kiln.scope(() => { a.add(b); }), 100000).toFixed(3));

const p = (s) => kiln.randn(s, { requiresGrad: true });
const W1 = p([32, 4]), b1 = p([32]), W2 = p([32, 32]), b2 = p([32]), W3 = p([2, 32]), b3 = p([2]);
const x = kiln.randn([32, 4]), y = kiln.randint(0, 2, [32]);
const opt = new optim.Adam([W1, b1, W2, b2, W3, b3], { lr: 1e-3 });
const nnops = await import(pathToFileURL(join(root, 'dist/ops/nn.js')).href);
const ce = F.crossEntropy ?? ((l, t) => nnops.crossEntropyRows(l, t).mean());
const step = () => kiln.scope(() => {
  const h = F.relu(F.linear(F.relu(F.linear(x, W1, b1)), W2, b2));
  const loss = ce(F.linear(h, W3, b3), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
});
console.log('W4-like step  us', perCall(step, 5000).toFixed(1));
console.log('memory', JSON.stringify(kiln.memory()));
