// kiln.fit: history values against a float64 recount, callbacks, progress lines, the HTML
// report, Dataset input, regression without accuracy, and option errors.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { problem, referenceMetrics, setup } from './helpers.js';

const { nn, optim, data, F } = kiln;
const silent = { verbose: false as const };

describe('fit', () => {
  it('learns, and its validation numbers match a float64 recount of the final model', async () => {
    const { model, optimizer, trainData, valData, v } = setup();
    const h = await kiln.fit(model, { trainData, valData, epochs: 8, optimizer, ...silent });
    expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(h.epochs[7].loss).toBeLessThan(h.epochs[0].loss * 0.6);
    expect(model.training).toBe(true); // validation ran in eval mode and put it back
    model.eval();
    const out = kiln.noGrad(() => model.forward(v.x));
    const ref = referenceMetrics(out.toArray() as number[][], v.y.toArray() as number[]);
    expect(h.epochs[7].valAccuracy).toBeCloseTo(ref.accuracy, 10);
    expect(h.epochs[7].valLoss).toBeCloseTo(ref.loss, 5);
    expect(h.epochs[7].valAccuracy).toBeGreaterThan(0.85);
  });

  it('reports the training loss and accuracy of the epoch (checked with a frozen model)', async () => {
    // lr 0: every batch sees the same weights, so the epoch's numbers are those of the whole set
    const { model, x, y } = setup(3, { dropout: 0 });
    const optimizer = new optim.SGD(model.parameters(), { lr: 0 });
    const trainData = new data.TensorDataset(x, y); // a Dataset: fit batches it (50, 50, 50, 50, 40)
    const sizes: number[] = [];
    const h = await kiln.fit(model, { trainData, batchSize: 50, epochs: 1, optimizer, ...silent,
      callbacks: { onBatchEnd: (b) => { sizes.push(b.size); } } });
    expect(sizes).toEqual([50, 50, 50, 50, 40]);
    const out = kiln.noGrad(() => model.forward(x));
    const ref = referenceMetrics(out.toArray() as number[][], y.toArray() as number[]);
    expect(h.epochs[0].accuracy).toBeCloseTo(ref.accuracy, 10);
    expect(h.epochs[0].loss).toBeCloseTo(ref.loss, 5);
    expect(h.epochs[0].samplesPerSec).toBeCloseTo(240 / h.epochs[0].seconds, 6);
    expect(h.epochs[0].lr).toBe(0);
  });

  it('leaves accuracy out for regression targets', async () => {
    kiln.manualSeed(1);
    const x = kiln.randn([128, 4]);
    const w = kiln.tensor([[1], [-2], [0.5], [3]]);
    const y = x.matmul(w);
    const model = new nn.Linear(4, 1);
    const h = await kiln.fit(model, {
      trainData: new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 1 }),
      valData: new data.TensorDataset(x, y), epochs: 20, optimizer: new optim.Adam(model.parameters(), { lr: 0.1 }),
      loss: (o, t) => F.mseLoss(o, t), ...silent,
    });
    expect(Object.keys(h.epochs[0]).sort()).toEqual(['epoch', 'loss', 'lr', 'samplesPerSec', 'seconds', 'valLoss']);
    expect(h.epochs[19].loss).toBeLessThan(h.epochs[0].loss * 0.01);
    const ref = kiln.noGrad(() => F.mseLoss(model.forward(x), y)).item();
    expect(h.epochs[19].valLoss).toBeCloseTo(ref, 6);
  });

  it('calls callbacks in order with the right arguments, lists of them in list order', async () => {
    const { model, optimizer, trainData } = setup();
    const calls: string[] = [];
    const second = { onEpochEnd: (r: kiln.EpochRecord) => { calls.push(`second ${r.epoch}`); } };
    await kiln.fit(model, {
      trainData, epochs: 2, optimizer, ...silent,
      callbacks: [{
        onTrainBegin: () => { calls.push('begin'); },
        onEpochBegin: (e) => { calls.push(`epoch ${e}`); },
        onBatchEnd: (b) => { if (b.batch === 0 || b.batch === b.batches - 1) calls.push(`batch ${b.epoch}.${b.batch}/${b.batches} size ${b.size} loss ${Number.isFinite(b.loss)}`); },
        onEpochEnd: (r, hist) => { calls.push(`end ${r.epoch} of ${hist.length}`); },
        onTrainEnd: (h) => { calls.push(`done ${h.epochs.length}`); },
      }, second],
    });
    expect(calls).toEqual(['begin', 'epoch 1', 'batch 1.0/8 size 32 loss true', 'batch 1.7/8 size 16 loss true', 'end 1 of 1', 'second 1',
      'epoch 2', 'batch 2.0/8 size 32 loss true', 'batch 2.7/8 size 16 loss true', 'end 2 of 2', 'second 2', 'done 2']);
  });

  it('prints one plain line per epoch when not on a terminal', async () => {
    const { model, optimizer, trainData, valData } = setup();
    let out = '';
    const h = await kiln.fit(model, { trainData, valData, epochs: 2, optimizer, write: (s) => { out += s; } });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^epoch 1\/2  loss \d\.\d{4}  acc \d\.\d{4}  valLoss \d\.\d{4}  valAcc \d\.\d{4}  \d+ samples\/s  \d+\.\ds$/);
    expect(lines[1]).toContain(`loss ${h.epochs[1].loss.toFixed(4)}  acc ${h.epochs[1].accuracy!.toFixed(4)}`);
    expect(out).not.toContain('\r');
  });

  it('writes an HTML report with one SVG curve per series and the numbers', async () => {
    const { model, optimizer, trainData, valData } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
    const h = await kiln.fit(model, { trainData, valData, epochs: 3, optimizer, report: join(dir, 'r.html'), ...silent });
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src="http/); // self-contained
    expect(html.match(/<svg /g)).toHaveLength(2);
    for (const s of ['loss', 'valLoss', 'accuracy', 'valAccuracy']) {
      const m = html.match(new RegExp(`data-series="${s}" points="([^"]+)"`, 'g'));
      expect(m, s).toHaveLength(1);
      expect(m![0].split('points="')[1].split(' ')).toHaveLength(3);
    }
    for (const e of h.epochs) for (const v of [e.loss, e.valLoss!, e.accuracy!, e.valAccuracy!]) expect(html).toContain(`<td>${v.toFixed(4)}</td>`);
  });

  it('rejects bad options with named errors', async () => {
    const { model, optimizer, trainData } = setup();
    await expect(kiln.fit(model, { trainData, epochs: 0, optimizer })).rejects.toThrow(/epochs: expected a positive integer/);
    await expect(kiln.fit(model, { trainData: [] as any, epochs: 1, optimizer })).rejects.toThrow(/trainData: expected a DataLoader or a Dataset/);
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer: {} as any })).rejects.toThrow(/optimizer: expected an Optimizer/);
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer, metrics: ['f1' as any] })).rejects.toThrow(/metrics: unknown metric 'f1'/);
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer, checkpoint: { dir: '/tmp/x', every: 0 } })).rejects.toThrow(/checkpoint.every/);
    await expect(kiln.fit(model, { trainData, epochs: 1, optimizer, ...silent, loss: (o) => o })).rejects.toThrow(/loss: expected a scalar loss, got shape \[32, 3\]/);
    const { x } = problem(8, 0);
    await expect(kiln.fit(model, { trainData: new data.TensorDataset(x, x.sum(1)), epochs: 1, optimizer, ...silent,
      loss: (o) => o.sum().mul(0).sub(1).log() })).rejects.toThrow(/the loss became NaN at epoch 1, batch 0/);
  });
});
