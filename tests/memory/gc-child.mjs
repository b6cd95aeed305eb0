// Run by backstop.test.ts as: node --expose-gc --import tests/io/ts-loader.mjs tests/memory/gc-child.mjs
// Creates tensors it never disposes, drops them, forces GC, and reports what kiln.memory() saw.
import * as kiln from '../../src/index.js';

const settle = () => new Promise((r) => setImmediate(r));
const before = kiln.memory();
(() => {
  for (let i = 0; i < 200; i++) kiln.ones([1024]).mul(2); // 4 KiB each, never disposed
  // kept out of their scope (a .grad is kept the same way), then dropped: the backstop, which
  // registers in batches, must still catch them (300 crosses a batch boundary)
  for (let i = 0; i < 300; i++) kiln.scope(() => kiln.keep(kiln.ones([256])));
})();
const during = kiln.memory();
for (let i = 0; i < 10 && kiln.memory().tensors > before.tensors; i++) {
  globalThis.gc();
  await settle();
}
const after = kiln.memory();
process.stdout.write(JSON.stringify({ before, during, after }));
