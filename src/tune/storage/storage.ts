/**
 * Study storage as an append-only event log. Every change (a study, a trial, a parameter, a
 * report, an attribute, a trial's end) is one event; the state is what replaying the events in
 * order gives. Ids are positions in that order (a trial's id is the count of trials before it,
 * its number the count within its study), so every process that replays the same log agrees on
 * them without a server. The in-memory storage is this class; the journal (journal.ts) is the
 * same with the events appended to a file under a lock.
 *
 * All calls are synchronous: trial.suggestFloat returns a value, so a sampler must be able to
 * read the other trials (and, for a journal, the other processes' trials) without awaiting.
 */
import { hostname } from 'node:os';
import { KilnError, check } from '../../errors.js';
import { type Distribution, type DistributionJson, type ParamValue, distributionFromJson } from '../distributions.js';
import type { FrozenTrial, StudyDirection, TrialState } from '../types.js';

/** JSON has no NaN or infinities: objective values travel as these strings. */
export type NumJson = number | 'NaN' | 'Infinity' | '-Infinity';
export const encodeNum = (v: number): NumJson => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
export const decodeNum = (v: NumJson): number => (typeof v === 'number' ? v : Number(v));

export interface TrialTemplate {
  state: TrialState;
  values?: NumJson[];
  params?: { name: string; dist: DistributionJson; v: number }[];
  iv?: [number, NumJson][];
  uattr?: Record<string, unknown>;
  sattr?: Record<string, unknown>;
  end?: string;
}

export type StorageEvent =
  | { op: 'study'; name: string; directions: StudyDirection[] }
  | { op: 'trial'; study: string; t: string; host: string; pid: number; sattr?: Record<string, unknown>; template?: TrialTemplate }
  | { op: 'param'; trial: number; name: string; dist: DistributionJson; v: number }
  | { op: 'iv'; trial: number; step: number; v: NumJson }
  | { op: 'uattr' | 'sattr'; trial: number; key: string; v: unknown }
  | { op: 'end'; trial: number; state: TrialState; values?: NumJson[]; t: string; err?: string };

export interface StudyRecord {
  name: string;
  directions: StudyDirection[];
  trials: FrozenTrial[];
}

/** What a trial-creating caller may decide from the up-to-date trials (under the journal's lock). */
export type ReserveFn = (trials: readonly FrozenTrial[]) => Record<string, unknown> | null;

const FINISHED: ReadonlySet<TrialState> = new Set(['COMPLETE', 'PRUNED', 'FAIL']);

export class Storage {
  /** Every event applied, in order (the journal's lines; exported for worker processes). */
  readonly events: StorageEvent[] = [];
  private readonly studies = new Map<string, StudyRecord>();
  private readonly trials: FrozenTrial[] = [];
  private readonly trialStudy: StudyRecord[] = [];

  /** Brings in events written by other processes (journal). */
  protected sync(): void {}

  /** Runs `decide` on up-to-date state, then records the events it returns. */
  protected transact<T>(decide: () => { events: StorageEvent[]; result: T }): T {
    const { events, result } = decide();
    for (const e of events) this.apply(e);
    return result;
  }

  /** Applies one event. Events about unknown or finished trials are ignored: they can only come
   *  from a process that lost a race with another's end (e.g. a stale trial failed by a peer). */
  protected apply(e: StorageEvent): void {
    this.events.push(e);
    switch (e.op) {
      case 'study':
        if (!this.studies.has(e.name)) this.studies.set(e.name, { name: e.name, directions: e.directions, trials: [] });
        return;
      case 'trial': {
        const study = this.studies.get(e.study);
        if (!study) return;
        const tp = e.template;
        const t: FrozenTrial = {
          number: study.trials.length, trialId: this.trials.length, state: tp?.state ?? 'RUNNING',
          value: undefined, values: undefined, params: {}, distributions: {}, intermediateValues: new Map(),
          userAttrs: { ...(tp?.uattr ?? {}) }, systemAttrs: { host: e.host, pid: e.pid, ...(e.sattr ?? {}), ...(tp?.sattr ?? {}) },
          datetimeStart: new Date(e.t), datetimeComplete: tp?.end ? new Date(tp.end) : undefined,
        };
        for (const p of tp?.params ?? []) this.setParamOn(t, p.name, p.dist, p.v);
        for (const [s, v] of tp?.iv ?? []) t.intermediateValues.set(s, decodeNum(v));
        if (tp?.values) this.setValues(t, study, tp.values.map(decodeNum));
        study.trials.push(t);
        this.trials.push(t);
        this.trialStudy.push(study);
        return;
      }
      default: {
        const t = this.trials[e.trial];
        if (!t || t.state !== 'RUNNING') return;
        if (e.op === 'param') this.setParamOn(t, e.name, e.dist, e.v);
        else if (e.op === 'iv') { if (!t.intermediateValues.has(e.step)) t.intermediateValues.set(e.step, decodeNum(e.v)); }
        else if (e.op === 'uattr') t.userAttrs[e.key] = e.v;
        else if (e.op === 'sattr') t.systemAttrs[e.key] = e.v;
        else if (e.op === 'end') {
          t.state = e.state;
          t.datetimeComplete = new Date(e.t);
          if (e.values) this.setValues(t, this.trialStudy[e.trial], e.values.map(decodeNum));
          if (e.err !== undefined) t.systemAttrs.failReason = e.err;
        }
      }
    }
  }

  private setParamOn(t: FrozenTrial, name: string, dj: DistributionJson, v: number): void {
    const dist = distributionFromJson(dj);
    t.distributions[name] = dist;
    t.params[name] = dist.toExternal(v);
  }

  private setValues(t: FrozenTrial, study: StudyRecord, values: number[]): void {
    t.values = values;
    t.value = study.directions.length === 1 ? values[0] : undefined;
  }

  /** Reads what other processes wrote (a no-op in memory). */
  refresh(): void {
    this.sync();
  }

  /** Applies events recorded elsewhere (the journal of a worker run) after this storage's own. */
  replay(events: readonly StorageEvent[]): void {
    for (const e of events) this.apply(e);
  }

  // ---- studies

  /** Creates a study, or returns the existing one when loadIfExists. */
  createStudy(name: string, directions: StudyDirection[], loadIfExists: boolean): StudyRecord {
    this.transact(() => {
      const existing = this.studies.get(name);
      if (!existing) return { events: [{ op: 'study', name, directions }], result: undefined };
      check(loadIfExists, () => `createStudy: a study named '${name}' already exists in this storage (pass loadIfExists: true to resume it)`);
      check(existing.directions.join() === directions.join(),
        () => `createStudy: study '${name}' exists with directions [${existing.directions.join(', ')}], not [${directions.join(', ')}]`);
      return { events: [], result: undefined };
    });
    return this.studies.get(name)!;
  }

  getStudy(name: string): StudyRecord | undefined {
    this.sync();
    return this.studies.get(name);
  }

  studyNames(): string[] {
    this.sync();
    return [...this.studies.keys()];
  }

  // ---- trials

  /** Creates a running trial (or a finished one from a template) and returns its id; null when
   *  `reserve` declines (e.g. a grid with no point left). */
  createTrial(studyName: string, reserve?: ReserveFn, template?: TrialTemplate): number | null {
    return this.transact(() => {
      const study = this.studies.get(studyName);
      if (!study) throw new KilnError(`storage: no study named '${studyName}'`);
      let sattr: Record<string, unknown> | undefined;
      if (reserve) {
        const r = reserve(study.trials);
        if (r === null) return { events: [], result: null };
        sattr = r;
      }
      const e: StorageEvent = { op: 'trial', study: studyName, t: new Date().toISOString(), host: hostname(), pid: process.pid };
      if (sattr && Object.keys(sattr).length > 0) e.sattr = sattr;
      if (template) e.template = template;
      return { events: [e], result: this.trials.length };
    });
  }

  private running(trialId: number, what: string): FrozenTrial {
    const t = this.trials[trialId];
    if (!t) throw new KilnError(`${what}: no trial with id ${trialId}`);
    if (t.state !== 'RUNNING') throw new KilnError(`${what}: trial ${t.number} has already finished (${t.state})`);
    return t;
  }

  setParam(trialId: number, name: string, dist: Distribution, internal: number): void {
    this.transact(() => {
      const t = this.running(trialId, 'suggest');
      return { events: t.params[name] === undefined ? [{ op: 'param', trial: trialId, name, dist: dist.toJSON(), v: internal }] : [], result: undefined };
    });
  }

  reportIntermediate(trialId: number, step: number, value: number): void {
    this.transact(() => {
      this.running(trialId, 'report');
      return { events: [{ op: 'iv', trial: trialId, step, v: encodeNum(value) }], result: undefined };
    });
  }

  setTrialAttr(trialId: number, kind: 'uattr' | 'sattr', key: string, value: unknown): void {
    this.transact(() => {
      this.running(trialId, kind === 'uattr' ? 'setUserAttr' : 'setSystemAttr');
      return { events: [{ op: kind, trial: trialId, key, v: value }], result: undefined };
    });
  }

  /** Ends a running trial. Returns false (and writes nothing) when it had already ended. */
  finishTrial(trialId: number, state: TrialState, values?: number[], err?: string): boolean {
    check(FINISHED.has(state), () => `tell: state must be COMPLETE, PRUNED or FAIL, got ${String(state)}`);
    return this.transact(() => {
      const t = this.trials[trialId];
      if (!t) throw new KilnError(`tell: no trial with id ${trialId}`);
      if (t.state !== 'RUNNING') return { events: [], result: false };
      const e: StorageEvent = { op: 'end', trial: trialId, state, t: new Date().toISOString() };
      if (values) e.values = values.map(encodeNum);
      if (err !== undefined) e.err = err;
      return { events: [e], result: true };
    });
  }

  /** The study's trials, live objects (callers copy before handing them to users). */
  getTrials(studyName: string): readonly FrozenTrial[] {
    this.sync();
    const s = this.studies.get(studyName);
    if (!s) throw new KilnError(`storage: no study named '${studyName}'`);
    return s.trials;
  }

  getTrial(trialId: number): FrozenTrial {
    this.sync();
    const t = this.trials[trialId];
    if (!t) throw new KilnError(`storage: no trial with id ${trialId}`);
    return t;
  }
}

/** Encodes a value the user's code produced into a trial's template param entry. */
export function templateParam(name: string, dist: Distribution, value: ParamValue): { name: string; dist: DistributionJson; v: number } {
  return { name, dist: dist.toJSON(), v: dist.toInternal(value) };
}
