// CPU gemm forced onto the portable kernel table (KILN_CPU is read when the addon loads, so it is
// set before the require below); same cases as gemm.test.ts.
import { createRequire } from 'node:module';

import { gemmSuite } from './gemm-cases';

process.env.KILN_CPU = 'portable';
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});

gemmSuite(native, 'portable');
