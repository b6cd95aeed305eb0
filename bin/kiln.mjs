#!/usr/bin/env node
// kiln info  — version, CPU kernel path, threads, CUDA status and the reason when it is off
// kiln bench — the benchmark suite (table on screen, JSON to a file); see bench/run.mjs
// kiln launch — start the ranks of a distributed job (torchrun's contract); see src/distributed/launch.ts
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command = 'info', ...args] = process.argv.slice(2);

async function info() {
  const kiln = await import(pathToFileURL(join(root, 'dist/index.js')).href);
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const b = kiln.backendInfo();
  const lines = [
    `kiln ${version} (node ${process.version}, ${process.platform}-${process.arch})`,
    `cpu:  ${b.cpu.isa} kernels (processor supports ${b.cpu.detectedIsa}; ${b.cpu.reason}), ${b.cpu.threads} threads`,
    `cuda: ${b.cuda.available ? `available, ${b.cuda.deviceCount} device(s): ${b.cuda.devices.map((/** @type {{ name: string }} */ d) => d.name).join(', ')}` : `not in use: ${b.cuda.reason}`}`,
  ];
  if (b.cuda.cublas) lines.push(`      cuBLAS: ${b.cuda.cublas}`);
  if (args.includes('--json')) console.log(JSON.stringify({ version, ...b }, null, 2));
  else console.log(lines.join('\n'));
}

async function bench() {
  process.argv = [process.argv[0], join(root, 'bench/run.mjs'), ...args];
  await import(pathToFileURL(join(root, 'bench/run.mjs')).href);
}

async function launch() {
  const { main } = await import(pathToFileURL(join(root, 'dist/distributed/launch.js')).href);
  process.exitCode = await main(args);
}

/** @type {Record<string, () => Promise<void>>} */
const commands = { info, bench, launch };
if (!(command in commands) || (command !== 'launch' && args.includes('--help')) || (command === 'launch' && args[0] === '--help')) {
  console.log('usage: kiln info [--json]\n       kiln bench [--quick] [--json FILE] [--peers]\n' +
    '       kiln launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P] [--threads T] script.mjs [args...]');
  process.exit(command in commands || command === 'help' || command === '--help' ? 0 : 1);
}
await commands[command]();
