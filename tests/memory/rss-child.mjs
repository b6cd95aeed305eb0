// Run by backstop.test.ts as:
//   node --expose-gc --max-semi-space-size=1 --import tests/io/ts-loader.mjs tests/memory/rss-child.mjs
// 10,000 MLP training steps, each in a kiln.scope; reports RSS and the JS heap after 1,000 warm-up
// steps and at the end, each after a forced GC (so uncollected garbage does not count). The small
// fixed semi-space keeps V8 from growing its young generation midway, which alone adds ~16 MB.
import * as kiln from '../../src/index.js';

kiln.manualSeed(3);
const params = kiln.scope(() => [kiln.randn([8, 32]).mul(0.2), kiln.zeros([32]), kiln.randn([32, 1]).mul(0.2), kiln.zeros([1])]);
for (const p of params) p.requiresGrad = true;
const [w1, b1, w2, b2] = params;
const x = kiln.randn([64, 8]);
const y = kiln.scope(() => x.sum(1, true).tanh());

const rss = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
};

let warm = null;
let warmMem = null;
for (let i = 1; i <= 10_000; i++) {
  kiln.scope(() => {
    const loss = x.matmul(w1).add(b1).relu().matmul(w2).add(b2).sub(y).square().mean();
    loss.backward();
    kiln.noGrad(() => {
      for (const p of params) {
        p.sub_(p.grad, 0.01);
        p.grad.zero_();
      }
    });
  });
  if (i === 1_000) {
    warm = await rss();
    warmMem = kiln.memory();
  }
}
const end = await rss();
const endMem = kiln.memory();
process.stdout.write(JSON.stringify({ warm, end, warmMem, endMem }));
