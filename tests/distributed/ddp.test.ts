// DistributedDataParallel on 2 ranks with half batches equals 1 process with the whole batches,
// after 20 SGD (momentum) and 20 Adam steps; bucket layouts and the hook (overlap) path give the
// very same numbers; noSync equals gradient accumulation; unused parameters are handled or
// named; a forgotten syncGradients is refused. The reference runs here, in one process.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import * as kiln from '../../src/index.js';
import { checkBuilt, expectOk, killAll, runJob } from './ranks';
// @ts-expect-error a plain .mjs module shared with the ranks
import { batches, mlp } from './workers/models.mjs';

function reference(optName: string, accumulate: boolean): Record<string, number[]> {
  kiln.manualSeed(0);
  const model = mlp(kiln, [12, 16, 16, 16, 5]);
  const data = batches(kiln, 20, 16);
  const opt = optName === 'adam' ? new kiln.optim.Adam(model.parameters(), { lr: 0.01 })
    : new kiln.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  for (const [x, y] of data) {
    kiln.scope(() => {
      opt.zeroGrad();
      const loss = (lo: number, n: number) => kiln.F.crossEntropy(model.forward(x.narrow(0, lo, n)), y.narrow(0, lo, n));
      if (accumulate) {
        loss(0, 8).backward();
        loss(8, 8).backward();
      } else {
        loss(0, 16).backward();
      }
      opt.step();
    });
  }
  return Object.fromEntries(model.namedParameters().map(([n, p]) => [`module.${n}`, Array.from(p.toTypedArray())]));
}

/** ||a - b|| / ||b|| for every parameter; the worst. */
function worstRelative(got: Record<string, number[]>, want: Record<string, number[]>): number {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  let worst = 0;
  for (const k of Object.keys(want)) {
    let d = 0;
    let n = 0;
    want[k].forEach((w, i) => {
      d += (got[k][i] - w) ** 2;
      n += w * w;
    });
    worst = Math.max(worst, Math.sqrt(d / n));
  }
  return worst;
}

beforeAll(checkBuilt);
afterEach(killAll);

describe('DistributedDataParallel, 2 ranks', () => {
  it('equals one process on the whole batches, whatever the buckets, with and without overlap', async () => {
    const results = await runJob('ddp.mjs', { nproc: 2, timeoutMs: 120_000 });
    expectOk(results);
    const [r0, r1] = results.map((r) => r.result);
    const hasHooks = typeof (kiln.Tensor.prototype as any).registerPostAccumulateGradHook === 'function';
    expect(r0.hasHooks).toBe(hasHooks);
    for (const optName of ['sgd', 'adam']) {
      const ref = reference(optName, false);
      const def = r0[`${optName}.default`];
      expect(def.overlapsBackward, 'overlap where tensors have the hook').toBe(hasHooks);
      expect(def.buckets).toBe(1); // 25 MB holds this model
      expect(worstRelative(def.params, ref), `${optName}: DDP against one process`).toBeLessThan(1e-5);
      // every layout averages the same two numbers per element: identical, on both ranks
      expect(r0[`${optName}.perParam`].buckets).toBe(8);
      expect(r0[`${optName}.small`].buckets).toBeGreaterThan(1);
      expect(r0[`${optName}.hooks`].overlapsBackward).toBe(true);
      for (const cfg of ['default', 'perParam', 'small', 'hooks']) {
        expect(r0[`${optName}.${cfg}`].params, `${optName}.${cfg} rank 0`).toEqual(def.params);
        expect(r1[`${optName}.${cfg}`].params, `${optName}.${cfg} rank 1`).toEqual(def.params);
      }
      const acc = reference(optName, true);
      expect(worstRelative(r0[`${optName}.noSync`].params, acc), `${optName}: noSync against accumulation`).toBeLessThan(1e-5);
      expect(r1[`${optName}.noSync`].params).toEqual(r0[`${optName}.noSync`].params);
      // and a step without noSync would not have been accumulation: the test can tell them apart
      expect(worstRelative(r0[`${optName}.noSync`].params, ref)).toBeGreaterThan(1e-4);
    }
    for (const r of [r0, r1]) {
      for (const u of hasHooks ? [r.unused, r.unusedNative] : [r.unused]) {
        expect(u.headGrad.every((v: number) => v === 0)).toBe(true);
        expect(u.unusedError).toMatch(/KilnError: DistributedDataParallel: the last backward did not produce gradients for every parameter \(e\.g\. unusedHead\.bias, unusedHead\.weight\): pass \{ findUnusedParameters: true \}/);
        expect(u.fallbackError).toMatch(/KilnError: .*call ddp\.syncGradients\(\) after backward\(\)/);
      }
      expect(r.leaked).toBe(0);
    }
    // the communication thread's clock: after backward, none of the all-reduce time is hidden;
    // with the hooks, some of it runs while backward is still going
    const { auto, afterBackward } = r0.overlap;
    expect(auto.buckets).toBeGreaterThan(4);
    expect(afterBackward.comm).toBeGreaterThan(0);
    expect(afterBackward.hidden).toBe(0);
    if (hasHooks) expect(auto.hidden).toBeGreaterThan(0);
    expect(auto.hidden).toBeLessThanOrEqual(auto.comm);
  });
});
