/**
 * study.optimize: runs trials until nTrials have run (in this call), timeout seconds have passed
 * (no new trial starts after it; running ones finish), study.stop() is called or the sampler has
 * nothing left. An objective that throws fails its trial (recorded with the error) and the study
 * goes on; TrialPruned ends the trial as PRUNED. nJobs > 1 runs trials in worker processes
 * (parallel.ts), which needs the objective as a module path.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { KilnError, check } from '../errors.js';
import { logInfo, logWarn } from './logging.js';
import type { Study } from './study.js';
import { type Trial, TrialPruned } from './trial.js';
import type { FrozenTrial } from './types.js';

export type ObjectiveResult = number | number[];
export type Objective = (trial: Trial) => ObjectiveResult | Promise<ObjectiveResult>;
export type OptimizeCallback = (study: Study, trial: FrozenTrial) => void | Promise<void>;

export interface OptimizeOptions {
  /** Trials this call runs (all workers together). Default: no limit. */
  nTrials?: number;
  /** Seconds after which no new trial starts. Default: no limit. */
  timeout?: number;
  /** Trials run at once, each in its own worker process; -1: one per core. Default 1 (in this process). */
  nJobs?: number;
  /** Called after each trial, in this process. */
  callbacks?: OptimizeCallback[];
  /** Kiln CPU threads per worker (KILN_NUM_THREADS). Default: floor(cores / nJobs), at least 1. */
  threadsPerJob?: number;
  /** Node flags for the worker processes. Default: this process's flags. */
  execArgv?: string[];
}

export interface CheckedOptions {
  nTrials: number | undefined;
  timeout: number | undefined;
  nJobs: number;
  callbacks: OptimizeCallback[];
  threadsPerJob: number;
  execArgv: string[];
}

export function checkOptimizeOptions(opts: OptimizeOptions): CheckedOptions {
  check(opts !== null && typeof opts === 'object', 'optimize: options must be an object');
  const { nTrials, timeout } = opts;
  check(nTrials === undefined || (Number.isInteger(nTrials) && nTrials >= 0), () => `optimize: nTrials must be an integer >= 0, got ${String(nTrials)}`);
  check(timeout === undefined || (typeof timeout === 'number' && timeout > 0 && !Number.isNaN(timeout)),
    () => `optimize: timeout must be a number of seconds > 0, got ${String(timeout)}`);
  const cores = availableParallelism();
  const nJobs = opts.nJobs === -1 ? cores : opts.nJobs ?? 1;
  check(Number.isInteger(nJobs) && nJobs >= 1, () => `optimize: nJobs must be an integer >= 1 (or -1 for one per core), got ${String(opts.nJobs)}`);
  const callbacks = opts.callbacks ?? [];
  check(Array.isArray(callbacks) && callbacks.every((c) => typeof c === 'function'), 'optimize: callbacks must be an array of functions (study, trial) => void');
  const threadsPerJob = opts.threadsPerJob ?? Math.max(1, Math.floor(cores / nJobs));
  check(Number.isInteger(threadsPerJob) && threadsPerJob >= 1, () => `optimize: threadsPerJob must be an integer >= 1, got ${String(opts.threadsPerJob)}`);
  const execArgv = opts.execArgv ?? process.execArgv;
  check(Array.isArray(execArgv) && execArgv.every((a) => typeof a === 'string'), 'optimize: execArgv must be an array of strings');
  return { nTrials, timeout, nJobs, callbacks, threadsPerJob, execArgv };
}

/** A module path (relative to the working directory), file: URL string or URL -> absolute file path. */
export function objectiveModulePath(m: string | URL): string {
  const p = m instanceof URL ? fileURLToPath(m) : m.startsWith('file:') ? fileURLToPath(m) : resolve(m);
  check(existsSync(p), () => `optimize: objective module ${p} does not exist`);
  return p;
}

/** The module's `objective` export, else its default export. */
export async function importObjective(path: string): Promise<Objective> {
  const mod = await import(pathToFileURL(path).href) as { objective?: unknown; default?: unknown };
  const fn = mod.objective ?? mod.default;
  if (typeof fn !== 'function') throw new KilnError(`optimize: module ${path} exports no function named 'objective' (nor a default export)`);
  return fn as Objective;
}

export async function optimize(study: Study, objective: Objective | string | URL, opts: OptimizeOptions): Promise<void> {
  const o = checkOptimizeOptions(opts);
  check(typeof objective === 'function' || typeof objective === 'string' || objective instanceof URL,
    'optimize: objective must be a function (trial) => value, or the path of a module exporting one');
  study.failStaleTrials();
  if (o.nJobs > 1) {
    if (typeof objective === 'function') {
      throw new KilnError('optimize: nJobs > 1 runs trials in worker processes, which cannot receive a function; ' +
        "pass the path of a module that exports it: study.optimize('./objective.js', { nJobs })");
    }
    const { optimizeInWorkers } = await import('./parallel.js');
    return optimizeInWorkers(study, objectiveModulePath(objective), o);
  }
  const fn = typeof objective === 'function' ? objective : await importObjective(objectiveModulePath(objective));
  const t0 = Date.now();
  study.takeStopRequest();
  for (let n = 0; ; n++) {
    if (o.nTrials !== undefined && n >= o.nTrials) break;
    if (o.timeout !== undefined && Date.now() - t0 >= o.timeout * 1000) break;
    if (study.stopping || study.sampler.isExhausted?.(study.view)) break;
    const id = study.createTrial();
    if (id === null) break;
    const frozen = await runTrial(study, id, fn);
    for (const cb of o.callbacks) await cb(study, frozen);
  }
  study.takeStopRequest();
}

/** Runs the objective on trial `id` and records how it ended. */
export async function runTrial(study: Study, id: number, fn: Objective): Promise<FrozenTrial> {
  const trial = study.startTrial(id);
  let result: unknown;
  try {
    result = await fn(trial);
  } catch (e) {
    if (e instanceof TrialPruned) {
      const t = study.tell(trial, undefined, 'PRUNED');
      logInfo(`trial ${t.number} pruned at step ${[...t.intermediateValues.keys()].pop() ?? '-'}`);
      return t;
    }
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    logWarn(`trial ${trial.number} failed: ${msg}`);
    return study.tell(trial, undefined, 'FAIL', msg);
  }
  const problem = checkResult(result, study.directions.length);
  if (problem !== null) {
    logWarn(`trial ${trial.number} failed: ${problem}`);
    return study.tell(trial, undefined, 'FAIL', problem);
  }
  const values = typeof result === 'number' ? [result] : (result as number[]);
  const t = study.tell(trial, values, 'COMPLETE');
  logInfo(`trial ${t.number} finished with ${values.length === 1 ? `value ${values[0]}` : `values [${values.join(', ')}]`} and parameters ${JSON.stringify(t.params)}`);
  return t;
}

/** null when the objective's return is usable, else why not. */
function checkResult(r: unknown, nObjectives: number): string | null {
  const arr = typeof r === 'number' ? [r] : r;
  if (!Array.isArray(arr) || arr.length !== nObjectives || !arr.every((v) => typeof v === 'number')) {
    return `the objective returned ${describe(r)}; expected ${nObjectives === 1 ? 'a number' : `an array of ${nObjectives} numbers`}`;
  }
  if (arr.some((v) => Number.isNaN(v))) return `the objective returned NaN`;
  return null;
}

function describe(r: unknown): string {
  if (r === undefined) return 'undefined';
  try { return JSON.stringify(r) ?? String(r); } catch { return String(r); }
}
