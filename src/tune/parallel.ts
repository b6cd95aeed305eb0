/**
 * nJobs > 1: trials run in worker processes (worker.ts), each loading the objective module and
 * sharing the study through a journal file (the study's own, or a temporary one for an
 * in-memory study, whose events are copied back after every trial). This process hands out trial
 * slots (so nTrials and timeout count all workers together), runs the callbacks, fails the
 * trial of a worker that dies, and starts a replacement. Each worker gets
 * KILN_NUM_THREADS = threadsPerJob, so nJobs x threads stays within the cores.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../errors.js';
import type { CheckedOptions } from './optimize.js';
import { JournalStorage } from './storage/journal.js';
import type { Study } from './study.js';
import { logWarn } from './logging.js';

export type ToWorker =
  | { type: 'init'; journal: string; studyName: string; sampler: unknown; pruner: unknown; module: string; rank: number }
  | { type: 'go' } | { type: 'stop' };
export type FromWorker =
  | { type: 'next' } | { type: 'started'; trialId: number } | { type: 'done'; trialId: number }
  | { type: 'exhausted' } | { type: 'fatal'; message: string };

/** The worker entry beside this file: worker.js in the package, worker.ts when run from source. */
export function workerScript(): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', `worker${extname(self)}`);
}

export async function optimizeInWorkers(study: Study, modulePath: string, o: CheckedOptions): Promise<void> {
  if (!study.sampler.spec) throw new KilnError('optimize: nJobs > 1 needs a built-in sampler (a custom sampler cannot be rebuilt in worker processes)');
  if (!study.pruner.spec) throw new KilnError('optimize: nJobs > 1 needs a built-in pruner (a custom pruner cannot be rebuilt in worker processes)');
  const samplerSpec = study.sampler.spec();
  const prunerSpec = study.pruner.spec();

  // the journal the workers share
  let journal: JournalStorage;
  let tmpDir: string | null = null;
  if (study.storage instanceof JournalStorage) {
    journal = study.storage;
  } else {
    tmpDir = mkdtempSync(join(tmpdir(), 'kiln-tune-'));
    const path = join(tmpDir, 'study.jsonl');
    writeFileSync(path, study.storage.events.map((e) => JSON.stringify(e) + '\n').join(''));
    journal = new JournalStorage(path);
  }
  let copied = study.storage.events.length;
  const copyBack = () => {
    journal.refresh();
    if (journal === study.storage) return;
    study.storage.replay(journal.events.slice(copied));
    copied = journal.events.length;
  };

  const t0 = Date.now();
  let granted = 0, nextRank = 0, respawns = 0;
  let stopped = false;
  let fatal: string | null = null;
  const running = new Map<ChildProcess, number | null>();
  const env = { ...process.env, KILN_NUM_THREADS: String(o.threadsPerJob) };
  let callbackChain = Promise.resolve();

  const mayStart = () => !stopped && fatal === null && !study.stopping && (o.nTrials === undefined || granted < o.nTrials) &&
    (o.timeout === undefined || Date.now() - t0 < o.timeout * 1000);

  try {
    await new Promise<void>((resolveAll) => {
      const spawn = () => {
        const rank = nextRank++;
        const child = fork(workerScript(), [], { execArgv: o.execArgv, env, stdio: 'inherit', serialization: 'json' });
        running.set(child, null);
        child.on('message', (m: FromWorker) => {
          if (m.type === 'next') {
            const go = mayStart();
            if (go) granted++;
            child.send({ type: go ? 'go' : 'stop' } satisfies ToWorker);
          } else if (m.type === 'started') {
            running.set(child, m.trialId);
          } else if (m.type === 'done') {
            running.set(child, null);
            const id = m.trialId;
            callbackChain = callbackChain.then(async () => {
              copyBack();
              const frozen = study.getTrials().find((t) => t.trialId === id);
              if (frozen) for (const cb of o.callbacks) await cb(study, frozen);
            }).catch((e) => { fatal ??= `a callback threw: ${(e as Error).message}`; });
          } else if (m.type === 'exhausted') {
            stopped = true;
          } else if (m.type === 'fatal') {
            fatal ??= m.message;
          }
        });
        child.on('exit', (code, signal) => {
          const trialId = running.get(child);
          running.delete(child);
          if (trialId !== null && trialId !== undefined) {
            const why = `worker process ${child.pid} exited (${signal ?? `code ${code}`}) while running the trial`;
            if (journal.finishTrial(trialId, 'FAIL', undefined, why)) logWarn(why);
          }
          const crashed = code !== 0 || signal !== null;
          if (crashed && fatal === null && mayStart() && respawns < 2 * o.nJobs) {
            respawns++;
            spawn();
          }
          if (running.size === 0) resolveAll();
        });
        child.send({ type: 'init', journal: journal.path, studyName: study.studyName, sampler: samplerSpec, pruner: prunerSpec, module: modulePath, rank } satisfies ToWorker);
      };
      for (let i = 0; i < o.nJobs; i++) spawn();
    });
    await callbackChain;
  } finally {
    copyBack();
    if (tmpDir !== null) {
      journal.close();
      rmSync(tmpDir, { recursive: true, force: true });
    }
    study.takeStopRequest();
  }
  if (fatal !== null) throw new KilnError(`optimize: a worker process failed: ${fatal}`);
}
