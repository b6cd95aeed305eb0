// A rank of the fit-under-DDP tests: 4 epochs of Adam on 64 rows (8 per rank per batch),
// checkpoints every epoch in <dir> (rank 0 only), a report; prints the history and the final
// parameters.
//   node fit.mjs <dir> [crash|resume <checkpoint>]
//   crash: rank 1 dies in the middle of epoch 3; resume: continues from the checkpoint
import * as kiln from '../../../dist/index.js';
import { report } from './data.mjs';
import { mlp } from './models.mjs';

const [dir, mode, from] = process.argv.slice(2);
const dist = kiln.distributed;
await dist.initProcessGroup({ timeoutMs: 30000 });
const rank = dist.getRank();
kiln.manualSeed(0);
const model = mlp(kiln);
const x = kiln.randn([64, 12]);
const y = kiln.randint(0, 5, [64]);
const ddp = new kiln.nn.parallel.DistributedDataParallel(model);
const optimizer = new kiln.optim.Adam(ddp.parameters(), { lr: 0.01 });
const crash = {
  onBatchEnd: ({ epoch, batch }) => {
    if (mode === 'crash' && rank === 1 && epoch === 3 && batch === 1) process.exit(3);
  },
};
const history = await kiln.fit(ddp, {
  trainData: new kiln.data.TensorDataset(x, y), batchSize: 8, epochs: 4, optimizer, callbacks: crash,
  checkpoint: { dir, every: 1 }, report: `${dir}/report.html`, resumeFrom: mode === 'resume' ? from : undefined,
});
await report(rank, {
  rank,
  epochs: history.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, accuracy: e.accuracy })),
  params: Object.fromEntries(ddp.namedParameters().map(([n, p]) => [n, Array.from(p.toTypedArray())])),
});
dist.destroyProcessGroup();
