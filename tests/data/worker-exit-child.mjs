// Run by workers.test.ts: leaves a worker loop early in two ways and keeps persistent workers
// unclosed, then does nothing; the process must exit by itself (no worker thread may keep it
// alive).
import { ArrayDataset, DataLoader } from '../../src/data/index.ts';

const ds = new ArrayDataset([{ data: new Float32Array(1000), shape: [1000] }]);
for await (const b of new DataLoader(ds, { batchSize: 10, numWorkers: 2 })) {
  b[0].dispose();
  break;
}
console.log('broke after 1 batch');
const it = new DataLoader(ds, { batchSize: 10, numWorkers: 2, prefetchFactor: 4 })[Symbol.asyncIterator]();
const first = await it.next();
first.value[0].dispose();
console.log('dropped after 1 batch');
const kept = new DataLoader(ds, { batchSize: 100, numWorkers: 2, persistentWorkers: true });
for await (const b of kept) b[0].dispose();
console.log('kept workers after 1 epoch');
