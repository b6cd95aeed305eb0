// One child of the long reader fuzz run (scripts/fuzz-readers.mjs):
//   node --import ./tests/io/ts-loader.mjs tests/fuzz/fuzz-child.mjs READER SEED COUNT FROM
// Generates COUNT inputs for READER from SEED (the same inputs every time), prints
// `ready COUNT`, runs inputs FROM..COUNT-1 through the oracle, and prints one line per input:
//   start I BYTES            before the reader runs (so a crash or hang names the input)
//   done I OUTCOME MS MAXRSS_KB
//   bug I MESSAGE            the oracle failed (a non-KilnError, a broken invariant, a leak)
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  csvSource, encodeIdxSource, encodeSt, gzipOf, idxSource, mutate, mutations, safetensorsRawDtypes, safetensorsSource,
} from './formats.ts';
import { checkCsv, checkIdx, checkLoad, checkSafetensors } from './oracles.ts';
import { save } from '../../src/io/safetensors.ts';
import { tensor } from '../../src/creation.ts';

const [reader, seedArg, countArg, fromArg] = process.argv.slice(2);
const seed = Number(seedArg);
const count = Number(countArg);
const from = Number(fromArg ?? 0);
const dir = mkdtempSync(join(tmpdir(), 'kiln-fuzz-child-'));

let base;
if (reader === 'load') {
  const p = join(dir, 'base.safetensors');
  const a = tensor([1, 2, 3]);
  const b = tensor([4], { dtype: 'int32' });
  await save({ model: { w: a, n: [b, 2, 'x', null] }, epoch: 3, lr: NaN }, p);
  a.dispose();
  b.dispose();
  base = new Uint8Array(readFileSync(p));
}

const inputs = {
  safetensors: fc.tuple(fc.oneof(safetensorsSource.map(encodeSt), safetensorsRawDtypes), mutations).map(([f, ms]) => mutate(f, ms)),
  idx: fc.tuple(idxSource, mutations, fc.boolean()).map(([src, ms, under]) =>
    under ? gzipOf(mutate(encodeIdxSource({ ...src, gzip: false }), ms)) : mutate(encodeIdxSource(src), ms)),
  csv: fc.tuple(csvSource, mutations).map(([src, ms]) => mutate(new TextEncoder().encode(src.text), ms)),
  load: mutations.map((ms) => mutate(base ?? new Uint8Array(0), ms)),
}[reader];
if (!inputs) throw new Error(`unknown reader ${reader}`);

const all = fc.sample(inputs, { seed, numRuns: count });
const out = (s) => process.stdout.write(s + '\n');
out(`ready ${all.length}`);
for (let i = from; i < all.length; i++) {
  const bytes = all[i];
  out(`start ${i} ${bytes.length}`);
  const t0 = performance.now();
  let outcome;
  try {
    outcome = reader === 'safetensors' ? checkSafetensors(bytes)
      : reader === 'idx' ? checkIdx(bytes)
      : reader === 'csv' ? checkCsv(bytes)
      : await checkLoad(bytes, join(dir, 'm.safetensors'));
  } catch (e) {
    out(`bug ${i} ${JSON.stringify(String(e?.stack ?? e).slice(0, 500))}`);
    continue;
  }
  out(`done ${i} ${outcome} ${(performance.now() - t0).toFixed(3)} ${process.resourceUsage().maxRSS}`);
}
rmSync(dir, { recursive: true, force: true });
