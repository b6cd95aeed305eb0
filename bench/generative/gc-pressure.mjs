// A check of the GC pressure native memory creates (not a CI test: it allocates 2.5 GB):
// 40 tensors of 64 MB are made and dropped without dispose, the event loop turning between them
// and no GC forced; prints the most native memory live at once. Kiln reports the high-water mark
// of live bytes to V8 (native/binding/memory.cc): measured 832-1024 MB here, the same as when
// every allocation and release was reported.
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
