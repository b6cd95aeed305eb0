// fit integration: PruningCallback reports the monitored metric each epoch and prunes through fit.
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { tune, nn, optim, data } = kiln;
tune.setLogLevel('silent');

function dataset() {
  kiln.manualSeed(0);
  const x = kiln.randn([64, 4]);
  const y = x.select(1, 0).gt(0).toTypedArray() as Float32Array;
  return new data.TensorDataset(x, kiln.tensor(Int32Array.from(y), { dtype: 'int32' }));
}

async function objective(trial: kiln.tune.Trial, epochsSeen: number[]) {
  const ds = dataset();
  const model = new nn.Linear(4, 2);
  const lr = trial.suggestFloat('lr', 1e-3, 1e-1, { log: true });
  const h = await kiln.fit(model, {
    trainData: ds, valData: ds, epochs: 3, batchSize: 16, optimizer: new optim.SGD(model.parameters(), { lr }), verbose: false,
    callbacks: [new tune.PruningCallback(trial), { onEpochEnd: (r) => { epochsSeen.push(r.epoch); } }],
  });
  return h.epochs[2].valLoss!;
}

describe('PruningCallback', () => {
  it('reports valLoss every epoch and stops fit when the pruner says so', async () => {
    const study = tune.createStudy({ pruner: new tune.MedianPruner({ nStartupTrials: 2 }), sampler: new tune.RandomSampler({ seed: 0 }) });
    const lr = new tune.FloatDistribution(1e-3, 1e-1, { log: true });
    for (let i = 0; i < 2; i++) {
      study.addTrial(tune.createTrial({ params: { lr: 0.01 }, distributions: { lr }, value: 0.01, intermediateValues: { 1: 0.01, 2: 0.01, 3: 0.01 } }));
    }
    const seen: number[] = [];
    await study.optimize((t) => objective(t, seen), { nTrials: 1 });
    const t = study.trials[2];
    expect(t.state).toBe('PRUNED');
    expect([...t.intermediateValues.keys()]).toEqual([1]); // a linear model's loss after one epoch is far above 0.01
    expect(t.value).toBeGreaterThan(0.1);
    expect(seen).toEqual([]); // the pruning callback threw before the next callback of epoch 1 ran
  });

  it('leaves a trial alone without a pruner, with one report per epoch', async () => {
    const study = tune.createStudy({ sampler: new tune.RandomSampler({ seed: 0 }) });
    const seen: number[] = [];
    await study.optimize((t) => objective(t, seen), { nTrials: 1 });
    const t = study.trials[0];
    expect(t.state).toBe('COMPLETE');
    expect(seen).toEqual([1, 2, 3]);
    expect([...t.intermediateValues.keys()]).toEqual([1, 2, 3]);
    expect(t.intermediateValues.get(3)).toBe(t.value);
  });

  it('refuses a monitor that runs against the study direction', () => {
    const study = tune.createStudy();
    expect(() => new tune.PruningCallback(study.ask(), { monitor: 'valAccuracy' })).toThrow(/should be maximized, but the study direction is 'minimize'/);
    expect(() => new tune.PruningCallback(study.ask(), { monitor: 'acc' as never })).toThrow(/monitor must be one of/);
  });
});
