// CPU kernels forced onto the AVX2+FMA table (skipped where the processor lacks AVX2).
import { createRequire } from 'node:module';

import { describe, it } from 'vitest';

import { kernelSuite } from './kernel-suite';

process.env.KILN_CPU = 'avx2';
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});

if (native.cpuInfo().detectedIsa === 'portable') {
  describe.skip('cpu kernels (avx2)', () => it('needs AVX2', () => {}));
} else {
  kernelSuite(native, 'avx2');
}
