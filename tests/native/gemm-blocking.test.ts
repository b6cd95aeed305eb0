// CPU gemm with tiny cache blocks (KILN_GEMM_BLOCKING, read when the addon loads): every M, N and
// K block boundary and the K-split accumulation (beta applied once) are crossed by the same
// cases as gemm.test.ts. Also: the blocking is reported, and a malformed override is refused.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

import { describe, expect, it } from 'vitest';

import { gemmSuite } from './gemm-cases';

delete process.env.KILN_CPU;
process.env.KILN_GEMM_BLOCKING = '24,10,40';
const addon = '../../build/Release/kiln.node';
const native = createRequire(import.meta.url)(addon);
native.setErrorClass(class KilnError extends Error {});

describe('gemm blocking', () => {
  it('takes KILN_GEMM_BLOCKING, rounded up to whole micro-tiles', () => {
    const g = native.cpuInfo().gemm;
    expect(g.blocking).toBe('KILN_GEMM_BLOCKING');
    expect(g.kc).toBe(24);
    expect(g.mc).toBe(Math.ceil(10 / g.mr) * g.mr);
    expect(g.nc).toBe(Math.ceil(40 / g.nr) * g.nr);
  });

  it('chooses from the cache sizes without it, and refuses a malformed one', () => {
    const path = createRequire(import.meta.url).resolve(addon);
    const info = (env: string | undefined) => {
      const r = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(path)}).cpuInfo()))`],
        { env: { ...process.env, KILN_GEMM_BLOCKING: env }, encoding: 'utf8' });
      return JSON.parse(r.stdout);
    };
    const model = info('');
    expect(model.gemm.blocking).toMatch(/cache sizes/);
    expect(model.caches.l1d).toBeGreaterThan(0);
    // the packed B micro-panel fits in half of L1D (or the 128-deep floor), the A block in L2
    expect(model.gemm.kc * model.gemm.nr * 4).toBeLessThanOrEqual(Math.max(model.caches.l1d / 2, 128 * model.gemm.nr * 4));
    expect(model.gemm.mc * model.gemm.kc * 4).toBeLessThanOrEqual(Math.max(model.caches.l2 / 2, model.gemm.mr * model.gemm.kc * 4));
    expect(model.gemm.mc % model.gemm.mr).toBe(0);
    for (const bad of ['24,10', '0,10,40', 'a,b,c', '24,10,40,5']) {
      const g = info(bad).gemm;
      expect(g.blocking, bad).toMatch(/KILN_GEMM_BLOCKING: expected kc,mc,nc/);
      expect([g.kc, g.mc, g.nc]).toEqual([model.gemm.kc, model.gemm.mc, model.gemm.nc]);
    }
  });
});

gemmSuite(native, native.cpuInfo().detectedIsa);
