// A check of the GC pressure native memory creates (not a CI test: it allocates 2.5 GB):
// 40 tensors of 64 MB are made and dropped without dispose, the event loop turning between them
// and no GC forced; prints the most native memory live at once. Kiln reports what each backend
// holds from the system to V8 when it changes (native/binding/memory.cc), so V8 collects the
// dropped tensors; without a report the peak would approach the 2560 MB allocated.
//
//   node bench/generative/gc-pressure.mjs
import * as kiln from '../../dist/index.js';

const settle = () => new Promise((r) => setImmediate(r));
const before = kiln.memory().bytes;
let peak = 0;
for (let i = 0; i < 40; i++) {
  kiln.zeros([16 * 2 ** 20]); // 64 MB, dropped at once
  peak = Math.max(peak, kiln.memory().bytes - before);
  await settle();
}
console.log(`peak live native memory ${(peak / 2 ** 20).toFixed(0)} MB of the 2560 MB allocated`);
