// CPU gemm on the kernel table this processor gets by default (AVX-512 here), against a float64
// reference; the cases live in gemm-cases.ts.
import { createRequire } from 'node:module';

import { gemmSuite } from './gemm-cases';

delete process.env.KILN_CPU;
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});

gemmSuite(native, native.cpuInfo().detectedIsa);
