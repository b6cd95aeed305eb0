/**
 * Study: one optimisation — its directions, sampler, pruner and storage — with Optuna's API in
 * camelCase: createStudy / loadStudy, optimize, ask / tell, bestTrial / bestValue / bestParams,
 * bestTrials (the Pareto front of a multi-objective study), trials.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { KilnError, check } from '../errors.js';
import type { Distribution, ParamValue } from './distributions.js';
import { optimize, type Objective, type OptimizeOptions } from './optimize.js';
import { paretoFront } from './pareto.js';
import type { Pruner, PrunerStudyView } from './pruners/pruner.js';
import { NopPruner } from './pruners/pruner.js';
import { pidAlive } from './storage/lock.js';
import { storageFrom } from './storage/journal.js';
import { type Storage, type TrialTemplate, encodeNum, templateParam } from './storage/storage.js';
import type { Sampler } from './samplers/sampler.js';
import { TPESampler } from './samplers/tpe/sampler.js';
import { Trial } from './trial.js';
import { type FrozenTrial, type StudyDirection, type TrialState, copyTrial } from './types.js';
import { writeStudyReport, type StudyReportOptions } from './report/report.js';

export interface CreateStudyOptions {
  /** Single objective: 'minimize' (default) or 'maximize'. */
  direction?: StudyDirection;
  /** Several objectives, one direction each. */
  directions?: StudyDirection[];
  /** Default: TPESampler. */
  sampler?: Sampler;
  /** Default: no pruning. */
  pruner?: Pruner;
  /** 'journal:FILE' (shared by processes, survives crashes) or a Storage; default: in memory. */
  storage?: string | Storage;
  studyName?: string;
  /** Resume a study of the same name in the storage instead of failing. */
  loadIfExists?: boolean;
}

const DIRECTIONS: StudyDirection[] = ['minimize', 'maximize'];

export class Study {
  readonly studyName: string;
  readonly directions: readonly StudyDirection[];
  readonly sampler: Sampler;
  readonly pruner: Pruner;
  readonly storage: Storage;
  /** @internal the view samplers and pruners get */
  readonly view: PrunerStudyView;
  private stopRequested = false;

  /** @internal use createStudy or loadStudy */
  constructor(name: string, directions: StudyDirection[], storage: Storage, sampler: Sampler, pruner: Pruner) {
    this.studyName = name;
    this.directions = Object.freeze([...directions]);
    this.storage = storage;
    this.sampler = sampler;
    this.pruner = pruner;
    const self = this;
    this.view = {
      studyName: name,
      directions: this.directions,
      getTrials: (states) => self.rawTrials(states),
      setTrialSystemAttr: (id, key, value) => storage.setTrialAttr(id, 'sattr', key, value),
    };
  }

  private rawTrials(states?: readonly TrialState[]): readonly FrozenTrial[] {
    const all = this.storage.getTrials(this.studyName);
    return states ? all.filter((t) => states.includes(t.state)) : all;
  }

  get direction(): StudyDirection {
    check(this.directions.length === 1, 'direction: this study has several objectives; use directions');
    return this.directions[0];
  }

  /** Copies of all trials, in number order. */
  get trials(): FrozenTrial[] {
    return this.rawTrials().map(copyTrial);
  }

  getTrials(opts: { states?: TrialState[] } = {}): FrozenTrial[] {
    return this.rawTrials(opts.states).map(copyTrial);
  }

  get bestTrial(): FrozenTrial {
    check(this.directions.length === 1, 'bestTrial: a multi-objective study has no single best trial; use bestTrials');
    const sign = this.directions[0] === 'minimize' ? 1 : -1;
    let best: FrozenTrial | undefined;
    for (const t of this.rawTrials(['COMPLETE'])) {
      if (t.value === undefined || Number.isNaN(t.value)) continue;
      if (best === undefined || sign * t.value < sign * best.value!) best = t;
    }
    if (!best) throw new KilnError(`bestTrial: study '${this.studyName}' has no complete trial yet`);
    return copyTrial(best);
  }

  get bestValue(): number { return this.bestTrial.value!; }
  get bestParams(): Record<string, ParamValue> { return this.bestTrial.params; }

  /** The complete trials no other complete trial dominates (for one objective: the best ones). */
  get bestTrials(): FrozenTrial[] {
    const done = this.rawTrials(['COMPLETE']).filter((t) => t.values !== undefined && !t.values.some(Number.isNaN));
    return paretoFront(done, this.directions).map(copyTrial);
  }

  /** Starts a trial (ask-and-tell interface; optimize uses it too). */
  ask(): Trial {
    const id = this.createTrial();
    if (id === null) throw new KilnError(`ask: the sampler has no point left to try in study '${this.studyName}'`);
    return this.startTrial(id);
  }

  /** @internal: null when the sampler declines (e.g. a finished grid). */
  createTrial(): number | null {
    const reserve = this.sampler.reserve ? (trials: readonly FrozenTrial[]) => this.sampler.reserve!(this.view, trials) : undefined;
    return this.storage.createTrial(this.studyName, reserve);
  }

  /** @internal */
  startTrial(id: number): Trial {
    const frozen = this.storage.getTrial(id);
    let space: Record<string, Distribution> = {};
    let params: Record<string, ParamValue> = {};
    try {
      space = this.sampler.inferRelativeSearchSpace(this.view, frozen);
      params = Object.keys(space).length > 0 ? this.sampler.sampleRelative(this.view, frozen, space) : {};
    } catch (e) {
      this.storage.finishTrial(id, 'FAIL', undefined, `sampler: ${(e as Error).message}`);
      throw e;
    }
    return new Trial(this, id, space, params);
  }

  /**
   * Ends a trial: COMPLETE with its value(s) (the default), PRUNED (its last reported value is
   * kept as its value) or FAIL. Returns the stored trial.
   */
  tell(trial: Trial | number, values?: number | number[], state: 'COMPLETE' | 'PRUNED' | 'FAIL' = 'COMPLETE', failReason?: string): FrozenTrial {
    const id = this.trialIdOf(trial);
    const t = this.storage.getTrial(id);
    check(t.state === 'RUNNING', () => `tell: trial ${t.number} has already finished (${t.state})`);
    let vals: number[] | undefined;
    if (state === 'COMPLETE') {
      vals = typeof values === 'number' ? [values] : values;
      check(Array.isArray(vals) && vals.length === this.directions.length && vals.every((v) => typeof v === 'number' && !Number.isNaN(v)),
        () => `tell: a COMPLETE trial needs ${this.directions.length === 1 ? 'a number' : `${this.directions.length} numbers`} (not NaN), got ${fmt(values)}`);
    } else if (state === 'PRUNED') {
      let last: number | undefined;
      for (const s of t.intermediateValues.keys()) if (last === undefined || s > last) last = s;
      vals = last === undefined ? undefined : [t.intermediateValues.get(last)!];
    } else {
      check(state === 'FAIL', () => `tell: state must be 'COMPLETE', 'PRUNED' or 'FAIL', got ${String(state)}`);
    }
    this.storage.finishTrial(id, state, vals, failReason);
    return copyTrial(this.storage.getTrial(id));
  }

  private trialIdOf(trial: Trial | number): number {
    if (trial instanceof Trial) {
      check(trial.study === this, 'tell: the trial belongs to another study object');
      return trial.trialId;
    }
    check(Number.isInteger(trial), () => `tell: expected a Trial or a trial number, got ${String(trial)}`);
    const t = this.rawTrials().find((x) => x.number === trial);
    if (!t) throw new KilnError(`tell: study '${this.studyName}' has no trial number ${trial}`);
    return t.trialId;
  }

  /** Adds a finished trial made with createTrial (e.g. a known good configuration). */
  addTrial(template: TrialTemplate): FrozenTrial {
    check(template !== null && typeof template === 'object' && typeof template.state === 'string',
      'addTrial: expected a trial made by kiln.tune.createTrial');
    if (template.state === 'COMPLETE') {
      check(template.values?.length === this.directions.length,
        () => `addTrial: a COMPLETE trial needs ${this.directions.length} value(s), got ${template.values?.length ?? 0}`);
    }
    const id = this.storage.createTrial(this.studyName, undefined, template)!;
    return copyTrial(this.storage.getTrial(id));
  }

  /** Marks RUNNING trials of dead processes on this host as FAIL (after a crash). Returns their numbers. */
  failStaleTrials(): number[] {
    const host = hostname();
    const out: number[] = [];
    for (const t of this.rawTrials(['RUNNING'])) {
      const pid = t.systemAttrs.pid;
      if (t.systemAttrs.host !== host || typeof pid !== 'number' || pid === process.pid || pidAlive(pid)) continue;
      if (this.storage.finishTrial(t.trialId, 'FAIL', undefined, `stale: process ${pid} ended while the trial was running`)) out.push(t.number);
    }
    return out;
  }

  /** Ends optimize after the running trials. */
  stop(): void { this.stopRequested = true; }
  /** @internal */
  takeStopRequest(): boolean { const s = this.stopRequested; this.stopRequested = false; return s; }
  /** @internal */
  get stopping(): boolean { return this.stopRequested; }

  optimize(objective: Objective | string | URL, opts: OptimizeOptions = {}): Promise<void> {
    return optimize(this, objective, opts);
  }

  /** A self-contained HTML report: history, parameter scatter plots, importances. */
  writeReport(path: string, opts: StudyReportOptions = {}): Promise<void> {
    return writeStudyReport(this, path, opts);
  }
}

function fmt(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

function directionsOf(opts: CreateStudyOptions): StudyDirection[] {
  check(!(opts.direction !== undefined && opts.directions !== undefined), 'createStudy: give direction or directions, not both');
  const dirs = opts.directions ?? [opts.direction ?? 'minimize'];
  check(Array.isArray(dirs) && dirs.length > 0, 'createStudy: directions must be a non-empty array');
  for (const d of dirs) check(DIRECTIONS.includes(d), () => `createStudy: direction must be 'minimize' or 'maximize', got ${JSON.stringify(d)}`);
  return dirs;
}

function checkParts(opts: { sampler?: Sampler; pruner?: Pruner }, fn: string): void {
  check(opts.sampler === undefined || (typeof opts.sampler === 'object' && typeof opts.sampler.sampleIndependent === 'function'),
    () => `${fn}: sampler must be a sampler object (e.g. new kiln.tune.TPESampler())`);
  check(opts.pruner === undefined || (typeof opts.pruner === 'object' && typeof opts.pruner.prune === 'function'),
    () => `${fn}: pruner must be a pruner object (e.g. new kiln.tune.MedianPruner())`);
}

export function createStudy(opts: CreateStudyOptions = {}): Study {
  check(opts !== null && typeof opts === 'object', 'createStudy: options must be an object');
  const directions = directionsOf(opts);
  checkParts(opts, 'createStudy');
  check(opts.studyName === undefined || (typeof opts.studyName === 'string' && opts.studyName.length > 0),
    () => `createStudy: studyName must be a non-empty string, got ${String(opts.studyName)}`);
  const storage = storageFrom(opts.storage, 'createStudy: storage');
  const name = opts.studyName ?? `no-name-${randomUUID()}`;
  storage.createStudy(name, directions, opts.loadIfExists ?? false);
  return new Study(name, directions, storage, opts.sampler ?? new TPESampler(), opts.pruner ?? new NopPruner());
}

export function loadStudy(opts: { studyName: string; storage: string | Storage; sampler?: Sampler; pruner?: Pruner }): Study {
  check(opts !== null && typeof opts === 'object', 'loadStudy: options must be an object');
  check(typeof opts.studyName === 'string', 'loadStudy: studyName must be a string');
  checkParts(opts, 'loadStudy');
  const storage = storageFrom(opts.storage, 'loadStudy: storage');
  const rec = storage.getStudy(opts.studyName);
  if (!rec) throw new KilnError(`loadStudy: no study named '${opts.studyName}' in this storage (studies: ${storage.studyNames().join(', ') || 'none'})`);
  return new Study(rec.name, rec.directions, storage, opts.sampler ?? new TPESampler(), opts.pruner ?? new NopPruner());
}

export interface CreateTrialOptions {
  params?: Record<string, ParamValue>;
  distributions?: Record<string, Distribution>;
  value?: number;
  values?: number[];
  state?: 'COMPLETE' | 'PRUNED' | 'FAIL';
  /** step -> value, as a Map or an object. */
  intermediateValues?: Map<number, number> | Record<number, number>;
  userAttrs?: Record<string, unknown>;
}

/** A finished trial to add with study.addTrial. */
export function createTrial(opts: CreateTrialOptions): TrialTemplate {
  check(opts !== null && typeof opts === 'object', 'createTrial: options must be an object');
  const state = opts.state ?? 'COMPLETE';
  check(['COMPLETE', 'PRUNED', 'FAIL'].includes(state), () => `createTrial: state must be COMPLETE, PRUNED or FAIL, got ${String(state)}`);
  check(!(opts.value !== undefined && opts.values !== undefined), 'createTrial: give value or values, not both');
  const iv = opts.intermediateValues instanceof Map ? [...opts.intermediateValues] : Object.entries(opts.intermediateValues ?? {}).map(([s, v]) => [Number(s), v] as [number, number]);
  for (const [s] of iv) check(Number.isInteger(s) && s >= 0, () => `createTrial: intermediate steps must be integers >= 0, got ${s}`);
  // as tell does: a pruned trial's value is its last reported one
  const last = iv.length > 0 ? iv.reduce((a, b) => (b[0] > a[0] ? b : a)) : undefined;
  const values = opts.values ?? (opts.value !== undefined ? [opts.value] : state === 'PRUNED' && last ? [last[1]] : undefined);
  if (state === 'COMPLETE') check(values !== undefined, 'createTrial: a COMPLETE trial needs value or values');
  for (const v of values ?? []) check(typeof v === 'number' && !Number.isNaN(v), () => `createTrial: values must be numbers, got ${String(v)}`);
  const params = opts.params ?? {};
  const dists = opts.distributions ?? {};
  for (const k of Object.keys(params)) check(k in dists, () => `createTrial: params.${k} has no entry in distributions`);
  return {
    state,
    values: values?.map(encodeNum),
    params: Object.keys(params).map((k) => {
      const p = templateParam(k, dists[k], params[k]);
      check(dists[k].contains(p.v), () => `createTrial: params.${k} = ${JSON.stringify(params[k])} lies outside its distribution`);
      return p;
    }),
    iv: iv.map(([s, v]) => [s, encodeNum(v)]),
    uattr: opts.userAttrs,
    end: new Date().toISOString(),
  };
}
