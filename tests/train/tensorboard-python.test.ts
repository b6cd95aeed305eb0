// A Kiln event file through TensorBoard's own Python reader (EventAccumulator), where Python's
// `tensorboard` package is installed; skipped elsewhere (Debian does not package it, and
// tests/train/tensorboard.test.ts checks the bytes without it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../src/index.js';

const python = 'python3';
const hasTensorboard = spawnSync(python, ['-c', 'import tensorboard.backend.event_processing.event_accumulator'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasTensorboard)("TensorBoard's reader", () => {
  it('reads the scalars, histogram, image and text Kiln wrote', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-tbpy-'));
    const tb = new kiln.train.TensorBoardLogger(dir);
    tb.addScalar('train/loss', 0.5, 1);
    tb.addScalar('train/loss', 0.25, 2);
    tb.addHistogram('w', kiln.tensor([-1, 0, 0.5, 3]), 3);
    tb.addImage('img', kiln.ones([3, 2, 5]), 4);
    tb.addText('note', 'hello', 5);
    tb.close();
    const r = spawnSync(python, [join(import.meta.dirname, '../fixtures/tensorboard/read_events.py'), tb.path], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(out.scalars['train/loss']).toEqual([[1, 0.5], [2, 0.25]]);
    expect(out.histograms.w).toEqual([[3, -1, 3, 4, 2.5]]);
    expect(out.images.img).toEqual([[4, 5, 2]]);
    expect(out.tensors).toContain('note/text_summary');
  });
});
