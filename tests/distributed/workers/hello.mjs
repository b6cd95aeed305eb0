// The README's two-process example, as a test rank: joins the job (whatever started it: kiln
// launch, mpirun, or the test helper), all-reduces its rank + 1 and reports the sum.
import * as kiln from '../../../dist/index.js';
import { report } from './data.mjs';

const dist = kiln.distributed;
await dist.initProcessGroup({ backend: process.argv[2] ?? 'gloo', timeoutMs: 20000 });
const rank = dist.getRank();
const t = kiln.full([3], rank + 1);
await dist.allReduce(t);
console.log(`rank ${rank} of ${dist.getWorldSize()}: sum ${t.toArray()}`);
await report(rank, { rank, size: dist.getWorldSize(), sum: Array.from(t.toTypedArray()), threads: kiln.backendInfo().cpu.threads });
dist.destroyProcessGroup();
