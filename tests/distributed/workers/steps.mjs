// A rank that trains-like forever: each step all-reduces a gradient-sized tensor and prints
// `STEP n`. For the fault tests, which kill or stop one rank: the others must fail with a
// KilnError (printed as `ERROR <name>: <message>`, exit 1) within the timeout.
//   node steps.mjs <timeoutMs> [recv]   (recv: rank 0 waits in a recv that never comes instead)
import * as kiln from '../../../dist/index.js';

const dist = kiln.distributed;
const timeoutMs = Number(process.argv[2] ?? 5000);
try {
  await dist.initProcessGroup({ timeoutMs });
  const rank = dist.getRank();
  const g = kiln.ones([100_000]);
  if (process.argv[3] === 'recv') {
    console.log('WAITING');
    if (rank === 0) await dist.recv(g, 1, { tag: 1 });
    else await new Promise(() => setInterval(() => {}, 1000));
  }
  for (let step = 0; ; step++) {
    await dist.allReduce(g, { op: 'avg' });
    console.log(`STEP ${step}`);
    await new Promise((r) => setTimeout(r, 20));
  }
} catch (e) {
  console.log(`ERROR ${e.name}: ${e.message}`);
  process.exit(1);
}
