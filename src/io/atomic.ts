/**
 * Atomic file replacement: write a temporary file in the target's directory, fsync it, rename
 * it over the target, fsync the directory. A crash at any point leaves either the old file or
 * the new one under the target name, never a partial file.
 *
 * Temporary files are named `.<target name>.<pid>.<random>.tmp`. A temp file left behind by a
 * process that died mid-write is never read by a loader; the next write to the same target
 * removes such leftovers whose process is no longer running.
 */
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

const TMP_RE = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/;

/** The temp-file name pattern for a target path (exported for tests). */
export function tempFileFor(target: string): string {
  const abs = resolve(target);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** True when `name` (a bare file name) is one of our temp files for the target `base`. */
export function isTempFileFor(name: string, base: string): boolean {
  const m = TMP_RE.exec(name);
  return !!m && m[1] === base;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function removeStaleTemps(dir: string, base: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TMP_RE.exec(name);
    if (!m || m[1] !== base) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || processAlive(pid)) continue;
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (e) {
    // Some platforms (Windows) and file systems cannot open or fsync a directory.
    const code = (e as NodeJS.ErrnoException).code;
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES', 'ENOTSUP', 'EBADF'].includes(code ?? '')) throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Write every byte of `data` at the handle's current position, in chunks. */
export async function writeAll(fh: FileHandle, data: Uint8Array, chunk = 8 << 20): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const n = Math.min(chunk, data.length - off);
    const { bytesWritten } = await fh.write(data, off, n);
    off += bytesWritten;
  }
}

/**
 * Replace `target` atomically with what `write` writes to the handle it is given.
 * On an error the temp file is removed and the target is untouched.
 */
export async function atomicWrite(target: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const abs = resolve(target);
  const dir = dirname(abs);
  const base = basename(abs);
  await removeStaleTemps(dir, base);
  const tmp = tempFileFor(abs);
  const fh = await open(tmp, 'wx');
  let ok = false;
  try {
    await write(fh);
    await fh.sync();
    ok = true;
  } finally {
    await fh.close().catch(() => undefined);
    if (!ok) await unlink(tmp).catch(() => undefined);
  }
  try {
    await rename(tmp, abs);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}
