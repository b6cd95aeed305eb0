/**
 * An inter-process lock file: created with O_CREAT|O_EXCL ('wx'), which is atomic on local file
 * systems and on NFSv3+. Node has no flock. The file names its holder (host, pid, a random
 * token); a lock is stale when its holder is a dead process on this host, or when it is older
 * than staleMs (holders keep it for microseconds: a read of new journal lines and one append).
 * A stale lock is broken by renaming it to a unique name first, so two processes that both find
 * it stale cannot both take it: only one rename succeeds.
 *
 * Synchronous by design (the journal's reads and writes happen inside trial.suggest*); waiting
 * sleeps with Atomics.wait.
 */
import { closeSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { KilnError } from '../../errors.js';

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Holder { host: string; pid: number; token: string }

export interface FileLockOptions {
  /** A lock older than this is taken to be left by a crashed holder. Default 30000. */
  staleMs?: number;
  /** Give up (KilnError) after waiting this long. Default 120000. */
  timeoutMs?: number;
}

export class FileLock {
  readonly path: string;
  private readonly staleMs: number;
  private readonly timeoutMs: number;
  private token: string | null = null;

  constructor(path: string, opts: FileLockOptions = {}) {
    this.path = path;
    this.staleMs = opts.staleMs ?? 30_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  acquire(): void {
    if (this.token !== null) throw new KilnError(`lock ${this.path}: already held by this process`);
    const token = randomBytes(8).toString('hex');
    const body = JSON.stringify({ host: hostname(), pid: process.pid, token } satisfies Holder);
    const t0 = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(this.path, 'wx');
        try { writeSync(fd, body); } finally { closeSync(fd); }
        this.token = token;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new KilnError(`lock ${this.path}: cannot create the lock file (${(e as Error).message})`);
        }
      }
      if (this.breakIfStale()) continue;
      if (Date.now() - t0 > this.timeoutMs) {
        throw new KilnError(`lock ${this.path}: still held by another process after ${this.timeoutMs} ms (${this.describeHolder()})`);
      }
      sleepSync(Math.min(1 + attempt, 20));
    }
  }

  release(): void {
    if (this.token === null) return;
    const mine = this.token;
    this.token = null;
    // only remove the file if it is still ours (a peer may have broken it as stale)
    const h = this.readHolder(this.path);
    if (h?.token === mine) {
      try { unlinkSync(this.path); } catch { /* already gone */ }
    }
  }

  private readHolder(path: string): Holder | null {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as Holder;
    } catch {
      return null; // gone, or written only partly (its holder died between create and write)
    }
  }

  private describeHolder(): string {
    const h = this.readHolder(this.path);
    return h ? `holder pid ${h.pid} on ${h.host}` : 'holder unknown';
  }

  /** True when the lock was found gone or stale and removed, so acquiring can be retried at once. */
  private breakIfStale(): boolean {
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch {
      return true; // released meanwhile
    }
    const h = this.readHolder(this.path);
    const deadHere = h !== null && h.host === hostname() && !pidAlive(h.pid);
    const old = Date.now() - mtime > this.staleMs;
    // a file without a readable holder is in the middle of being written, unless it is old
    if (!deadHere && !old) return false;
    const aside = `${this.path}.stale-${randomBytes(6).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return true; // another process broke it first
    }
    const moved = this.readHolder(aside);
    if (h !== null && moved?.token !== h.token) {
      // we moved a fresh lock taken after our check: put it back (rename-over is atomic)
      try { renameSync(aside, this.path); } catch { /* ignore */ }
      return false;
    }
    try { unlinkSync(aside); } catch { /* ignore */ }
    return true;
  }
}
