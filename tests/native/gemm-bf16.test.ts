// gemmBf16 on the best path (environment set before the addon loads); cases in gemm-bf16-cases.ts.
import { createRequire } from 'node:module';
import { describe, it } from 'vitest';
import { bf16Suite } from './gemm-bf16-cases';


const native = createRequire(import.meta.url)('../../build/Release/kiln.node');
native.setErrorClass(class KilnError extends Error {});
const info = native.cpuInfo();

if (info.isa !== 'avx512' || info.bf16 !== 'avx512_bf16') {
  describe.skip('gemmBf16 (best)', () => it(`needs the avx512 table with bf16 avx512_bf16 (this machine: ${info.isa}, ${info.bf16})`, () => {}));
} else {
  bf16Suite(native, 'avx512', 'avx512_bf16');
}
