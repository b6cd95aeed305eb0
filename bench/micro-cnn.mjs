// W5-like CNN step built from kiln.F (no nn needed): prints ms/step. node bench/micro-cnn.mjs
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const nnops = await import(pathToFileURL(join(root, 'dist/ops/nn.js')).href);
const { F, optim } = kiln;
const p = (s) => kiln.randn(s, { requiresGrad: true });
const c1 = p([32, 1, 3, 3]), c1b = p([32]), c2 = p([64, 32, 3, 3]), c2b = p([64]), fw = p([10, 64 * 49]), fb = p([10]);
const x = kiln.randn([64, 1, 28, 28]), y = kiln.randint(0, 10, [64]);
const opt = new optim.Adam([c1, c1b, c2, c2b, fw, fb], { lr: 1e-3 });
const step = () => kiln.scope(() => {
  let h = F.maxPool2d(F.relu(F.conv2d(x, c1, c1b, { padding: 1 })), 2);
  h = F.maxPool2d(F.relu(F.conv2d(h, c2, c2b, { padding: 1 })), 2);
  const loss = nnops.crossEntropyRows(F.linear(h.flatten(1), fw, fb), y).mean();
  opt.zeroGrad();
  loss.backward();
  opt.step();
});
for (let i = 0; i < 3; i++) step();
const t = [];
for (let i = 0; i < 15; i++) { const t0 = process.hrtime.bigint(); step(); t.push(Number(process.hrtime.bigint() - t0) / 1e6); }
t.sort((a, b) => a - b);
console.log('W5-like step ms', t[7].toFixed(2));
