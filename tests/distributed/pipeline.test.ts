// Pipeline parallelism: GPipe and 1F1B on 2 stages (2 ranks) equal the unsplit model's losses
// and gradients over two SGD steps; so does a 2 x 2 hybrid (2 data replicas of a 2-stage
// pipeline, 4 ranks). The reference is the whole model in this process, on the whole batch.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import * as kiln from '../../src/index.js';
import { checkBuilt, expectOk, killAll, runJob } from './ranks';
// @ts-expect-error a plain .mjs module shared with the ranks
import { batches, mlp } from './workers/models.mjs';

/** The unsplit model: per step, the losses of the given row ranges and every parameter's gradient. */
function reference(microbatches: number) {
  kiln.manualSeed(0);
  const model = mlp(kiln);
  const data = batches(kiln, 2, 16);
  const opt = new kiln.optim.SGD(model.parameters(), { lr: 0.1 });
  const steps = [];
  for (const [x, y] of data) {
    opt.zeroGrad();
    const loss = kiln.F.crossEntropy(model.forward(x), y);
    loss.backward();
    const mb = 16 / microbatches;
    const losses = Array.from({ length: microbatches }, (_, m) =>
      kiln.F.crossEntropy(model.forward(x.narrow(0, m * mb, mb)), y.narrow(0, m * mb, mb)).item());
    const halves = [0, 1].map((r) => Array.from({ length: microbatches }, (_, m) => {
      const rows = 8 / microbatches;
      return kiln.F.crossEntropy(model.forward(x.narrow(0, r * 8 + m * rows, rows)), y.narrow(0, r * 8 + m * rows, rows)).item();
    }));
    steps.push({ losses, halves, grads: Object.fromEntries(model.namedParameters().map(([n, p]) => [n, Array.from(p.grad!.toTypedArray())])) });
    opt.step();
  }
  return steps;
}

function expectClose(got: number[], want: number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / Math.max(1e-3, Math.abs(want[i])));
  expect(worst, `${what}: worst relative error`).toBeLessThan(1e-5);
}

const STAGE_PARAMS = [['0.weight', '0.bias'], ['2.weight', '2.bias', '4.weight', '4.bias']];

beforeAll(checkBuilt);
afterEach(killAll);

describe('pipeline parallel', () => {
  for (const schedule of ['gpipe', '1f1b']) {
    it(`${schedule} on 2 stages equals the unsplit model (losses and gradients, 2 SGD steps)`, async () => {
      const results = await runJob('pipeline.mjs', { nproc: 2, args: [schedule, 'pipe'] });
      expectOk(results);
      const ref = reference(4);
      results.forEach(({ result }, rank) => {
        expect(result.stageIndex).toBe(rank);
        expect(result.leaked).toBe(0);
        result.steps.forEach((s: any, k: number) => {
          expect(Object.keys(s.grads).sort()).toEqual([...STAGE_PARAMS[rank]].sort());
          for (const name of STAGE_PARAMS[rank]) expectClose(s.grads[name], ref[k].grads[name], `step ${k} ${name}`);
          if (rank === 1) {
            expectClose(s.losses, ref[k].losses, `step ${k} losses`);
            expect(s.outputShape).toEqual([16, 5]);
          } else {
            expect(s.losses).toEqual([]);
          }
        });
      });
    });
  }

  it('2 x 2 hybrid (2 replicas x 2 stages, 1F1B) equals the unsplit model', async () => {
    const results = await runJob('pipeline.mjs', { nproc: 4, args: ['1f1b', 'hybrid'], timeoutMs: 90_000 });
    expectOk(results);
    const ref = reference(4);
    results.forEach(({ result }, rank) => {
      expect(result.stageIndex).toBe(rank % 2);
      expect(result.replica).toBe(Math.floor(rank / 2));
      result.steps.forEach((s: any, k: number) => {
        for (const name of STAGE_PARAMS[rank % 2]) expectClose(s.grads[name], ref[k].grads[name], `rank ${rank} step ${k} ${name}`);
        if (rank % 2 === 1) expectClose(s.losses, ref[k].halves[result.replica], `rank ${rank} step ${k} losses`);
      });
      expect(result.leaked).toBe(0);
    });
  });
});
