/**
 * Journal storage: the event log of storage.ts as a file of JSON lines, one line per event.
 * Writers take the lock file (lock.ts), read the lines other processes appended since their last
 * look, decide (e.g. which trial number they get), append their lines and release. Readers need
 * no lock: they take complete lines only, so a line being written is read on the next look.
 *
 * A process killed in the middle of a write leaves a line without its newline; the next writer
 * (holding the lock, so nobody else is mid-write) ends it with a newline and the unparseable
 * line is skipped with a warning. Trials that were running in a killed process stay RUNNING in
 * the log until Study.failStaleTrials (run by optimize) marks them failed.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { KilnError } from '../../errors.js';
import { FileLock, type FileLockOptions } from './lock.js';
import { Storage, type StorageEvent } from './storage.js';

export class JournalStorage extends Storage {
  readonly path: string;
  private readonly fd: number;
  private readonly lock: FileLock;
  /** Bytes of the file consumed (always at a line end). */
  private offset = 0;
  private warnedBadLine = false;

  constructor(path: string, lockOptions: FileLockOptions = {}) {
    super();
    this.path = resolve(path);
    try {
      this.fd = openSync(this.path, 'a+');
    } catch (e) {
      throw new KilnError(`storage: cannot open journal file ${this.path} (${(e as Error).message})`);
    }
    this.lock = new FileLock(`${this.path}.lock`, lockOptions);
    this.sync();
  }

  /** Reads and applies the complete lines appended since the last look. */
  protected override sync(): void {
    this.readNew(false);
  }

  /** Returns true when the file ends in a partial line (only meaningful under the lock). */
  private readNew(underLock: boolean): boolean {
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return false;
    const buf = Buffer.allocUnsafe(size - this.offset);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, this.offset + got);
      if (n === 0) break;
      got += n;
    }
    const end = buf.lastIndexOf(0x0a, got - 1);
    if (end < 0) return underLock && got > 0;
    let start = 0;
    while (start <= end) {
      const nl = buf.indexOf(0x0a, start);
      const line = buf.toString('utf8', start, nl);
      start = nl + 1;
      if (line.trim() === '') continue;
      let event: StorageEvent;
      try {
        event = JSON.parse(line) as StorageEvent;
      } catch {
        if (!this.warnedBadLine) {
          process.emitWarning(`kiln.tune journal ${this.path}: skipped a damaged line (a writer was killed mid-write)`);
          this.warnedBadLine = true;
        }
        continue;
      }
      this.apply(event);
    }
    this.offset += end + 1;
    return end + 1 < got;
  }

  protected override transact<T>(decide: () => { events: StorageEvent[]; result: T }): T {
    this.lock.acquire();
    try {
      if (this.readNew(true)) {
        // a dead writer's partial line: end it so our line starts on its own
        writeSync(this.fd, '\n');
        this.readNew(true);
      }
      const { events, result } = decide();
      if (events.length > 0) {
        const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
        const bytes = Buffer.from(text, 'utf8');
        let written = 0;
        while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
        this.offset += bytes.length;
        for (const e of events) this.apply(e);
      }
      return result;
    } finally {
      this.lock.release();
    }
  }

  close(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}

/** 'journal:FILE' -> a JournalStorage; undefined -> in memory. */
export function storageFrom(spec: string | Storage | undefined, name = 'storage'): Storage {
  if (spec === undefined) return new Storage();
  if (spec instanceof Storage) return spec;
  if (typeof spec === 'string' && spec.startsWith('journal:') && spec.length > 'journal:'.length) {
    return new JournalStorage(spec.slice('journal:'.length));
  }
  throw new KilnError(`${name}: expected 'journal:FILE', a storage object or undefined (in memory), got ${JSON.stringify(spec)}`);
}
