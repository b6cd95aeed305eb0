// Tune an MLP's learning rate, width and dropout on the Fashion-MNIST subset with kiln.tune:
// TPE sampling, median pruning through fit, a journal file (run it again to resume the study),
// and an HTML report.
//   npm run build:ts && node examples/tune-mlp.mjs [--trials 12]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as kiln from '../dist/index.js';

const { nn, optim, data, tune } = kiln;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const nTrials = Number(args.includes('--trials') ? args[args.indexOf('--trials') + 1] : 12);

const flat = (/** @type {kiln.Tensor} */ t) => t.reshape([t.shape[0], 784]);
const train = await data.loadFashionMnist(join(root, 'data/fashion-mnist-subset'), { split: 'train' });
const test = await data.loadFashionMnist(join(root, 'data/fashion-mnist-subset'), { split: 'test' });
const trainData = new data.TensorDataset(flat(train.images), train.labels);
const valData = new data.TensorDataset(flat(test.images), test.labels);

const study = tune.createStudy({
  direction: 'maximize', studyName: 'mlp', storage: 'journal:tune-mlp.jsonl', loadIfExists: true,
  sampler: new tune.TPESampler({ seed: 0 }), pruner: new tune.MedianPruner({ nStartupTrials: 4, nWarmupSteps: 1 }),
});

await study.optimize(async (trial) => {
  const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
  const width = trial.suggestInt('width', 32, 512, { log: true });
  const dropout = trial.suggestFloat('dropout', 0, 0.5);
  kiln.manualSeed(trial.number);
  const model = new nn.Sequential(new nn.Linear(784, width), new nn.ReLU(), new nn.Dropout(dropout), new nn.Linear(width, 10));
  const history = await kiln.fit(model, {
    trainData, valData, batchSize: 64, epochs: 5, verbose: false,
    optimizer: new optim.Adam(model.parameters(), { lr }),
    callbacks: [new tune.PruningCallback(trial, { monitor: 'valAccuracy' })],
  });
  return history.epochs[history.epochs.length - 1].valAccuracy ?? 0;
}, { nTrials });

const pruned = study.trials.filter((t) => t.state === 'PRUNED').length;
console.log(`${study.trials.length} trials (${pruned} pruned); best accuracy ${(study.bestValue * 100).toFixed(2)}% with`, study.bestParams);
await study.writeReport('tune-mlp.html');
console.log('report: tune-mlp.html; journal: tune-mlp.jsonl');
