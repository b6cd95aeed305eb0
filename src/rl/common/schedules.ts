/**
 * Schedules map the remaining progress (1 at the start of learn(), 0 at the end) to a value, as
 * Stable-Baselines3's. A hyperparameter may be a number, a schedule, or the zoo's string
 * 'lin_<start>' (linear from start to 0); only numbers and linear schedules survive save().
 */
import { check } from '../../errors.js';

export type Schedule = ((progressRemaining: number) => number) & { spec?: ScheduleSpec };
export type ScheduleSpec = { kind: 'constant'; value: number } | { kind: 'linear'; start: number; end: number; endFraction: number };
export type ScheduleLike = number | string | Schedule | ScheduleSpec;

export function constantSchedule(value: number): Schedule {
  const f: Schedule = () => value;
  f.spec = { kind: 'constant', value };
  return f;
}

/** start -> end over the first endFraction of training, then end (SB3's get_linear_fn). */
export function linearSchedule(start: number, end = 0, endFraction = 1): Schedule {
  check(Number.isFinite(start) && Number.isFinite(end), () => `linearSchedule: expected finite start and end, got ${start}, ${end}`);
  check(endFraction > 0 && endFraction <= 1, () => `endFraction: expected a number in (0, 1], got ${endFraction}`);
  const f: Schedule = (p) => {
    const done = 1 - p;
    return done > endFraction ? end : start + (done * (end - start)) / endFraction;
  };
  f.spec = { kind: 'linear', start, end, endFraction };
  return f;
}

export function toSchedule(v: ScheduleLike, name: string): Schedule {
  if (typeof v === 'number') {
    check(Number.isFinite(v) && v >= 0, () => `${name}: expected a non-negative number, got ${v}`);
    return constantSchedule(v);
  }
  if (typeof v === 'string') {
    const m = /^lin_([0-9.eE+-]+)$/.exec(v);
    check(m !== null && Number.isFinite(Number(m[1])), () => `${name}: expected a number, a function or 'lin_<start>', got '${v}'`);
    return linearSchedule(Number(m![1]), 0, 1);
  }
  if (typeof v === 'function') return v;
  check(v !== null && typeof v === 'object' && (v.kind === 'constant' || v.kind === 'linear'),
    () => `${name}: expected a number, a function or 'lin_<start>', got ${String(v)}`);
  return v.kind === 'constant' ? constantSchedule(v.value) : linearSchedule(v.start, v.end, v.endFraction);
}

/** What save() writes for a schedule: its spec, or its value at the start for an opaque function. */
export function scheduleSpec(s: Schedule): ScheduleSpec {
  return s.spec ?? { kind: 'constant', value: s(1) };
}
