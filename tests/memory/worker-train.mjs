// Trains a small MLP for `steps` Adam steps from a seed and returns its loss curve, final weights
// and memory counters. Run in worker threads by workers.test.ts (and in the main thread for the
// reference); loads the built package (dist/), as a user's worker would.
import { parentPort, workerData } from 'node:worker_threads';

import * as kiln from '../../dist/index.js';

export function train(seed, steps) {
  kiln.manualSeed(seed);
  const model = new kiln.nn.Sequential(new kiln.nn.Linear(16, 32), new kiln.nn.Tanh(), new kiln.nn.Linear(32, 4));
  const opt = new kiln.optim.Adam(model.parameters(), { lr: 1e-2 });
  const x = kiln.randn([64, 16]);
  const y = kiln.randint(0, 4, [64]);
  const losses = [];
  for (let s = 0; s < steps; s++) {
    kiln.scope(() => {
      const loss = kiln.F.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.item());
    });
  }
  const weights = model.parameters().map((p) => Array.from(p.toTypedArray()));
  return { losses, weights, dispose: () => {
    // everything this run holds, so a caller's memory() counts do not wait on the GC
    opt.disposeState();
    for (const p of model.parameters()) {
      p.grad?.dispose();
      p.dispose();
    }
    x.dispose();
    y.dispose();
  } };
}

if (parentPort !== null && workerData !== undefined) {
  const before = kiln.memory();
  const { losses, weights } = train(workerData.seed, workerData.steps);
  parentPort.postMessage({ losses, weights, tensorsBefore: before.tensors, memoryAfter: kiln.memory() });
}
