// fit yields to the event loop between batches, so other work in the process (an HTTP server,
// timers) keeps running during training, and each step's tensors are freed (flat memory).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';
import { setup } from './helpers.js';
import { trackedTensors } from '../helpers/memory.js';

const silent = { verbose: false as const };

/** Frees what setup() made, so that a test leaves nothing for the garbage collector. */
function release({ model, optimizer, x, y, v }: ReturnType<typeof setup>): void {
  optimizer.disposeState();
  for (const t of [...model.parameters(), x, y, v.x, v.y]) {
    t.grad?.dispose();
    t.dispose();
  }
}

describe('fit and the event loop', () => {
  it('runs other tasks between every two batches', async () => {
    const fixture = setup();
    const { model, optimizer, trainData, valData } = fixture;
    let ticks = 0;
    let running = true;
    const spin = () => { ticks++; if (running) setImmediate(spin); };
    setImmediate(spin);
    const seen: number[] = [];
    await kiln.fit(model, { trainData, valData, epochs: 3, optimizer, ...silent, callbacks: { onBatchEnd: () => { seen.push(ticks); } } });
    running = false;
    expect(seen).toHaveLength(24);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
    release(fixture);
  });

  it('lets an HTTP server in the same process answer while it trains', async () => {
    const fixture = setup();
    const { model, optimizer, trainData } = fixture;
    let batches = 0;
    const server = createServer((_req, res) => res.end(String(batches)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    let clientDone = false;
    let fitDone = false;
    const training = kiln.fit(model, { trainData, epochs: 10_000, optimizer, ...silent, callbacks: {
      onBatchEnd: () => { batches++; },
      onEpochEnd: () => (clientDone ? 'stop' : undefined), // trains until the client is through
    } }).then((h) => { fitDone = true; return h; });
    const answers: number[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        answers.push(Number(await (await fetch(url)).text()));
        expect(fitDone).toBe(false);
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      clientDone = true;
      await training;
      server.close();
      release(fixture);
    }
    // every answer came from inside the run, and training moved on between them
    for (let i = 1; i < answers.length; i++) expect(answers[i]).toBeGreaterThan(answers[i - 1]);
  });

  it('keeps the live tensor count flat across epochs (with validation)', async () => {
    const before = trackedTensors();
    const { model, optimizer, trainData, valData } = setup();
    const counts: number[] = [];
    await kiln.fit(model, { trainData, valData, epochs: 6, optimizer, ...silent, callbacks: { onEpochEnd: () => { counts.push(trackedTensors()); } } });
    expect(counts.slice(1)).toEqual(Array(5).fill(counts[1]));
    // what stays live is this test's fixture and Adam's state, nothing of the earlier tests:
    // 4 parameters, their 4 gradients, Adam's 8 moments and the 4 data tensors
    expect(counts[1] - before).toBe(20);
  });
});
