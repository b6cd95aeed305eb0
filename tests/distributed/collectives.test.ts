// Every collective against its definition, on 2 and 3 real ranks (processes on 127.0.0.1, one
// CPU thread each), on Gloo and, where mpirun exists, on MPI. The ranks run
// workers/collectives.mjs on inputs from workers/data.mjs; the expected values are computed here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { checkBuilt, expectOk, killAll, runCommand, runJob, workers } from './ranks';
// @ts-expect-error a plain .mjs module shared with the ranks
import { ints, summary, values } from './workers/data.mjs';

type Op = 'sum' | 'avg' | 'max' | 'min';

function reduce(arrays: ArrayLike<number>[], op: Op, f32 = true): number[] {
  const n = arrays[0].length;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let acc = arrays[0][i];
    for (let r = 1; r < arrays.length; r++) {
      const x = arrays[r][i];
      acc = op === 'max' ? Math.max(acc, x) : op === 'min' ? Math.min(acc, x) : acc + x;
    }
    if (op === 'avg') acc = Math.fround(acc / arrays.length);
    out.push(f32 ? Math.fround(acc) : acc);
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Checks one rank's report against the definitions. */
function checkRank(res: any, rank: number, size: number): void {
  const all = (n: number, seed: number) => range(size).map((r) => values(r, n, seed));
  expect(res.rank).toBe(rank);
  expect(res.size).toBe(size);
  for (const op of ['sum', 'avg', 'max', 'min'] as Op[]) expect(res[`allReduce.${op}`], op).toEqual(reduce(all(1001, 1), op));
  for (const op of ['sum', 'max', 'min'] as Op[]) {
    expect(res[`allReduce.int32.${op}`], `int32 ${op}`).toEqual(reduce(range(size).map((r) => ints(r, 257, 2)), op, false));
  }
  expect(res['allReduce.long']).toEqual(summary(Float32Array.from(reduce(all(1_500_001, 3), 'sum'))));
  expect(res['allReduce.queued']).toEqual([0, 1, 2, 3].map((k) => reduce(all(500, 10 + k), 'sum')));
  expect(res.broadcast).toEqual(Array.from(values(size - 1, 300, 4)));
  expect(res.allGather).toEqual(range(size).map((r) => Array.from(values(r, 64, 5))));
  expect(res.allGatherIntoTensor).toEqual(range(size).flatMap((r) => Array.from(values(r, 64, 5))));
  for (const op of ['sum', 'avg', 'max'] as Op[]) {
    const chunks = all(size * 37, 6).map((a: Float32Array) => a.subarray(rank * 37, rank * 37 + 37));
    expect(res[`reduceScatterTensor.${op}`], op).toEqual(reduce(chunks, op));
    expect(res[`reduceScatter.${op}`], op).toEqual(reduce(chunks, op));
  }
  const prev = (rank + size - 1) % size;
  expect(res.ring).toEqual(Array.from(values(prev, 50, 7)));
  expect(res.tags).toEqual([Array(5).fill(prev * 10 + 1), Array(5).fill(prev * 10 + 2)]);
  if (rank !== 0) expect(res.barrierMs).toBeGreaterThan(250); // rank 0 arrived 400 ms late
  if (size >= 3) {
    const members = [0, size - 1];
    expect(res.subRank).toBe(members.indexOf(rank));
    if (members.includes(rank)) expect(res.subgroup).toEqual(reduce(members.map((r) => values(r, 40, 8)), 'sum'));
  }
  expect(res.leaked).toBe(0);
}

const hasMpirun = (() => {
  try {
    execFileSync('mpirun', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

beforeAll(checkBuilt);
afterEach(killAll);

describe('collectives on Gloo', () => {
  for (const size of [2, 3]) {
    it(`${size} ranks: every collective equals its definition`, async () => {
      const results = await runJob('collectives.mjs', { nproc: size, args: ['gloo'] });
      expectOk(results);
      results.forEach((r, rank) => checkRank(r.result, rank, size));
    });
  }
});

// OpenMPI refuses root unless told; --oversubscribe: 3 ranks on a 2-core machine.
const MPI_ENV = { OMPI_ALLOW_RUN_AS_ROOT: '1', OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: '1', OMPI_MCA_rmaps_base_oversubscribe: '1', KILN_NUM_THREADS: '1' };

describe.runIf(hasMpirun)('collectives on MPI (mpirun)', () => {
  for (const size of [2, 3]) {
    it(`${size} ranks: every collective equals its definition`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'kiln-mpi-'));
      try {
        const r = await runCommand('mpirun', ['-np', String(size), '-x', 'RESULT_DIR', process.execPath, join(workers, 'collectives.mjs'), 'mpi'],
          { env: { ...MPI_ENV, RESULT_DIR: dir }, timeoutMs: 90_000 });
        if (r.code !== 0) throw new Error(`mpirun exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
        for (const rank of range(size)) checkRank(JSON.parse(readFileSync(join(dir, `rank-${rank}.json`), 'utf8')), rank, size);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
