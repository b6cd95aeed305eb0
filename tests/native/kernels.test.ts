// CPU kernels under the instruction set the processor picks (AVX-512 on this machine kind).
import { createRequire } from 'node:module';

import { kernelSuite } from './kernel-suite';

delete process.env.KILN_CPU;
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});

kernelSuite(native, null);
