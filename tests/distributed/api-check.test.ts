// Our hand-written OpenMPI declarations against the real mpi.h (native/dist/mpi_api_check.cc,
// compiled and run here where OpenMPI's headers are installed), and the NCCL check script's
// self-test (Gloo on the CPU), so the GPU-only checks cannot rot between GPU sessions.
import { execFileSync } from 'node:child_process';
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

describe('declarations checked against the real headers', () => {
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
