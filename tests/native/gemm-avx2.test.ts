// CPU gemm forced onto the avx2 kernel table (KILN_CPU is read when the addon loads, so it is
// set before the require below); same cases as gemm.test.ts.
import { createRequire } from 'node:module';

import { describe, it } from 'vitest';

import { gemmSuite } from './gemm-cases';

process.env.KILN_CPU = 'avx2';
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});

if (native.cpuInfo().detectedIsa === 'portable') {
  describe.skip('gemm (avx2)', () => it('needs AVX2', () => {}));
} else {
  gemmSuite(native, 'avx2');
}
