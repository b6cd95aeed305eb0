// The progress display: on a terminal a bar redrawn in place with samples/s and ETA; otherwise
// one plain line per epoch (fit's non-TTY output is also checked in fit.test.ts).
import { describe, expect, it } from 'vitest';
import { Progress, formatMetrics } from '../../src/train/progress.js';

describe('Progress', () => {
  it('draws a bar with the metrics, samples/s and ETA on a terminal, then ends the epoch on its own line', () => {
    let out = '';
    const p = new Progress({ tty: true, write: (s) => { out += s; }, redrawMs: 60_000 }, 3);
    p.beginEpoch();
    p.batch(1, 5, 10, 320, { loss: 0.5, acc: undefined });
    expect(out).toMatch(/^\repoch 1\/3 \[=+> +\] 5\/10  loss 0\.5000  \d+ samples\/s  ETA \d+s/);
    const bar = out.match(/\[([^\]]+)\]/)![1];
    expect(bar).toHaveLength(24);
    expect(bar.replace(/ +$/, '')).toHaveLength(12); // half done
    out = '';
    p.batch(1, 6, 10, 384, { loss: 0.4 }); // within redrawMs of the last draw: skipped
    expect(out).toBe('');
    p.batch(1, 10, 10, 640, { loss: 0.4 }); // the last batch is always drawn
    expect(out).toContain('[========================] 10/10');
    out = '';
    p.endEpoch(1, { loss: 0.4, acc: 0.9 }, 1234.4, 2.5);
    expect(out).toMatch(/^\repoch 1\/3  loss 0\.4000  acc 0\.9000  1234 samples\/s  2\.5s +\n$/);
  });

  it('writes only a plain line per epoch when not on a terminal', () => {
    let out = '';
    const p = new Progress({ tty: false, write: (s) => { out += s; } }, 2);
    p.beginEpoch();
    p.batch(1, 1, 2, 32, { loss: 1 });
    p.endEpoch(1, { loss: 1, valLoss: undefined, valAcc: NaN }, 100, 75);
    expect(out).toBe('epoch 1/2  loss 1.0000  100 samples/s  75.0s\n');
  });

  it('formats metrics with four decimals and leaves out missing ones', () => {
    expect(formatMetrics({ loss: 0.123456, acc: undefined, valLoss: 2 })).toBe('loss 0.1235  valLoss 2.0000');
  });
});
