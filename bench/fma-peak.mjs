// The machine's FMA ceiling (bench/fma-peak.cc, a register-only loop), compiled with the
// system's C++ compiler into bench/out/ and run; the bar for Kiln's GEMM on this machine.
//
//   node bench/fma-peak.mjs [seconds per measure]     prints {avx2: {1: GFLOP/s, N: ...}, avx512: ...}
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** {ok: true, peak: {isa: {threads: GFLOP/s}}} or {ok: false, why}. */
export function fmaPeak(seconds = 0.5) {
  const exe = join(here, 'out', 'fma-peak');
  mkdirSync(dirname(exe), { recursive: true });
  const cc = spawnSync(process.env.CXX ?? 'g++', ['-O2', '-pthread', join(here, 'fma-peak.cc'), '-o', exe], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0) {
    return { ok: false, why: `could not compile bench/fma-peak.cc: ${cc.error?.message ?? cc.stderr.trim().split('\n').at(-1)}` };
  }
  const r = spawnSync(exe, [String(seconds)], { encoding: 'utf8', timeout: 120_000 });
  const last = (r.stdout ?? '').trim().split('\n').at(-1);
  if (r.status !== 0 || !last?.startsWith('{')) return { ok: false, why: `fma-peak failed: ${r.error?.message ?? r.stderr}` };
  return { ok: true, peak: JSON.parse(last) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = process.argv[2] ? Number(process.argv[2]) : 0.5;
  if (!(seconds > 0)) throw new Error(`seconds: expected a number > 0, got ${process.argv[2]}`);
  const r = fmaPeak(seconds);
  if (!r.ok) {
    console.error(r.why);
    process.exit(1);
  }
  for (const [isa, byThreads] of Object.entries(r.peak)) {
    for (const [t, g] of Object.entries(byThreads)) console.log(`${isa}, ${t} thread${t === '1' ? '' : 's'}: ${g.toFixed(1)} GFLOP/s`);
  }
  console.log(JSON.stringify(r.peak));
}
