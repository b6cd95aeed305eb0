// Child process for the crash test in safetensors.test.ts: saves a large checkpoint over
// argv[2]. The parent SIGKILLs it while it writes.
//   node --import ./tests/io/ts-loader.mjs tests/io/save-child.mjs TARGET MEGAFLOATS
const [target, mega] = process.argv.slice(2);
const { save } = await import('../../src/io/index.js');
const { tensor } = await import('../../src/creation.js');
const n = Number(mega) * 1024 * 1024;
const obj = {};
for (let k = 0; k < 4; k++) obj[`big${k}`] = tensor(new Float32Array(n).fill(k + 7), { shape: [n] });
process.stdout.write('saving\n');
await save(obj, target);
process.stdout.write('done\n');
