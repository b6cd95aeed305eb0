// Our hand-written OpenMPI declarations against the real mpi.h (native/dist/mpi_api_check.cc,
// compiled and run here where OpenMPI's headers are installed), and the NCCL check script's
// self-test (Gloo on the CPU), so the GPU-only checks cannot rot between GPU sessions.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { checkBuilt, root } from './ranks';

const mpiFlags = (() => {
  try {
    const flag = (what: string) => execFileSync('mpicc', [`--showme:${what}`], { encoding: 'utf8' }).trim().split(/\s+/);
    return { compile: flag('compile'), link: flag('link') };
  } catch {
    return null;
  }
})();

// An NCCL wheel on disk (this machine kind keeps some in /opt/pypi-more) and CUDA's cuda.h:
// enough to compile nccl_api_check.cc, whose static_asserts are the check. (Running it needs
// libnccl, 300 MB to unpack: tests/gpu/run.sh does that on the GPU machine.)
const WHEELS = '/opt/pypi-more/files';
const ncclWheel = existsSync(WHEELS) ? readdirSync(WHEELS).find((f) => /^nvidia_nccl_cu1\d-.*\.whl$/.test(f)) : undefined;
const cudaInclude = '/usr/local/cuda/include';

describe('declarations checked against the real headers', () => {
  it.runIf(ncclWheel !== undefined && existsSync(join(cudaInclude, 'cuda.h')))('nccl_api.h matches nccl.h and cuda.h', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-nccl-'));
    try {
      execFileSync('unzip', ['-q', '-o', join(WHEELS, ncclWheel!), 'nvidia/nccl/include/*', '-d', dir]);
      const nccl = join(dir, 'nvidia', 'nccl');
      const exe = join(dir, 'nccl_api_check');
      execFileSync('g++', ['-std=c++17', `-I${join(nccl, 'include')}`, `-I${cudaInclude}`, join(root, 'native/dist/nccl_api_check.cc'), '-ldl', '-o', exe],
        { stdio: 'pipe' });
      expect(existsSync(exe)).toBe(true); // a wrong declaration is a static_assert: no executable
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(mpiFlags !== null)('mpi_api.h matches mpi.h, and libmpi exports every name the loader looks up', () => {
    const exe = join(tmpdir(), `kiln-mpi-api-check-${process.pid}`);
    execFileSync('g++', ['-std=c++17', '-fPIC', ...mpiFlags!.compile, join(root, 'native/dist/mpi_api_check.cc'), ...mpiFlags!.link, '-ldl', '-o', exe],
      { stdio: 'pipe' });
    expect(execFileSync(exe, { encoding: 'utf8' })).toMatch(/mpi_api_check: ok/);
  });

  it('the NCCL GPU check script passes its self-test (Gloo, CPU)', () => {
    checkBuilt();
    const out = execFileSync(process.execPath, [join(root, 'tests/gpu/check-nccl.mjs')], {
      encoding: 'utf8', env: { ...process.env, KILN_CHECK_SELFTEST: '1', OUT: '' }, timeout: 60_000,
    });
    expect(out).not.toMatch(/\bFAIL\b/);
    expect(out).toMatch(/passed: 11 checks/);
  });
});
