// kiln.fit: history values, callbacks, early stopping, progress lines, the HTML report,
// checkpoints and exact resume, the event loop staying live, and flat memory.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const { nn, optim, data, F } = kiln;

/** A learnable 3-class problem: the class is the argmax of the first three features. */
function problem(n: number, seed: number) {
  kiln.manualSeed(seed);
  const x = kiln.randn([n, 6]);
  const y = x.narrow(1, 0, 3).argmax(1);
  return { x, y };
}

function setup(seed = 0) {
  const { x, y } = problem(240, 100);
  kiln.manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Dropout(0.1), new nn.Linear(16, 3));
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const trainData = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 32, shuffle: true, seed: 7 });
  const v = problem(90, 200);
  const valData = new data.DataLoader(new data.TensorDataset(v.x, v.y), { batchSize: 45 });
  return { model, optimizer, trainData, valData, x, y, v };
}

const silent = { verbose: false as const };

describe('fit', () => {
  it('learns, and its history matches a manual evaluation', async () => {
    const { model, optimizer, trainData, valData, v } = setup();
    const h = await kiln.fit(model, { trainData, valData, epochs: 8, optimizer, ...silent });
    expect(h.epochs).toHaveLength(8);
    expect(h.epochs[7].loss).toBeLessThan(h.epochs[0].loss * 0.6);
    model.eval();
    const out = kiln.noGrad(() => model.forward(v.x));
    const acc = out.argmax(1).eq(v.y).mean().item();
    const loss = F.crossEntropy(out, v.y).item();
    expect(h.epochs[7].valAccuracy).toBeCloseTo(acc, 6);
    expect(h.epochs[7].valLoss).toBeCloseTo(loss, 5);
    expect(h.epochs[7].valAccuracy).toBeGreaterThan(0.85);
  });

  it('calls callbacks in order with the right arguments', async () => {
    const { model, optimizer, trainData } = setup();
    const calls: string[] = [];
    await kiln.fit(model, {
      trainData, epochs: 2, optimizer, ...silent,
      callbacks: {
        onTrainBegin: () => { calls.push('begin'); },
        onEpochBegin: (e) => { calls.push(`epoch ${e}`); },
        onBatchEnd: (b) => { if (b.batch === 0 || b.batch === b.batches - 1) calls.push(`batch ${b.epoch}.${b.batch}/${b.batches} size ${b.size}`); },
        onEpochEnd: (r, hist) => { calls.push(`end ${r.epoch} of ${hist.length}`); },
        onTrainEnd: (h) => { calls.push(`done ${h.epochs.length}`); },
      },
    });
    expect(calls).toEqual(['begin', 'epoch 1', 'batch 1.0/8 size 32', 'batch 1.7/8 size 16', 'end 1 of 1',
      'epoch 2', 'batch 2.0/8 size 32', 'batch 2.7/8 size 16', 'end 2 of 2', 'done 2']);
  });

  it('stops early when the monitored value stops improving', async () => {
    const { model, optimizer, trainData } = setup();
    // scripted losses via a loss function that ignores the model after epoch 2
    let epoch = 0;
    const scripted = [1.0, 0.5, 0.6, 0.55, 0.7, 0.4];
    const h = await kiln.fit(model, {
      trainData, epochs: 6, optimizer, ...silent,
      loss: (o, t) => F.crossEntropy(o, t).mul(0).add(scripted[epoch]),
      callbacks: { onEpochBegin: (e) => { epoch = e - 1; } },
      earlyStopping: { monitor: 'loss', patience: 2 },
    });
    expect(h.epochs.map((e) => e.loss)).toEqual([1.0, 0.5, 0.6, 0.55].map((v) => expect.closeTo(v, 6)));
    expect(h.stoppedEarly).toBe(true);
    expect(h.bestEpoch).toBe(2);
  });

  it('prints one plain line per epoch when not on a terminal', async () => {
    const { model, optimizer, trainData, valData } = setup();
    let out = '';
    await kiln.fit(model, { trainData, valData, epochs: 2, optimizer, write: (s) => { out += s; } });
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^epoch 1\/2  loss \d\.\d{4}  acc \d\.\d{4}  valLoss \d\.\d{4}  valAcc \d\.\d{4}  \d+ samples\/s  \d+\.\ds$/);
  });

  it('writes an HTML report with one SVG curve per series', async () => {
    const { model, optimizer, trainData, valData } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'kiln-report-'));
    const h = await kiln.fit(model, { trainData, valData, epochs: 3, optimizer, report: join(dir, 'r.html'), ...silent });
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(2);
    for (const s of ['loss', 'valLoss', 'accuracy', 'valAccuracy']) {
      const m = html.match(new RegExp(`data-series="${s}" points="([^"]+)"`));
      expect(m, s).not.toBeNull();
      expect(m![1].split(' ')).toHaveLength(3);
    }
    expect(html).toContain(h.epochs[2].loss.toFixed(4));
  });

  it('checkpoints every N epochs, and resuming equals the uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-ckpt-'));
    const a = setup(5);
    await kiln.fit(a.model, { trainData: a.trainData, epochs: 4, optimizer: a.optimizer, checkpoint: { dir, every: 2 }, ...silent });
    expect(readdirSync(dir).sort()).toEqual(['epoch-0002.safetensors', 'epoch-0004.safetensors']);
    const b = setup(99); // different initial weights: everything must come from the checkpoint
    kiln.manualSeed(12345); // and a disturbed generator
    const h = await kiln.fit(b.model, { trainData: b.trainData, epochs: 4, optimizer: b.optimizer, resumeFrom: join(dir, 'epoch-0002.safetensors'), ...silent });
    expect(h.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    const sa = a.model.stateDict();
    const sb = b.model.stateDict();
    for (const k of Object.keys(sa)) expect(sb[k].toArray(), k).toEqual(sa[k].toArray());
  });

  it('keeps the event loop running between batches', async () => {
    const { model, optimizer, trainData } = setup();
    // a task that reschedules itself on every turn of the event loop, as a server's I/O would run
    let ticks = 0;
    let running = true;
    const spin = () => { ticks++; if (running) setImmediate(spin); };
    setImmediate(spin);
    const seen: number[] = [];
    await kiln.fit(model, { trainData, epochs: 3, optimizer, ...silent, callbacks: { onBatchEnd: () => { seen.push(ticks); } } });
    running = false;
    // the other task ran between every two batches
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
  });

  it('keeps the live tensor count flat across epochs', async () => {
    const { model, optimizer, trainData } = setup();
    const counts: number[] = [];
    await kiln.fit(model, { trainData, epochs: 6, optimizer, ...silent, callbacks: { onEpochEnd: () => { counts.push(kiln.memory().tensors); } } });
    expect(counts[5]).toBe(counts[1]);
  });

  it('rejects bad options with named errors', async () => {
    const { model, optimizer, trainData } = setup();
    await expect(kiln.fit(model, { trainData, epochs: 0, optimizer })).rejects.toThrow(/epochs: expected a positive integer/);
    await expect(kiln.fit(model, { trainData: [] as any, epochs: 1, optimizer })).rejects.toThrow(/trainData: expected a DataLoader or a Dataset/);
  });
});
