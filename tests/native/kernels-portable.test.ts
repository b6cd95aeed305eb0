// CPU kernels forced onto the portable (SSE2) table. KILN_CPU is read once, when the addon
// first chooses its table, so it is set before the addon loads (each test file is its own process).
import { createRequire } from 'node:module';

import { kernelSuite } from './kernel-suite';

process.env.KILN_CPU = 'portable';
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});

kernelSuite(native, 'portable');
