// Shared fixtures for the fit tests: a small learnable classification problem and a model on it.
import * as kiln from '../../src/index.js';

const { nn, optim, data } = kiln;

/** A learnable 3-class problem: the class is the argmax of the first three of six features. */
export function problem(n: number, seed: number) {
  kiln.manualSeed(seed);
  const x = kiln.randn([n, 6]);
  const y = kiln.scope(() => x.narrow(1, 0, 3).argmax(1)); // the narrowed view is freed here, not left to the GC
  return { x, y };
}

/** Model (with dropout, so the generator matters), Adam, a seeded shuffling loader and validation data. */
export function setup(seed = 0, { dropout = 0.1, lr = 1e-2 } = {}) {
  const { x, y } = problem(240, 100);
  kiln.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Dropout(dropout), new nn.Linear(16, 3));
  const optimizer = new optim.Adam(model.parameters(), { lr });
  const trainData = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 7 });
  const v = problem(90, 200);
  const valData = new data.DataLoader(new data.TensorDataset(v.x, v.y), { batchSize: 45 });
  return { model, optimizer, trainData, valData, x, y, v };
}

/** Cross-entropy and accuracy of logits against class indices, in float64 from the raw numbers. */
export function referenceMetrics(logits: number[][], labels: number[]): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  logits.forEach((row, i) => {
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    loss += lse - row[labels[i]];
    if (row.indexOf(m) === labels[i]) correct++;
  });
  return { loss: loss / labels.length, accuracy: correct / labels.length };
}
