/**
 * `kiln launch`: starts the ranks of a job on this machine with torchrun's contract.
 *
 *   kiln launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P]
 *               [--threads T] script.mjs [args...]
 *
 * Each rank runs `node script.mjs args...` with RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
 * GROUP_RANK, MASTER_ADDR and MASTER_PORT set, and KILN_NUM_THREADS (and OMP_NUM_THREADS) at
 * `--threads`, by default the machine's cores divided among the ranks (at least 1), so the
 * ranks never oversubscribe the cores. Output is streamed line by line with a `[rankN]: `
 * prefix. When a rank fails, the others are stopped (SIGTERM, then SIGKILL after a grace period)
 * and the launcher exits with the failed rank's status; SIGINT / SIGTERM / SIGHUP are forwarded
 * to every rank. On one machine without --master-port a free port is chosen (torchrun's
 * --standalone); with several machines the port defaults to torchrun's 29500.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { KilnError } from '../errors.js';
import { DEFAULT_MASTER_ADDR, DEFAULT_MASTER_PORT } from './env.js';

export interface LaunchOptions {
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  /** null: a free port (one machine) or 29500 (several). */
  masterPort: number | null;
  /** CPU threads per rank (KILN_NUM_THREADS); null: cores / nproc. */
  threads: number | null;
  /** Milliseconds between SIGTERM and SIGKILL when stopping ranks. */
  graceMs: number;
  script: string;
  args: string[];
}

export const LAUNCH_USAGE = `usage: kiln launch --nproc N [--nnodes M --node-rank R --master-addr A --master-port P]
                   [--threads T] [--grace-ms MS] script.mjs [args...]`;

const FLAGS: Record<string, keyof LaunchOptions> = {
  '--nproc': 'nproc', '--nproc-per-node': 'nproc', '--nproc_per_node': 'nproc',
  '--nnodes': 'nnodes', '--node-rank': 'nodeRank', '--node_rank': 'nodeRank',
  '--master-addr': 'masterAddr', '--master_addr': 'masterAddr', '--master-port': 'masterPort', '--master_port': 'masterPort',
  '--threads': 'threads', '--grace-ms': 'graceMs',
};

function intValue(flag: string, v: string | undefined, min: number, max = 1 << 30): number {
  const n = Number(v);
  if (v === undefined || v === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new KilnError(`${flag}: expected an integer in [${min}, ${max}], got ${v === undefined ? 'nothing' : JSON.stringify(v)}\n${LAUNCH_USAGE}`);
  }
  return n;
}

/** Parses the arguments after `launch`; everything from the script on goes to the script. */
export function parseLaunchArgs(argv: string[]): LaunchOptions {
  const o: LaunchOptions = {
    nproc: 1, nnodes: 1, nodeRank: 0, masterAddr: DEFAULT_MASTER_ADDR, masterPort: null, threads: null, graceMs: 5000,
    script: '', args: [],
  };
  let i = 0;
  for (; i < argv.length; i++) {
    let a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('--')) break;
    let value: string | undefined;
    const eq = a.indexOf('=');
    if (eq >= 0) {
      value = a.slice(eq + 1);
      a = a.slice(0, eq);
    } else {
      value = argv[++i];
    }
    const key = FLAGS[a];
    if (key === undefined) throw new KilnError(`launch: unknown option ${a}\n${LAUNCH_USAGE}`);
    if (key === 'masterAddr') {
      if (!value) throw new KilnError(`${a}: expected a host name or address\n${LAUNCH_USAGE}`);
      o.masterAddr = value;
    } else if (key === 'masterPort') o.masterPort = intValue(a, value, 1, 65535);
    else if (key === 'nodeRank') o.nodeRank = intValue(a, value, 0);
    else if (key === 'graceMs') o.graceMs = intValue(a, value, 0);
    else (o as any)[key] = intValue(a, value, 1);
  }
  if (i >= argv.length) throw new KilnError(`launch: expected a script to run\n${LAUNCH_USAGE}`);
  o.script = argv[i];
  o.args = argv.slice(i + 1);
  if (o.nodeRank >= o.nnodes) throw new KilnError(`--node-rank: expected a value below --nnodes ${o.nnodes}, got ${o.nodeRank}`);
  return o;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface LaunchIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Receives the ranks' processes once started (tests). */
  onStart?: (children: ChildProcess[]) => void;
}

/** Streams a child's output line by line with a prefix (a partial last line is kept until complete). */
function prefixLines(stream: NodeJS.ReadableStream, prefix: string, write: (s: string) => void): () => void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const text = rest + chunk;
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      rest = text;
      return;
    }
    rest = text.slice(end + 1);
    write(text.slice(0, end).split('\n').map((l) => prefix + l).join('\n') + '\n');
  });
  return () => {
    if (rest) write(prefix + rest + '\n');
    rest = '';
  };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_CODES: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs the job; resolves with the launcher's exit status. */
export async function launch(o: LaunchOptions, io: LaunchIO = {
  stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s),
}): Promise<number> {
  const script = resolve(o.script);
  if (!existsSync(script)) throw new KilnError(`launch: script not found: ${o.script}`);
  const port = o.masterPort ?? (o.nnodes === 1 ? await freePort() : DEFAULT_MASTER_PORT);
  const threads = o.threads ?? Math.max(1, Math.floor(availableParallelism() / o.nproc));
  const worldSize = o.nnodes * o.nproc;
  const children: ChildProcess[] = [];
  const flushes: (() => void)[] = [];
  let failure: { rank: number; status: number; what: string } | null = null;
  let signalled: string | null = null;
  let killTimer: NodeJS.Timeout | null = null;

  const stopAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    killTimer ??= setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, o.graceMs);
  };

  const exits: Promise<void>[] = [];
  for (let local = 0; local < o.nproc; local++) {
    const rank = o.nodeRank * o.nproc + local;
    const env = {
      ...process.env,
      RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(o.nproc),
      GROUP_RANK: String(o.nodeRank), MASTER_ADDR: o.masterAddr, MASTER_PORT: String(port),
      KILN_NUM_THREADS: process.env.KILN_NUM_THREADS || String(threads), OMP_NUM_THREADS: process.env.OMP_NUM_THREADS || String(threads),
    };
    const child = spawn(process.execPath, [script, ...o.args], { env, stdio: ['inherit', 'pipe', 'pipe'] });
    children.push(child);
    const prefix = `[rank${rank}]: `;
    flushes.push(prefixLines(child.stdout!, prefix, io.stdout), prefixLines(child.stderr!, prefix, io.stderr));
    exits.push(new Promise((done) => {
      child.on('error', (e) => {
        failure ??= { rank, status: 1, what: `could not start: ${e.message}` };
        stopAll();
        done();
      });
      child.on('close', (code, signal) => {
        const status = code ?? 128 + (SIGNAL_CODES[signal ?? ''] ?? 1);
        if (status !== 0 && failure === null && signalled === null) {
          failure = { rank, status, what: code !== null ? `exited with code ${code}` : `was killed by ${signal}` };
          io.stderr(`kiln launch: rank ${rank} ${failure.what}; stopping the other ranks\n`);
          stopAll();
        }
        done();
      });
    }));
  }
  io.onStart?.(children);
  const forward = (sig: (typeof SIGNALS)[number]) => () => {
    signalled ??= sig;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill(sig);
    killTimer ??= setTimeout(() => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL')), o.graceMs);
  };
  const handlers = SIGNALS.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  try {
    await Promise.all(exits);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
    if (killTimer) clearTimeout(killTimer);
    flushes.forEach((f) => f());
  }
  if (signalled !== null) return 128 + SIGNAL_CODES[signalled];
  return failure === null ? 0 : (failure as { status: number }).status;
}

/** The `kiln launch` command: parses, runs, returns the exit status (usage errors: 2). */
export async function main(argv: string[]): Promise<number> {
  let o: LaunchOptions;
  try {
    o = parseLaunchArgs(argv);
  } catch (e) {
    process.stderr.write(`kiln launch: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    return await launch(o);
  } catch (e) {
    process.stderr.write(`kiln launch: ${(e as Error).message}\n`);
    return 2;
  }
}
