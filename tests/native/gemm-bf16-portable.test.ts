// gemmBf16 on the portable path (environment set before the addon loads); cases in gemm-bf16-cases.ts.
import { createRequire } from 'node:module';
import { describe, it } from 'vitest';
import { bf16Suite } from './gemm-bf16-cases';

process.env.KILN_CPU = 'portable';
const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});
const info = native.cpuInfo();

if (info.isa !== 'portable' || info.bf16 !== 'emulated') {
  describe.skip('gemmBf16 (portable)', () => it(`needs the portable table with bf16 emulated (this machine: ${info.isa}, ${info.bf16})`, () => {}));
} else {
  bf16Suite(native, 'portable', 'emulated');
}
