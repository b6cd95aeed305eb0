/**
 * Training progress: a redrawn bar with samples/s and ETA on a terminal, plain lines otherwise
 * (logs, CI, pipes). Writes through `write`, so tests can capture it.
 */
export interface ProgressOptions {
  tty: boolean;
  write: (text: string) => void;
  /** Least time between two redraws of the bar (default 100 ms: a terminal need not redraw more often). */
  redrawMs?: number;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export function formatMetrics(m: Record<string, number | undefined>): string {
  return Object.entries(m)
    .filter(([, v]) => v !== undefined && !Number.isNaN(v))
    .map(([k, v]) => `${k} ${(v as number).toFixed(4)}`)
    .join('  ');
}

export class Progress {
  private start = 0;
  private lastDraw = 0;

  constructor(private readonly opts: ProgressOptions, private readonly epochs: number) {}

  beginEpoch(): void {
    this.start = performance.now();
    this.lastDraw = 0;
  }

  batch(epoch: number, done: number, total: number, samples: number, metrics: Record<string, number | undefined>): void {
    if (!this.opts.tty) return;
    const now = performance.now();
    if (done < total && this.lastDraw > 0 && now - this.lastDraw < (this.opts.redrawMs ?? 100)) return;
    this.lastDraw = now;
    const secs = (now - this.start) / 1000;
    const rate = samples / Math.max(secs, 1e-9);
    const eta = total > 0 ? (secs / done) * (total - done) : NaN;
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    const bar = filled === width ? '='.repeat(width) : `${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}`;
    this.opts.write(`\repoch ${epoch}/${this.epochs} [${bar}] ${done}/${total}  ${formatMetrics(metrics)}  ${rate.toFixed(0)} samples/s  ETA ${fmtTime(eta)}   `);
  }

  endEpoch(epoch: number, metrics: Record<string, number | undefined>, samplesPerSec: number, seconds: number): void {
    const line = `epoch ${epoch}/${this.epochs}  ${formatMetrics(metrics)}  ${samplesPerSec.toFixed(0)} samples/s  ${seconds.toFixed(1)}s`;
    this.opts.write(this.opts.tty ? `\r${line}${' '.repeat(20)}\n` : `${line}\n`);
  }
}
