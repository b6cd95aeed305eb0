// One rank of the pipeline tests: the MLP of models.mjs cut into 2 stages, two SGD steps of one
// batch of 16 rows in 4 microbatches, reporting each step's losses and this stage's gradients
// under the full model's parameter names.
//   node pipeline.mjs gpipe|1f1b pipe|hybrid
//   pipe: 2 ranks (stages 0, 1); hybrid: 4 ranks, 2 data replicas x 2 stages, each replica
//   pipelining half of the batch, gradients averaged across the replicas of each stage.
import * as kiln from '../../../dist/index.js';
import { report } from './data.mjs';
import { batches, mlp } from './models.mjs';

const [schedName, layout] = process.argv.slice(2);
const dist = kiln.distributed;
const { pipeline } = dist;
await dist.initProcessGroup({ timeoutMs: 30000 });
kiln.manualSeed(0);
const model = mlp(kiln);
const data = batches(kiln, 2, 16);
const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));

let pipeGroup;
let dataGroup = null;
let replica = 0;
if (layout === 'hybrid') {
  const mesh = await dist.initDeviceMesh([2, 2], { dimNames: ['dp', 'pp'] });
  pipeGroup = mesh.getGroup('pp');
  dataGroup = mesh.getGroup('dp');
  replica = mesh.getLocalRank('dp');
} else {
  pipeGroup = dist.getDefaultGroup();
}
const stageIndex = dist.getRank(pipeGroup);
const part = pipeline.splitSequential(model, [2])[stageIndex];
const stage = new pipeline.PipelineStage(part, { stageIndex, numStages: 2, group: pipeGroup });
const Schedule = schedName === 'gpipe' ? pipeline.ScheduleGPipe : pipeline.Schedule1F1B;
const schedule = new Schedule(stage, { microbatches: 4, lossFn: (o, t) => kiln.F.crossEntropy(o, t) });
const opt = new kiln.optim.SGD(part.parameters(), { lr: 0.1 });
const out = { stageIndex, replica, steps: [] };
const baseline = kiln.memory().allocations;
for (const [x, y] of data) {
  const rows = layout === 'hybrid' ? [replica * 8, 8] : [0, 16];
  const losses = [];
  opt.zeroGrad();
  const output = await schedule.step(stage.isFirst ? x.narrow(0, ...rows) : undefined,
    { target: stage.isLast ? y.narrow(0, ...rows) : undefined, losses });
  if (dataGroup) for (const p of part.parameters()) await dist.allReduce(p.grad, { op: 'avg', group: dataGroup });
  out.steps.push({
    losses,
    outputShape: output?.shape,
    grads: Object.fromEntries(part.parameters().map((p) => [names.get(p), Array.from(p.grad.toTypedArray())])),
  });
  output?.dispose();
  opt.step();
}
opt.zeroGrad();
out.leaked = kiln.memory().allocations - baseline;
const rank = dist.getRank();
dist.destroyProcessGroup();
await report(rank, out);
