// Runs the ranks of a job as real processes on 127.0.0.1 (each with KILN_NUM_THREADS=1) and
// collects what each printed. A rank reports with one line `RESULT <json>`. Every process is
// killed when the job ends, fails or times out, so no test leaves a rank behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');
export const workers = join(__dirname, 'workers');

/** A port that was free a moment ago (bound to 0 by the system, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Ranks run the built package (dist/): fail early, and clearly, when it is older than src/. */
export function checkBuilt(): void {
  const dist = join(root, 'dist', 'distributed', 'index.js');
  if (!existsSync(dist)) throw new Error('dist/ is not built: run `npm run build:ts` (ranks import the built package)');
  const built = statSync(dist).mtimeMs;
  const stale = (dir: string): string | null => {
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, f.name);
      if (f.isDirectory()) {
        const s = stale(p);
        if (s) return s;
      } else if (p.endsWith('.ts') && statSync(p).mtimeMs > built + 1000) return p;
    }
    return null;
  };
  const s = stale(join(root, 'src'));
  if (s) throw new Error(`dist/ is older than ${s}: run \`npm run build:ts\` (ranks import the built package)`);
  for (const f of ['kiln_dist.node', 'kiln_gloo.node']) {
    if (!existsSync(join(root, 'native', 'dist', 'build', 'Release', f))) throw new Error(`${f} is not built: run \`npm run build:dist\``);
  }
}

export interface RankResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  result: any;
}

const live = new Set<ChildProcess>();
/** Kills whatever a test left running (call from afterEach). */
export function killAll(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export interface JobOptions {
  nproc: number;
  args?: string[];
  env?: Record<string, string>;
  /** per-rank extra environment */
  rankEnv?: (rank: number) => Record<string, string>;
  timeoutMs?: number;
  /** called with each rank's process once started */
  onSpawn?: (rank: number, child: ChildProcess) => void;
}

function collect(child: ChildProcess): Promise<RankResult> {
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      resolve({ code, signal, stdout, stderr, result: line ? JSON.parse(line.slice(7)) : undefined });
    });
  });
}

function deadline(children: ChildProcess[], ms: number): () => void {
  const t = setTimeout(() => children.forEach((c) => c.kill('SIGKILL')), ms);
  return () => clearTimeout(t);
}

/** Starts `nproc` ranks of a worker script with torchrun's environment; resolves when all exit. */
export async function runJob(script: string, opts: JobOptions): Promise<RankResult[]> {
  const port = await freePort();
  const children: ChildProcess[] = [];
  for (let r = 0; r < opts.nproc; r++) {
    const child = spawn(process.execPath, [join(workers, script), ...(opts.args ?? [])], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, KILN_NUM_THREADS: '1', RANK: String(r), WORLD_SIZE: String(opts.nproc), LOCAL_RANK: String(r),
        LOCAL_WORLD_SIZE: String(opts.nproc), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), ...opts.env,
        ...opts.rankEnv?.(r),
      },
    });
    children.push(child);
    opts.onSpawn?.(r, child);
  }
  const stop = deadline(children, opts.timeoutMs ?? 60_000);
  const out = await Promise.all(children.map(collect));
  stop();
  return out;
}

/** Runs a command (mpirun, the launcher) and collects its output like one rank. */
export async function runCommand(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number;
  onSpawn?: (child: ChildProcess) => void } = {}): Promise<RankResult> {
  const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  opts.onSpawn?.(child);
  const stop = deadline([child], opts.timeoutMs ?? 60_000);
  const r = await collect(child);
  stop();
  return r;
}

/** Fails with every rank's output when a rank did not exit 0. */
export function expectOk(results: RankResult[]): void {
  const bad = results.map((r, i) => ({ r, i })).filter(({ r }) => r.code !== 0);
  if (bad.length > 0) {
    throw new Error(bad.map(({ r, i }) => `rank ${i} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`).join('\n---\n'));
  }
}
