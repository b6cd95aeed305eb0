/** learn()'s progress bar: redrawn in place on a terminal, a line every tenth of training otherwise. */
import type { LogRecord } from './logger.js';

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  return s < 60 ? `${s.toFixed(0)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

export class ProgressBar {
  private lastDraw = 0;
  private nextLine = 0.1;
  constructor(private readonly total: number, private readonly write: (s: string) => void, private readonly tty: boolean) {}

  update(steps: number, rec: Partial<LogRecord>, seconds: number): void {
    const frac = Math.min(steps / this.total, 1);
    const now = performance.now();
    if (this.tty) {
      if (frac < 1 && now - this.lastDraw < 100) return;
      this.lastDraw = now;
    } else {
      if (frac < this.nextLine && frac < 1) return;
      while (this.nextLine <= frac) this.nextLine += 0.1;
    }
    const width = 24, filled = Math.round(frac * width);
    const bar = `${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? (filled === width ? '=' : '>') : ''}${' '.repeat(width - filled)}`;
    const ret = rec.episodeReturnMean !== undefined && Number.isFinite(rec.episodeReturnMean) ? `  return ${rec.episodeReturnMean.toFixed(1)}` : '';
    const fps = seconds > 0 ? steps / seconds : 0;
    const eta = fps > 0 ? (this.total - steps) / fps : NaN;
    const line = `[${bar}] ${steps}/${this.total} steps${ret}  ${fps.toFixed(0)} steps/s  ETA ${fmtTime(eta)}`;
    this.write(this.tty ? `\r${line}   ` : `${line}\n`);
  }

  end(): void {
    if (this.tty) this.write('\n');
  }
}
