// Quickstart: fit a small classifier on a synthetic problem, evaluate it and save the weights.
//   npx tsc -p . && node examples/fit-quickstart.mjs
import * as kiln from '../dist/index.js';

const { nn, optim, data } = kiln;
kiln.manualSeed(0);

// 2000 points in 2-D; the class is the quadrant (4 classes)
const x = kiln.randn([2000, 2]);
const y = x.gt(0).mul(kiln.tensor([1, 2])).sum(1).int();
const [train, val] = data.randomSplit(new data.TensorDataset(x, y), [1600, 400], 0);

const model = new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 4));
const history = await kiln.fit(model, {
  trainData: new data.DataLoader(train, { batchSize: 32, shuffle: true, seed: 0 }),
  valData: new data.DataLoader(val, { batchSize: 400 }),
  epochs: 5,
  optimizer: new optim.Adam(model.parameters(), { lr: 1e-2 }),
  loss: (out, target) => kiln.F.crossEntropy(out, target),
  metrics: ['accuracy'],
});

const last = history.epochs[history.epochs.length - 1];
console.log(`validation accuracy ${((last.valAccuracy ?? NaN) * 100).toFixed(1)}%`);
await kiln.save(model.stateDict(), '/tmp/kiln-quickstart.safetensors');
