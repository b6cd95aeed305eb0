// Chooses the OpenBLAS kernel of the PyTorch peer from the processor, so the peer runs the same
// instruction set as Kiln's path, and checks that OpenBLAS took it.
//
// OpenBLAS (DYNAMIC_ARCH) picks its kernel from CPUID, but an OpenBLAS older than the
// processor may pick a weaker one (0.3.21 runs its AVX2 "Haswell" kernels on AMD family 1Ah,
// which has AVX-512), and Kiln may run a lower path than the processor has (KILN_CPU=avx2).
// So: probe what OpenBLAS picks by itself; if its instruction set differs from Kiln's path,
// ask for OpenBLAS's kernel of that instruction set (OPENBLAS_CORETYPE), probe again in a child
// process (a kernel the processor cannot run dies there, not in the benchmark) and keep it only
// if OpenBLAS reports it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

// OpenBLAS's DYNAMIC_ARCH x86-64 kernel names by the instruction set their SGEMM uses.
const kernelIsa = {
  SapphireRapids: 'avx512', Cooperlake: 'avx512', SkylakeX: 'avx512',
  Haswell: 'avx2', Zen: 'avx2', Excavator: 'avx2',
  Sandybridge: 'avx', Steamroller: 'avx', Piledriver: 'avx', Bulldozer: 'avx',
};
// The kernel to ask for when OpenBLAS's own choice is not Kiln's instruction set: the
// baseline kernel of that instruction set in every OpenBLAS with DYNAMIC_ARCH since 0.2.
const kernelFor = { avx512: 'SkylakeX', avx2: 'Haswell' };

/** Runs bench/peers/blas_info.py with env; {ok, info} or {ok: false, why}. */
export function probe(env) {
  const r = spawnSync(python, [join(here, 'peers/blas_info.py')], { env, encoding: 'utf8', timeout: 120_000 });
  const last = (r.stdout ?? '').trim().split('\n').at(-1);
  if (r.status === 0 && last?.startsWith('{')) return { ok: true, info: JSON.parse(last) };
  return { ok: false, why: failure(r) };
}

/** Why a child failed, in one line: its signal, its last stderr line, or the spawn error. */
export function failure(r) {
  if (r.error) return r.error.code === 'ENOENT' ? `${r.error.path ?? 'python3'} not found` : r.error.message;
  const err = (r.stderr ?? '').trim().split('\n').filter(Boolean).at(-1);
  if (r.signal) return `killed by ${r.signal}${err ? ` (${err})` : ''}`;
  return err ?? `exit status ${r.status}, no output`;
}

/**
 * The environment the PyTorch peer runs with, and a line saying what it runs on.
 * kilnIsa: the instruction set of Kiln's kernel table (backendInfo().cpu.isa); kernel: an
 * OpenBLAS kernel name the user asked for (--peer-kernel), else chosen here. An
 * OPENBLAS_CORETYPE inherited from the environment is not used (a machine-wide setting would
 * decide the peer's speed unseen); the line names it when it is dropped.
 * Returns {env, info, note} or {env: null, note: why the peer cannot run}.
 */
export function choosePeerBlas(kilnIsa, { kernel, baseEnv = process.env } = {}) {
  const env0 = { ...baseEnv };
  delete env0.OPENBLAS_CORETYPE;
  const inherited = baseEnv.OPENBLAS_CORETYPE ? `; OPENBLAS_CORETYPE=${baseEnv.OPENBLAS_CORETYPE} from the environment not used` : '';
  const first = probe(env0);
  if (!first.ok) return { env: null, note: `PyTorch peer not run: ${first.why}` };
  const own = first.info;
  if (own.kind !== 'OpenBLAS') return { env: env0, info: own, note: describe(own, `${own.kind}, not OpenBLAS: no kernel to choose${inherited}`) };
  const ownIsa = kernelIsa[own.corename] ?? 'unknown';
  const want = kernel ?? kernelFor[kilnIsa];
  if (want === undefined || want === own.corename || (kernel === undefined && ownIsa === kilnIsa)) {
    const why = kernel ? `asked for ${kernel}` : `OpenBLAS's own choice (${ownIsa}; Kiln's path ${kilnIsa})`;
    return { env: env0, info: own, note: describe(own, why + inherited) };
  }
  const env = { ...env0, OPENBLAS_CORETYPE: want };
  const second = probe(env);
  if (!second.ok || second.info.corename !== want) {
    const why = second.ok ? `OpenBLAS ran ${second.info.corename} instead` : second.why;
    return { env: env0, info: own, note: describe(own, `OpenBLAS's own choice (${ownIsa}): ${want} failed: ${why}${inherited}`) };
  }
  const why = kernel ? `OPENBLAS_CORETYPE=${want} as asked` : `OPENBLAS_CORETYPE=${want} to match Kiln's ${kilnIsa} path; by itself OpenBLAS chose ${own.corename} (${ownIsa})`;
  return { env, info: second.info, note: describe(second.info, why + inherited) };
}

function describe(info, why) {
  const lib = info.library ? info.library.split('/').at(-1) : 'no BLAS library found';
  const version = info.config?.match(/OpenBLAS [\d.]+/)?.[0] ?? info.kind;
  const kernel = info.corename ? ` kernel ${info.corename}` : '';
  const threads = info.threads ? `, ${info.threads} BLAS threads` : '';
  return `PyTorch ${info.torch} on ${version} (${lib})${kernel} [${why}], ${info.torchThreads} ATen thread${info.torchThreads === 1 ? '' : 's'}${threads}`;
}

// `node bench/peer-blas.mjs --coretype` prints the OPENBLAS_CORETYPE the peer should run with for
// Kiln's path on this processor (an empty line: OpenBLAS's own choice), for the shell scripts.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--coretype')) {
  const kiln = await import('../dist/index.js');
  const { env } = choosePeerBlas(kiln.backendInfo().cpu.isa);
  console.log(env?.OPENBLAS_CORETYPE ?? '');
}
