// Early stopping on scripted loss sequences: the loss function ignores the model and returns the
// value scripted for the epoch (training and validation scripted separately).
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { setup } from './helpers.js';

const { F } = kiln;

async function run(val: number[], earlyStopping: kiln.FitOptions['earlyStopping'], train: number[] = val.map(() => 1)) {
  const { model, optimizer, trainData, valData } = setup();
  let epoch = 0;
  return kiln.fit(model, {
    trainData, valData, epochs: val.length, optimizer, verbose: false, earlyStopping,
    loss: (o, t) => F.crossEntropy(o, t).mul(0).add((model.training ? train : val)[epoch]),
    callbacks: { onEpochBegin: (e) => { epoch = e - 1; } },
  });
}

describe('early stopping', () => {
  it('monitors valLoss by default and stops after `patience` epochs without improvement', async () => {
    const h = await run([1.0, 0.8, 0.79, 0.85, 0.9, 0.5], { patience: 2 });
    expect(h.epochs.map((e) => e.valLoss)).toEqual([1.0, 0.8, 0.79, 0.85, 0.9].map((v) => expect.closeTo(v, 6)));
    expect(h.stoppedEarly).toBe(true);
    expect(h.bestEpoch).toBe(3);
  });

  it('counts only improvements larger than minDelta', async () => {
    const h = await run([1.0, 0.8, 0.79, 0.85, 0.9, 0.5], { monitor: 'valLoss', patience: 2, minDelta: 0.05 });
    expect(h.epochs).toHaveLength(4);
    expect(h.bestEpoch).toBe(2);
  });

  it("stops at the first miss with patience 0, and maximises in mode 'max'", async () => {
    const h0 = await run([1.0, 0.8, 0.85, 0.7], { patience: 0 });
    expect(h0.epochs).toHaveLength(3);
    const hMax = await run([1.0, 0.8, 0.85, 1.2, 0.5], { mode: 'max', patience: 2 });
    expect(hMax.epochs).toHaveLength(3);
    expect(hMax.bestEpoch).toBe(1);
  });

  it('can monitor the training loss, and runs to the end when it keeps improving', async () => {
    const h = await run([5, 5, 5, 5], { monitor: 'loss', patience: 1 }, [1.0, 0.9, 0.8, 0.7]);
    expect(h.epochs).toHaveLength(4);
    expect(h.stoppedEarly).toBe(false);
    expect(h.bestEpoch).toBe(4);
  });

  it("stops when a callback's onEpochEnd returns 'stop'", async () => {
    const { model, optimizer, trainData } = setup();
    const h = await kiln.fit(model, { trainData, epochs: 5, optimizer, verbose: false, callbacks: { onEpochEnd: (r) => (r.epoch === 2 ? 'stop' : undefined) } });
    expect(h.epochs).toHaveLength(2);
    expect(h.stoppedEarly).toBe(true);
  });

  it('rejects a validation monitor without valData, and unknown monitors', async () => {
    const { model, optimizer, trainData } = setup();
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer, earlyStopping: { monitor: 'valLoss' } })).rejects.toThrow(/earlyStopping.monitor: 'valLoss' needs valData/);
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer, earlyStopping: { monitor: 'f1' as any } })).rejects.toThrow(/earlyStopping.monitor: expected one of/);
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer, earlyStopping: { patience: -1 } })).rejects.toThrow(/earlyStopping.patience/);
  });
});
