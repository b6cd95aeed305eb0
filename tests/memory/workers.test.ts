// Kiln in several worker threads at once: each thread has its own native state (storage table,
// counters), the backends and their caches are shared and thread-safe. Two workers training at
// the same time must each get exactly what the same training gives alone.
import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import * as kiln from '../../src/index.js';
// @ts-expect-error: a plain .mjs helper without declarations
import { train } from './worker-train.mjs';

const script = new URL('./worker-train.mjs', import.meta.url);

function inWorker(seed: number, steps: number): Promise<any> {
  return new Promise((resolve, reject) => {
    const w = new Worker(script, { workerData: { seed, steps } });
    let result: any = null;
    w.on('message', (m) => (result = m));
    w.on('error', reject);
    w.on('exit', (code) => (code === 0 && result !== null ? resolve(result) : reject(new Error(`worker exited with ${code}`))));
  });
}

describe('worker threads', () => {
  const steps = 150;
  const reference = [1, 2].map((seed) => {
    const run = train(seed, steps);
    run.dispose();
    return run;
  });

  it('two workers training at once each match the same run alone, bit for bit (3 rounds)', async () => {
    const before = kiln.memory();
    for (let round = 0; round < 3; round++) {
      const [a, b] = await Promise.all([inWorker(1, steps), inWorker(2, steps)]);
      for (const [got, ref] of [[a, reference[0]], [b, reference[1]]]) {
        expect(got.losses).toEqual(ref.losses);
        expect(got.weights).toEqual(ref.weights);
        expect(got.losses[steps - 1]).toBeLessThan(got.losses[0] * 0.5); // it trained
        // the worker's own counters: 4 parameters, their grads, Adam's two moments, x and y
        expect(got.memoryAfter.tensors - got.tensorsBefore).toBe(4 * 4 + 2);
      }
    }
    // the main thread's table and counters are untouched by the workers' storages
    const after = kiln.memory();
    expect(after.allocations).toBe(before.allocations);
    expect(after.bytes).toBe(before.bytes);
  });
});
